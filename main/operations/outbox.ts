/**
 * The outbox worker of the money-operation core: which durable rows this
 * process works now. It keeps the in-flight set, claims due rows ahead in
 * batches (a kind's `claim` takes their leases in one transaction), bounds
 * concurrency, sleeps until the next row is due, and tells waiters when it
 * is idle. What a row is and how it is worked (send, query, expire) belongs
 * to the kind (revoke/, later refund/).
 */
import type { Clock } from '../common/time';

export interface OutboxKind<Row extends { id: number }> {
  /** Runs at the start of every pass (deadlines, warnings). */
  sweep(now: number): void;
  /** Rows with work due now whose lease is free or lapsed, the soonest due first (then the oldest). */
  due(now: number, limit: number): Row[];
  /** Takes the leases of up to `max` candidates in one transaction; returns them as stored. */
  claim(candidates: Row[], max: number, now: number): Row[];
  /** Works one claimed row. */
  work(row: Row): Promise<void>;
  /** A row's work failed unexpectedly: give it back. */
  failed(row: Row, err: unknown): void;
  /** Rows claimed but never started (the worker stopped). */
  unclaim(rows: Row[]): void;
  /** Earliest time any row needs this process (due work, a deadline, a warning); null: none. */
  nextWake(): number | null;
}

export interface OutboxOptions {
  clock: Clock;
  /** Rows in flight at once. */
  concurrency: number;
  /** Rows in flight that hold no network slot any more (their answer waits for its commit). */
  answered: () => number;
}

export class Outbox<Row extends { id: number }> {
  private readonly inflight = new Set<number>();
  /** Rows claimed ahead (leased), not started yet. */
  private ready: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private passQueued = false;
  private running = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly kind: OutboxKind<Row>,
    private readonly options: OutboxOptions,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Rows being worked in this process now (by the worker or a caller that took one). */
  get inFlight(): number {
    return this.inflight.size;
  }

  get hasIdleWaiters(): boolean {
    return this.idleWaiters.length > 0;
  }

  /** A caller (a cashier's request) works a row it has just written, outside the worker. */
  take(id: number): void {
    this.inflight.add(id);
  }

  /**
   * A caller (a person's query, the re-check, another kind's request) takes a row only while this process
   * is not working it: one flow per row. A lease keeps other processes out; this keeps a second flow of
   * this process out, which the lease (one owner per process) cannot. False: the row is being worked.
   */
  tryTake(id: number): boolean {
    if (this.isWorked(id)) return false;
    this.inflight.add(id);
    return true;
  }

  /** Resolves once this process no longer works `id` (in flight, or claimed ahead by the worker). */
  async released(id: number): Promise<void> {
    while (this.isWorked(id)) await new Promise((r) => setTimeout(r, 10));
  }

  private isWorked(id: number): boolean {
    return this.inflight.has(id) || this.ready.some((r) => r.id === id);
  }

  done(id: number): void {
    this.inflight.delete(id);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  stop(): void {
    this.running = false;
    const unsent = this.ready.splice(0);
    if (unsent.length) this.kind.unclaim(unsent);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Resolves when no row of this process is in flight (after stop(), before closing the database). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Resolves when nothing is in flight in this process and no open row is due now. */
  async idle(): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs a pass soon (new work, the online signal, a slot freed). */
  wake(): void {
    if (!this.running || this.passQueued) return;
    this.passQueued = true;
    setImmediate(() => {
      this.passQueued = false;
      this.pass();
    });
  }

  /** Nothing in flight or claimed here, and nothing due before `next` (the next wake-up). */
  private isIdle(next: number | null = this.kind.nextWake()): boolean {
    if (this.inflight.size > 0 || this.ready.length > 0) return false;
    return next === null || next > this.options.clock.now();
  }

  private pass(): void {
    if (!this.running) return;
    const { concurrency, clock } = this.options;
    const now = clock.now();
    this.kind.sweep(now);
    const free = concurrency - (this.inflight.size - this.options.answered());
    if (free > 0 && this.ready.length < free) {
      // Claim ahead (one commit for a batch): a slot freed by an answer starts the next row at once.
      const taken = new Set(this.ready.map((r) => r.id));
      const candidates = this.kind.due(now, concurrency * 4).filter((r) => !this.inflight.has(r.id) && !taken.has(r.id));
      this.ready.push(...this.kind.claim(candidates, concurrency * 2 - this.ready.length, now));
    }
    for (let n = Math.min(free, this.ready.length); n > 0; n--) {
      const row = this.ready.shift()!;
      this.inflight.add(row.id);
      void this.kind
        .work(row)
        .catch((err: unknown) => this.kind.failed(row, err))
        .finally(() => {
          this.inflight.delete(row.id);
          this.wake();
        });
    }
    // While rows are in flight or claimed, each one that ends runs this again: the wake-up timer
    // (a look at every open row's due time and deadline) is only needed once nothing is.
    if (this.inflight.size > 0 || this.ready.length > 0) return;
    if (this.isIdle(this.arm())) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Sets the timer for the next wake-up; returns when that is (null: nothing to wake for). */
  private arm(): number | null {
    const next = this.kind.nextWake();
    if (next === null) return null;
    const now = this.options.clock.now();
    if (next >= this.timerAt && this.timer) return next;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    // Bounded so a changed clock (tests, NTP) is noticed; unref so a CLI can exit.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.wake();
    }, Math.min(Math.max(0, next - now), 30_000));
    this.timer.unref();
    return next;
  }
}
