/** Reads one business day's rows for the day report (through the tables' owners) and computes it. */
import type { Db } from '../store/db';
import { OrdersRepo } from '../store/orders';
import { RefundsRepo } from '../store/refunds';
import { PaymentsRepo, toPayment } from '../store/payments';
import { RevokesRepo } from '../store/revokes';
import { computeDayReport, type DayReport } from './day';
import { computeCounterPayments } from './payments';

export function loadDayReport(db: Db, day: string, now: number): DayReport {
  const orders = new OrdersRepo(db);
  const refunds = new RefundsRepo(db).forReport(day);
  const report = computeDayReport(
    day,
    { orders: orders.listDay(day, 1_000_000), revokes: new RevokesRepo(db).forDay(day), refunds, refundOrders: orders.bySns([...new Set(refunds.map((r) => r.order_sn))]) },
    now,
  );
  return { ...report, counterPayments: computeCounterPayments(day, new PaymentsRepo(db).forDay(day).map(toPayment)) };
}
