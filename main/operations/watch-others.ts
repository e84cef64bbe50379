/**
 * Changes made by another process on the same data dir (`upay-pos queue
 * drain`, `pay query`, `revoke`, `refund`, an import) reach this process's
 * listeners as the same events its own changes raise: events are per
 * process, so without this the window would show a revoke the CLI settled
 * as still queued until someone tapped refresh.
 *
 * Every `everyMs` (an unref'd timer) it reads `PRAGMA data_version` on the
 * runtime's own connection: the number changes only after another
 * connection's commit, so a quiet look costs that one read. When it changed,
 * each kind's rows are read again where something can have moved: the open
 * rows (state index), the rows this process last saw or published open (by
 * id), and rows made since the newest it knew (by id); a row whose state or
 * updated_at differs from what this process last published or saw gets its
 * `<kind>.updated` event. Orders in the change log since the last look get
 * one `orders.changed`, less those a money event just named; when a row of
 * any kind moved, the counter's queue is raised (`queue.changed`, every
 * kind's rows, coalesced with whatever else moved in the turn). The payloads
 * are the same views this process's own events carry (no key, no secret).
 */
import type { RuntimeEvents } from '../events';
import { dataVersion, newestId, rowsAfter, rowsByIds } from '../store/external-changes';
import type { OperationRepo } from '../store/operation-repo';
import { lastChangeSeq, orderChangesAfter } from '../store/order-changes';
import { PaymentsRepo, toPayment, type PaymentRow } from '../store/payments';
import { RefundsRepo, toRefund, type RefundRow } from '../store/refunds';
import { RevokesRepo, toRevoke, type RevokeRow } from '../store/revokes';
import type { OperationRow } from '../store/rows';
import type { Db } from '../store/db';

/** How often another process's commits are looked for by default (ms). */
export const WATCH_OTHERS_EVERY_MS = 1_000;
/** Most rows of one kind, and most change-log entries, read in one look (the rest on the next). */
const CHUNK = 500;

export interface WatchOthersDeps {
  db: Db;
  events: RuntimeEvents;
  /** Another process moved a row (of any kind): the counter's queue changed (CounterQueue.changed: one `queue.changed` per turn). */
  queueChanged?: () => void;
  everyMs?: number;
  log?: (line: string) => void;
}

/** What this process last published or saw of a row: its state and updated_at. */
const mark = (state: string, updatedAt: number): string => `${state}@${updatedAt}`;

/** One kind's rows as this process knows them. */
class Watched<Row extends OperationRow> {
  /** Rows open when last seen, and rows this process published since the last look, by id: their marks. */
  private readonly known = new Map<number, string>();
  /** Of those, the ones published final (dropped once no other process can have touched them since). */
  private finals: number[] = [];
  /** Rows up to this id have been read or were made by this process while no other one committed. */
  private newest = 0;
  private ownNewest = 0;
  /** More rows were made than one look reads: look again without waiting for another commit. */
  behind = false;

  constructor(
    private readonly repo: OperationRepo<Row>,
    /** Emits the row's event; returns the order it names (for `orders.changed`), if any. */
    private readonly publish: (row: Row) => string | null,
  ) {}

  /** Where the file stands now (at start): the open rows and the newest id. */
  baseline(): void {
    for (const r of this.repo.open()) this.known.set(r.id, mark(r.state, r.updated_at));
    this.newest = newestId(this.repo.db, this.repo.spec.table);
  }

  /** This process published the row (its own change, or one a look found). */
  noted(id: number, state: string, updatedAt: number): void {
    this.known.set(id, mark(state, updatedAt));
    if (!this.repo.isOpen(state)) this.finals.push(id);
    if (id > this.ownNewest) this.ownNewest = id;
  }

  /** No other connection committed since the last look: every row made since then is this process's own. */
  settle(): void {
    if (this.behind) return;
    if (this.ownNewest > this.newest) this.newest = this.ownNewest;
    this.dropFinals();
  }

  /** Publishes each row another process changed; returns the orders they name. */
  look(): string[] {
    const { db, spec } = this.repo;
    const rows = new Map<number, Row>();
    for (const r of this.repo.open()) rows.set(r.id, r);
    const gone = [...this.known.keys()].filter((id) => !rows.has(id));
    for (const r of rowsByIds<Row>(db, spec.table, gone)) rows.set(r.id, r);
    const made = rowsAfter<Row>(db, spec.table, this.newest, CHUNK);
    for (const r of made) rows.set(r.id, r);
    this.behind = made.length === CHUNK;
    if (made.length > 0) this.newest = made[made.length - 1]!.id;
    const orders: string[] = [];
    for (const r of [...rows.values()].sort((a, b) => a.id - b.id)) {
      if (this.known.get(r.id) !== mark(r.state, r.updated_at)) {
        const sn = this.publish(r);
        if (sn) orders.push(sn);
      }
      if (this.repo.isOpen(r.state)) this.known.set(r.id, mark(r.state, r.updated_at));
      else if (r.id <= this.newest) this.known.delete(r.id);
    }
    for (const id of gone) if (!rows.has(id)) this.known.delete(id);
    this.dropFinals();
    return orders;
  }

  /** Rows published final that every look since has covered: a final row never changes again. */
  private dropFinals(): void {
    this.finals = this.finals.filter((id) => {
      if (id > this.newest) return true;
      this.known.delete(id);
      return false;
    });
  }
}

export class WatchOthers {
  private readonly kinds: { revokes: Watched<RevokeRow>; refunds: Watched<RefundRow>; payments: Watched<PaymentRow> };
  private readonly offs: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private version = 0;
  private seq = 0;
  private ordersBehind = false;
  /** This process published a change since the last tick (its order changes are in the log too). */
  private ownChanges = false;
  private lastError = '';
  /** This look published a row (of any kind). */
  private moved = false;

  constructor(private readonly deps: WatchOthersDeps) {
    const { db, events } = deps;
    const publish = <Row>(emit: (r: Row) => string | null) => (r: Row) => ((this.moved = true), emit(r));
    this.kinds = {
      revokes: new Watched(new RevokesRepo(db), publish((r) => (events.emit('revoke.updated', toRevoke(r)), r.order_sn))),
      refunds: new Watched(new RefundsRepo(db), publish((r) => (events.emit('refund.updated', toRefund(r)), r.order_sn))),
      payments: new Watched(new PaymentsRepo(db), publish((r) => (events.emit('payment.updated', toPayment(r)), r.order_sn || null))),
    };
  }

  /** Takes where the file stands now and starts looking every `everyMs`. */
  start(): void {
    if (this.timer) return;
    // What this process publishes itself is what its listeners already have.
    const { events } = this.deps;
    const note = (w: { noted(id: number, state: string, updatedAt: number): void }) => (p: { id: number; state: string; updatedAt: number }) => {
      this.ownChanges = true;
      w.noted(p.id, p.state, p.updatedAt);
    };
    const onRevoke = note(this.kinds.revokes);
    const onRefund = note(this.kinds.refunds);
    const onPayment = note(this.kinds.payments);
    events.on('revoke.updated', onRevoke);
    events.on('refund.updated', onRefund);
    events.on('payment.updated', onPayment);
    this.offs.push(
      () => events.off('revoke.updated', onRevoke),
      () => events.off('refund.updated', onRefund),
      () => events.off('payment.updated', onPayment),
    );
    this.version = dataVersion(this.deps.db);
    for (const w of Object.values(this.kinds)) w.baseline();
    this.seq = lastChangeSeq(this.deps.db);
    this.timer = setInterval(() => this.tick(), this.deps.everyMs ?? WATCH_OTHERS_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const off of this.offs.splice(0)) off();
  }

  private tick(): void {
    if (!this.deps.db.open) return this.stop();
    try {
      this.look();
      this.lastError = '';
    } catch (err) {
      // A busy or failing disk: said once, tried again on the next tick.
      const message = (err as Error).message;
      if (message !== this.lastError) this.deps.log?.(`watching other processes' changes: ${message}`);
      this.lastError = message;
    }
  }

  /** One look: nothing but the pragma unless another connection committed (or the last look had more to read). */
  look(): void {
    const version = dataVersion(this.deps.db);
    const behind = this.ordersBehind || Object.values(this.kinds).some((w) => w.behind);
    if (version === this.version && !behind) {
      for (const w of Object.values(this.kinds)) w.settle();
      // Whatever the log gained since the last look is this process's own: the window has those rows.
      if (this.ownChanges) this.seq = lastChangeSeq(this.deps.db);
      this.ownChanges = false;
      return;
    }
    this.ownChanges = false;
    this.moved = false;
    try {
      const named = new Set([...this.kinds.revokes.look(), ...this.kinds.refunds.look(), ...this.kinds.payments.look()]);
      this.lookAtOrders(named);
      // Only now: a look that failed half way is made again on the next tick (what it published is noted, not repeated).
      this.version = version;
    } finally {
      // Any kind's row moved (also in a look that failed after publishing it): one queue.changed, with every kind's rows.
      if (this.moved) this.deps.queueChanged?.();
    }
  }

  /** Orders in the change log since the last look; those a money event just named already have their row. */
  private lookAtOrders(named: Set<string>): void {
    const entries = orderChangesAfter(this.deps.db, this.seq, CHUNK);
    this.ordersBehind = entries.length === CHUNK;
    if (entries.length === 0) return;
    this.seq = entries[entries.length - 1]![0];
    const sns = [...new Set(entries.map((e) => e[1]))].filter((sn) => !named.has(sn));
    if (sns.length > 0) this.deps.events.emit('orders.changed', { sns });
  }
}
