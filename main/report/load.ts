/** Reads one business day's rows for the day report (through the tables' owners) and computes it. */
import { businessDayEnd, businessDayStart } from '../common/time';
import type { Db } from '../store/db';
import { OrdersRepo } from '../store/orders';
import { RefundsRepo } from '../store/refunds';
import { PaymentsRepo, toPayment } from '../store/payments';
import { RevokesRepo } from '../store/revokes';
import { computeDayReport, type DayReport } from './day';
import { computeCounterPayments } from './payments';

export function loadDayReport(db: Db, day: string, now: number): DayReport {
  const orders = new OrdersRepo(db);
  const refundsRepo = new RefundsRepo(db);
  const revokesRepo = new RevokesRepo(db);
  const refunds = refundsRepo.forReport(day);
  // Revokes by the day they were recorded (and every open one), as refunds: one revoked after midnight belongs to that day.
  const revokes = revokesRepo.forReport(day);
  const dayOrders = orders.listDay(day, 1_000_000);
  const ofDay = new Set(dayOrders.map((o) => o.sn));
  // The counter's payments on the day their money moved: their order's day (the main section's), by client_sn.
  const paymentRows = new PaymentsRepo(db).forReport(day, businessDayStart(day), businessDayEnd(day));
  const orderDays = new Map(paymentRows.flatMap((r) => (r.order_day === null ? [] : [[r.client_sn, r.order_day] as const])));
  return computeDayReport(
    day,
    {
      orders: dayOrders,
      revokes,
      refunds,
      refundOrders: orders.bySns([...new Set(refunds.map((r) => r.order_sn))]),
      revokeOrders: orders.bySns([...new Set(revokes.map((r) => r.order_sn).filter((sn) => !ofDay.has(sn)))]),
      // Every revoke and refund of the day's orders, whatever day: what went back here, not elsewhere.
      orderRevokes: revokesRepo.forDay(day),
      orderRefunds: refundsRepo.forOrders([...ofDay]),
      counterPayments: computeCounterPayments(day, paymentRows.map(toPayment), orderDays),
      // An order of another till (imported to void or refund it here) is only the base of those: not a payment here.
      ownTerminals: orders.ownTerminals(),
    },
    now,
  );
}
