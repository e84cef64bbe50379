/**
 * The business day's orders as the cashier screen gets them (`orders.list`):
 * views with each order's revoke, newest first, each checked against the
 * contract. A busy day has thousands of orders and the screen asks again
 * after every sale and every revoke, so the list is kept, not rebuilt: the
 * first call reads the whole day; later calls read the order change log
 * (migration 003, written by triggers in every writing transaction of any
 * process) and read, view and check again only the orders that changed.
 * When too many changes wait, or the log was pruned past this reader, or the
 * day changes, it reads the whole day again.
 */
import type { Order, Revoke } from '../domain';
import type { Runtime } from '../runtime';
import { lastChangeSeq, ordersChangedSince } from '../store/order-changes';
import { orderViewSchema, type OrderView } from './contract';

/** At most this many orders (as OrdersRepo.listDay). */
const DAY_LIMIT = 10_000;
/** More changed entries than this waiting: reading the day again is cheaper. */
const INCREMENTAL_MAX = 1_000;

type ToView = (order: Order, revoke: Revoke | undefined) => OrderView;

interface DayState {
  day: string;
  /** The change log position this state includes. */
  seq: number;
  bySn: Map<string, OrderView>;
  /** The answer: the same array until something in the day changes. */
  list: OrderView[];
}

export class DayOrders {
  private state: DayState | null = null;

  /** `check` validates one view against the contract (throws when it does not hold). */
  constructor(
    private readonly runtime: Pick<Runtime, 'db' | 'orders' | 'revokes'>,
    private readonly toView: ToView,
    private readonly check: (view: OrderView) => OrderView = (v) => orderViewSchema.parse(v),
  ) {}

  /** The day's views, newest first; the same array as last time when nothing of the day changed. */
  list(day: string): OrderView[] {
    const s = this.state;
    if (s?.day === day) {
      const changed = ordersChangedSince(this.runtime.db, s.seq, INCREMENTAL_MAX);
      if (changed) {
        if (changed.sns.length > 0) this.apply(s, changed.sns);
        s.seq = changed.lastSeq;
        return s.list;
      }
    }
    return this.readDay(day).list;
  }

  private readDay(day: string): DayState {
    // The log position first: a change committed after it is read again next time, never missed.
    const seq = lastChangeSeq(this.runtime.db);
    const revokes = this.runtime.revokes.forDay(day);
    const bySn = new Map<string, OrderView>();
    const list = this.runtime.orders.listDay(day).map((o) => {
      const v = this.check(this.toView(o, revokes.get(o.sn)));
      bySn.set(o.sn, v);
      return v;
    });
    this.state = { day, seq, bySn, list };
    return this.state;
  }

  private apply(s: DayState, sns: string[]): void {
    const orders = this.runtime.orders.repo.bySns(sns);
    const revokes = this.runtime.revokes.forOrders(sns);
    const present = new Set<string>();
    let touched = false;
    for (const o of orders) {
      present.add(o.sn);
      if (o.businessDay !== s.day) {
        touched = s.bySn.delete(o.sn) || touched;
        continue;
      }
      s.bySn.set(o.sn, this.check(this.toView(o, revokes.get(o.sn))));
      touched = true;
    }
    // Changed and gone: deleted (retention).
    for (const sn of sns) if (!present.has(sn)) touched = s.bySn.delete(sn) || touched;
    if (touched) s.list = [...s.bySn.values()].sort(newestFirst).slice(0, DAY_LIMIT);
  }
}

/** The order of OrdersRepo.listDay: finished_at DESC, sn DESC (sn is digits: code-unit order is byte order). */
function newestFirst(a: OrderView, b: OrderView): number {
  return b.finishedAt - a.finishedAt || (a.sn < b.sn ? 1 : a.sn > b.sn ? -1 : 0);
}
