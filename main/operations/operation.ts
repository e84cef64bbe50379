/**
 * What every kind of money operation (revoke/, refund/, pay/) is to the rest of
 * the app, once: its outbox worker and queue signals, the queue's status,
 * the connectivity signal, start (resuming what a crashed process left),
 * stop, settle, idle and kick. A kind says how its rows are claimed, worked,
 * swept and resumed; the queue mechanics are not written twice.
 */
import type { Clock } from '../common/time';
import type { QueueStatus, RuntimeEvents } from '../events';
import type { OrderService } from '../orders/service';
import type { Db } from '../store/db';
import type { Provisioning } from '../terminal/provisioning';
import type { UpayClient } from '../upay/client';
import type { OrderSnapshot } from '../upay/result';
import type { OperationTiming } from './timing';
import { Outbox } from './outbox';
import { QueueSignals, toQueueStatus, type Connectivity, type CounterQueue, type OpenCounts } from './signals';

export type { OpenCounts } from './signals';

export interface OperationCore {
  db: Db;
  clock: Clock;
  events: RuntimeEvents;
  /** The gateway's reachability: one for the runtime, shared by every kind (signals.ts). */
  connectivity: Connectivity;
  /** The counter's queue: one for the runtime, every kind's rows in one status (signals.ts). */
  queue: CounterQueue;
  /** Rows in flight at once. */
  concurrency?: number;
  log?: (line: string) => void;
}

/** What every kind is given besides the core: the gateway, the terminal's signer, the orders; timing and randomness (tests). */
export interface OperationDeps<Point extends string> extends OperationCore {
  client: UpayClient;
  provisioning: Provisioning;
  orders: OrderService;
  timing?: Partial<OperationTiming>;
  random?: () => number;
  /** Asks the gateway about another kind's open operation (any answer about an order settles what is open on it). */
  askAbout?(kind: string, id: number): Promise<unknown>;
  /** Every answer that carried the order's status, for the other kinds to settle their open row of that order. */
  heard?(kind: string, snapshot: OrderSnapshot): void;
  /** Crash-test hook: called at named points between durable steps (never set in production). */
  checkpoint?(point: Point): void;
}

/** The statements of a kind's table the queue mechanics need (store/revokes.ts, store/refunds.ts). */
export interface OperationRows<Row> {
  due(now: number, limit: number): Row[];
  counts(): OpenCounts;
  /** The online signal: every queued row is due now. */
  dueAllQueued(now: number): void;
}

export abstract class MoneyOperations<Row extends { id: number }, Repo extends OperationRows<Row>> {
  protected readonly outbox: Outbox<Row>;
  protected readonly signals: QueueSignals;

  constructor(
    private readonly core: OperationCore,
    label: string,
    protected readonly repo: Repo,
  ) {
    this.signals = new QueueSignals(core.connectivity, core.queue);
    // This kind's rows are part of the counter's queue (what `queue.changed` and `queue.status` carry).
    core.queue.add(() => repo.counts());
    // Whichever kind (or the app) learned it: back online, this kind's queued rows go at once.
    core.connectivity.follow((online) => {
      if (online && core.db.open) this.sendQueuedNow();
    });
    this.outbox = new Outbox<Row>(
      {
        sweep: (now) => this.sweep(now),
        due: (now, limit) => repo.due(now, limit),
        claim: (candidates, max, now) => this.claim(candidates, max, now),
        work: (row) => this.work(row),
        failed: (row, err) => {
          core.log?.(`${label} ${row.id}: ${(err as Error).message}`);
          this.giveBack(row);
        },
        unclaim: (rows) => this.unclaim(rows),
        nextWake: () => this.nextWake(),
      },
      { clock: core.clock, concurrency: Math.max(1, core.concurrency ?? 4), answered: () => this.answered() },
    );
  }

  // ---------- what a kind supplies ----------

  /** Deadlines and warnings, at the start of every pass. */
  protected abstract sweep(now: number): void;
  /** Takes the leases of up to `max` candidates in one transaction; returns them as stored. */
  protected abstract claim(candidates: Row[], max: number, now: number): Row[];
  protected abstract work(row: Row): Promise<void>;
  /** A row's work failed unexpectedly: release it, due again later. */
  protected abstract giveBack(row: Row): void;
  /** Rows claimed but never started (the worker stopped). */
  protected abstract unclaim(rows: Row[]): void;
  protected abstract nextWake(): number | null;
  /** Startup: rows a crashed process left (`sending` and `pending` resolved by query first, `queued` sent). */
  protected abstract resume(): void;
  /** Rows in flight that hold no network slot any more (their answer waits for its commit). */
  protected answered(): number {
    return 0;
  }

  // ---------- the same for every kind ----------

  /**
   * This kind's rows only (the CLI's per-kind lines). What the status bar shows as the queue, `queue.status` and
   * `queue.changed`, is the counter's: every kind's rows (CounterQueue.status(), the runtime's queueStatus()).
   */
  queueStatus(): QueueStatus {
    return toQueueStatus(this.repo.counts(), this.core.clock.now(), this.signals.isOnline);
  }

  isOnline(): boolean {
    return this.signals.isOnline;
  }

  /**
   * The app's connectivity signal, for every kind (the state is shared): a change is raised once and
   * coming back online sends every kind's queue at once; online when already online sends this kind's
   * queue now ("drain now").
   */
  setOnline(online: boolean): void {
    if (!this.signals.connectivity(online) && online) this.sendQueuedNow();
  }

  /** Every queued row due now, and the worker woken. */
  private sendQueuedNow(): void {
    this.repo.dueAllQueued(this.core.clock.now());
    this.kick();
  }

  /** Starts the outbox worker, after resuming what a crashed process left. */
  start(): void {
    if (this.outbox.isRunning) return;
    this.resume();
    this.outbox.start();
  }

  stop(): void {
    this.outbox.stop();
  }

  /** Resolves when no gateway call of this process is in flight (after stop(), before closing the database). */
  settled(): Promise<void> {
    return this.outbox.settled();
  }

  /** Resolves when nothing is in flight in this process and no open row is due now. */
  idle(): Promise<void> {
    return this.outbox.idle();
  }

  /** Runs the worker now (tests, "drain now", the online signal). */
  kick(): void {
    this.outbox.wake();
  }
}
