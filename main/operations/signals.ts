/**
 * What the money-operation core tells the app: whether the gateway is
 * reachable (`Connectivity`: one for the runtime, shared by every kind,
 * learned from every call's outcome and from the app's network signal) and
 * how the counter's queue stands (`CounterQueue`: one status for every kind's
 * rows, raised as `queue.changed` at most once per turn of the event loop,
 * however many rows of however many kinds moved: counting is a scan).
 * `QueueSignals` is a kind's handle on the two.
 */
import type { Clock } from '../common/time';
import type { QueueStatus, RuntimeEvents } from '../events';

/** A kind's open rows, counted (its table's `counts()`). */
export interface OpenCounts {
  queued: number;
  pending: number;
  sending: number;
  needsAttention: number;
  /** When the oldest open row was requested (ms), or null. */
  oldestOpenAt: number | null;
}

/** Open rows of several kinds as one: the counts summed, the oldest open row of any of them. */
export function sumCounts(all: readonly OpenCounts[]): OpenCounts {
  const sum: OpenCounts = { queued: 0, pending: 0, sending: 0, needsAttention: 0, oldestOpenAt: null };
  for (const c of all) {
    sum.queued += c.queued;
    sum.pending += c.pending;
    sum.sending += c.sending;
    sum.needsAttention += c.needsAttention;
    if (c.oldestOpenAt !== null && (sum.oldestOpenAt === null || c.oldestOpenAt < sum.oldestOpenAt)) sum.oldestOpenAt = c.oldestOpenAt;
  }
  return sum;
}

/** Counts as a `QueueStatus` at `now`. */
export function toQueueStatus(c: OpenCounts, now: number, online: boolean): QueueStatus {
  return {
    queued: c.queued,
    pending: c.pending,
    sending: c.sending,
    needsAttention: c.needsAttention,
    oldestAgeMs: c.oldestOpenAt === null ? null : Math.max(0, now - c.oldestOpenAt),
    online,
  };
}

/**
 * One gateway, one connectivity. Every kind (revoke, refund, pay) reads and
 * sets this one state, so a change is raised once as `connectivity.changed`
 * (and once as `queue.changed`: the counter's queue follows it), however many
 * kinds share it; each kind follows it (coming back online sends its queued
 * rows) without raising it again.
 */
export class Connectivity {
  private online = true;
  private readonly followers = new Set<(online: boolean) => void>();

  constructor(
    private readonly events: RuntimeEvents,
    private readonly clock: Clock,
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
    return true;
  }
}

/**
 * The counter's queue: one for the runtime, whatever kind a row is. Its
 * status sums every kind's open rows (queued, pending, sending,
 * needsAttention), ages the oldest open row of any kind and carries the
 * shared online flag; `queue.changed` (whoever raises it: a kind, the
 * connectivity, another process's commit), `queue.status` and the CLI's
 * totals all read this one status, so the status bar never shows one kind's
 * counts as "the queue".
 */
export class CounterQueue {
  private readonly kinds: Array<() => OpenCounts> = [];
  private changePending = false;

  /** `isOpen`: false once the database is closed (nothing is counted or raised then). */
  constructor(
    private readonly events: RuntimeEvents,
    private readonly clock: Clock,
    private readonly connectivity: Connectivity,
    private readonly isOpen: () => boolean,
  ) {
    // The 离线 flag is part of the status: a change of it is a change of the queue.
    connectivity.follow(() => this.changed());
  }

  /** A kind's rows join the status (each kind once, when it is made). */
  add(counts: () => OpenCounts): void {
    this.kinds.push(counts);
  }

  /** Every kind's open rows as one status. */
  status(): QueueStatus {
    return toQueueStatus(sumCounts(this.kinds.map((counts) => counts())), this.clock.now(), this.connectivity.isOnline);
  }

  /** Rows moved (of any kind) or the connectivity changed: one `queue.changed` in the next turn, for everything that moved in this one. */
  changed(): void {
    if (this.changePending || this.events.listenerCount('queue.changed') === 0) return;
    this.changePending = true;
    setImmediate(() => {
      this.changePending = false;
      let status: QueueStatus;
      try {
        if (!this.isOpen()) return;
        status = this.status();
      } catch {
        // The store could not be read just now (a disk error): no status this turn; the next change counts again.
        return;
      }
      this.events.emit('queue.changed', status);
    });
  }
}

/** A kind's handle on the shared connectivity and the counter's queue. */
export class QueueSignals {
  constructor(
    private readonly shared: Connectivity,
    private readonly queue: CounterQueue,
  ) {}

  get isOnline(): boolean {
    return this.shared.isOnline;
  }

  /** A call's outcome showed whether the gateway is reachable (the shared state: raised once for every kind). */
  connectivity(online: boolean): boolean {
    return this.shared.set(online);
  }

  /** Some of this kind's rows moved: the counter's queue is raised (once per turn, with every kind's rows). */
  queueChanged(): void {
    this.queue.changed();
  }
}
