/**
 * What the money-operation core tells the app about its queue as a whole:
 * whether the gateway is reachable (learned from every call's outcome) and
 * that the queue changed (at most once per turn of the event loop, however
 * many rows moved: counting is a scan).
 */
import type { Clock } from '../common/time';
import type { QueueStatus, RuntimeEvents } from '../events';

export class QueueSignals {
  private online = true;
  private changePending = false;

  /** `status`: the queue as it is now; undefined once the database is closed. */
  constructor(
    private readonly events: RuntimeEvents,
    private readonly clock: Clock,
    private readonly status: () => QueueStatus | undefined,
  ) {}

  get isOnline(): boolean {
    return this.online;
  }

  /** A call's outcome showed whether the gateway is reachable. */
  connectivity(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    this.events.emit('connectivity.changed', { online, at: this.clock.now() });
    this.queueChanged();
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
