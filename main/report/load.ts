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
  // Revokes by the day they were recorded (and every open one), as refunds: one revoked after midnight belongs to that day.
  const revokes = new RevokesRepo(db).forReport(day);
  const dayOrders = orders.listDay(day, 1_000_000);
  const ofDay = new Set(dayOrders.map((o) => o.sn));
  const report = computeDayReport(
    day,
    {
      orders: dayOrders,
      revokes,
      refunds,
      refundOrders: orders.bySns([...new Set(refunds.map((r) => r.order_sn))]),
      revokeOrders: orders.bySns([...new Set(revokes.map((r) => r.order_sn).filter((sn) => !ofDay.has(sn)))]),
    },
    now,
  );
  return { ...report, counterPayments: computeCounterPayments(day, new PaymentsRepo(db).forDay(day).map(toPayment)) };
}
