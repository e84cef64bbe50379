/**
 * The business day's orders as the cashier screen gets them (`orders.list`):
 * views with each order's revoke, newest first (the view and its check are
 * the caller's: the IPC contract's). A busy day has thousands of orders and the screen asks again
 * after every sale and every revoke, so the list is kept, not rebuilt: the
 * first call reads the whole day; later calls read the order change log
 * (migration 003, written by triggers in every writing transaction of any
 * process) and read, view and check again only the orders that changed.
 * When too many changes wait, or the log was pruned past this reader, or the
 * day changes, it reads the whole day again.
 */
import type { Order, Revoke } from '../domain';
import type { Refund } from '../store/refunds';
import type { OrderService } from './service';

/** What the list needs of a view: the order's key and the list's order. */
export interface DayView {
  sn: string;
  finishedAt: number;
}

/** The services it reads: orders (with the change log), each order's revoke and its refunds. */
export interface DayOrdersSources {
  orders: Pick<OrderService, 'listDay' | 'bySns' | 'changeSeq' | 'changedSince'>;
  revokes: { forDay(day: string): Map<string, Revoke>; forOrders(sns: readonly string[]): Map<string, Revoke> };
  refunds?: { forOrder(sn: string): Refund[] };
}

/** At most this many orders (as OrdersRepo.listDay). */
const DAY_LIMIT = 10_000;
/** More changed entries than this waiting: reading the day again is cheaper. */
const INCREMENTAL_MAX = 1_000;

/** Builds (and checks: it throws when the view does not hold) one order's view. */
type ToView<V> = (order: Order, revoke: Revoke | undefined, refunds: Refund[]) => V;

interface DayState<V> {
  day: string;
  /** The change log position this state includes. */
  seq: number;
  bySn: Map<string, V>;
  /** The answer: the same array until something in the day changes. */
  list: V[];
}

export class DayOrders<V extends DayView> {
  private state: DayState<V> | null = null;
  /** Orders whose refunds changed in this process (the change log follows orders and revokes only). */
  private touched = new Set<string>();

  constructor(
    private readonly sources: DayOrdersSources,
    private readonly toView: ToView<V>,
  ) {}

  /** Marks an order as changed (a refund's update): the next `list` reads it again. */
  touch(sn: string): void {
    this.touched.add(sn);
  }

  /** One order's view as the list holds it now (after `list` caught up), or undefined when it is not of the day. */
  row(day: string, sn: string): V | undefined {
    this.list(day);
    return this.state?.day === day ? this.state.bySn.get(sn) : undefined;
  }

  /** The day's views, newest first; the same array as last time when nothing of the day changed. */
  list(day: string): V[] {
    const s = this.state;
    if (s?.day === day) {
      const changed = this.sources.orders.changedSince(s.seq, INCREMENTAL_MAX);
      if (changed) {
        const sns = this.touched.size > 0 ? [...new Set([...changed.sns, ...this.takeTouched()])] : changed.sns;
        if (sns.length > 0) this.apply(s, sns);
        s.seq = changed.lastSeq;
        return s.list;
      }
    }
    this.touched.clear();
    return this.readDay(day).list;
  }

  private takeTouched(): string[] {
    const sns = [...this.touched];
    this.touched.clear();
    return sns;
  }

  private refundsOf(sn: string): Refund[] {
    return this.sources.refunds ? this.sources.refunds.forOrder(sn) : [];
  }

  private readDay(day: string): DayState<V> {
    // The log position first: a change committed after it is read again next time, never missed.
    const seq = this.sources.orders.changeSeq();
    const revokes = this.sources.revokes.forDay(day);
    const bySn = new Map<string, V>();
    const list = this.sources.orders.listDay(day).map((o) => {
      const v = this.toView(o, revokes.get(o.sn), this.refundsOf(o.sn));
      bySn.set(o.sn, v);
      return v;
    });
    this.state = { day, seq, bySn, list };
    return this.state;
  }

  private apply(s: DayState<V>, sns: string[]): void {
    const orders = this.sources.orders.bySns(sns);
    const revokes = this.sources.revokes.forOrders(sns);
    const present = new Set<string>();
    let touched = false;
    for (const o of orders) {
      present.add(o.sn);
      if (o.businessDay !== s.day) {
        touched = s.bySn.delete(o.sn) || touched;
        continue;
      }
      s.bySn.set(o.sn, this.toView(o, revokes.get(o.sn), this.refundsOf(o.sn)));
      touched = true;
    }
    // Changed and gone: deleted (retention).
    for (const sn of sns) if (!present.has(sn)) touched = s.bySn.delete(sn) || touched;
    if (touched) s.list = [...s.bySn.values()].sort(newestFirst).slice(0, DAY_LIMIT);
  }
}

/** The order of OrdersRepo.listDay: finished_at DESC, sn DESC (sn is digits: code-unit order is byte order). */
function newestFirst(a: DayView, b: DayView): number {
  return b.finishedAt - a.finishedAt || (a.sn < b.sn ? 1 : a.sn > b.sn ? -1 : 0);
}
