/**
 * What the money-operation core tells the app: whether the gateway is
 * reachable (`Connectivity`: one for the runtime, shared by every kind,
 * learned from every call's outcome and from the app's network signal) and
 * that a kind's queue changed (`QueueSignals`: at most once per turn of the
 * event loop, however many rows moved: counting is a scan).
 */
import type { Clock } from '../common/time';
import type { QueueStatus, RuntimeEvents } from '../events';

/**
 * One gateway, one connectivity. Every kind (revoke, refund, pay) reads and
 * sets this one state, so a change is raised once as `connectivity.changed`
 * (and once as `queue.changed`, with `status`), however many kinds share it;
 * each kind follows it (coming back online sends its queued rows) without
 * raising it again.
 */
export class Connectivity {
  private online = true;
  private statusPending = false;
  private readonly followers = new Set<(online: boolean) => void>();

  /** `status`: the queue `queue.changed` carries after a change (undefined: none, e.g. the database is closed). */
  constructor(
    private readonly events: RuntimeEvents,
    private readonly clock: Clock,
    private readonly status?: () => QueueStatus | undefined,
  ) {}

  get isOnline(): boolean {
    return this.online;
  }

  /** Called with the new state on every change (before the event is raised); returns the unsubscribe. */
  follow(react: (online: boolean) => void): () => void {
    this.followers.add(react);
    return () => this.followers.delete(react);
  }

  /** A call's outcome or the app's signal showed whether the gateway is reachable; true when that changed it. */
  set(online: boolean): boolean {
    if (online === this.online) return false;
    this.online = online;
    for (const react of [...this.followers]) react(online);
    this.events.emit('connectivity.changed', { online, at: this.clock.now() });
    this.statusChanged();
    return true;
  }

  /** One `queue.changed` for the change (the status bar's 离线 flag), in the next turn: a flap within one turn raises one. */
  private statusChanged(): void {
    if (!this.status || this.statusPending || this.events.listenerCount('queue.changed') === 0) return;
    this.statusPending = true;
    setImmediate(() => {
      this.statusPending = false;
      const status = this.status?.();
      if (status) this.events.emit('queue.changed', status);
    });
  }
}

export class QueueSignals {
  private changePending = false;

  /** `shared`: the runtime's connectivity; `status`: the queue as it is now, undefined once the database is closed. */
  constructor(
    private readonly events: RuntimeEvents,
    private readonly shared: Connectivity,
    private readonly status: () => QueueStatus | undefined,
  ) {}

  get isOnline(): boolean {
    return this.shared.isOnline;
  }

  /** A call's outcome showed whether the gateway is reachable (the shared state: raised once for every kind). */
  connectivity(online: boolean): boolean {
    return this.shared.set(online);
  }

  queueChanged(): void {
    if (this.changePending || this.events.listenerCount('queue.changed') === 0) return;
    this.changePending = true;
    setImmediate(() => {
      this.changePending = false;
      const status = this.status();
      if (status) this.events.emit('queue.changed', status);
    });
  }
}
