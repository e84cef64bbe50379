/**
 * The refund and day-report IPC handlers (merged into the handler table at
 * one line in handlers.ts), their views, and the `refund.updated` event view.
 * Amount, state and approval are decided here in the main process (the
 * operators policy's authorizeMoney): the renderer only asks.
 */
import { receiptLines } from '../common/receipt-text';
import { businessDay } from '../common/time';
import { renderHtml } from '../printer';
import type { Runtime } from '../runtime';
import type { Refund } from '../store/refunds';
import { safeStrings } from '../util/text';
import type { OrderRef } from '../orders/service';
import type { PrintJobView, RefundView } from './contract';
import type { ChannelImpls } from './handler-types';
import { operationProgress } from './views';

export type RefundChannel = 'refund.request' | 'refund.queryAgain' | 'refund.forOrder' | 'refund.receipt' | 'refund.reprint' | 'report.day' | 'report.print';

export function toRefundView(r: Refund): RefundView {
  return safeStrings({
    id: r.id,
    orderSn: r.orderSn,
    clientSn: r.clientSn,
    requestNo: r.requestNo,
    amountCents: r.amountCents,
    state: r.state,
    outcome: r.state === 'sending' ? 'pending' : r.state,
    operatorId: r.operatorId,
    operatorName: r.operatorName,
    ...operationProgress(r),
    refundedAt: r.refundedAt,
    error: r.error,
    lastResultCode: r.lastResultCode,
  });
}

/** What the order has refunded or is refunding: the gateway's own total, or ours if it has not caught up. */
function refundedSoFar(order: { totalCents: number; netCents: number }, refunds: readonly Refund[]): number {
  const sum = (states: readonly string[]) => refunds.filter((r) => states.includes(r.state)).reduce((n, r) => n + r.amountCents, 0);
  return Math.max(order.totalCents - order.netCents, sum(['refunded'])) + sum(['sending', 'queued', 'pending', 'needs_attention']);
}

export function createRefundHandlers(runtime: Runtime, jobView: (jobId: number) => PrintJobView): ChannelImpls<RefundChannel> {
  const report = (day: string | undefined) => {
    const r = runtime.dayReport(day ?? businessDay(runtime.clock.now()));
    const model = runtime.refundPrinting.dayReportModel(r);
    return safeStrings({ ...r, html: renderHtml(model), lines: receiptLines(model.items) });
  };
  return {
    'refund.request': async (input, { actor, caller, policy }) => {
      const ref: OrderRef = 'sn' in input ? { sn: input.sn } : { clientSn: input.clientSn };
      const order = await runtime.orders.findOrImport(ref, actor);
      const amount = input.amountCents ?? runtime.refunds.refundable(order);
      // Who refunds and who approves, before any refund call: refunds need a supervisor by default (settings).
      // The rule is judged on the order's refunds so far plus this one, so splitting a refund does not dodge it.
      const subject = { orderSn: order.sn, amountCents: amount, cumulativeCents: refundedSoFar(order, runtime.refunds.forOrder(order.sn)) + amount };
      const who = await policy.authorizeMoney('refund', subject, caller, input.approval);
      return toRefundView(await runtime.refunds.request(ref, input.amountCents ?? 'full', who, actor));
    },
    'refund.queryAgain': async (input, { actor }) => toRefundView(await runtime.refunds.queryAgain(input.refundId, actor)),
    'refund.forOrder': (input) => {
      const order = runtime.orders.get(input.sn);
      return { refundableCents: order ? runtime.refunds.refundable(order) : 0, refunds: runtime.refunds.forOrder(input.sn).map(toRefundView) };
    },
    'refund.receipt': (input) => {
      const stored = runtime.refundPrinting.receiptFor(input.refundId);
      if (!stored) return null;
      const job = runtime.printing.job(stored.jobId);
      return { jobId: stored.jobId, state: job?.state ?? 'pending', copy: false, html: renderHtml(stored.model), lines: receiptLines(stored.model.items) };
    },
    'refund.reprint': (input, { actor }) => jobView(runtime.refundPrinting.reprint(input.refundId, actor)),
    'report.day': (input) => report(input.day),
    'report.print': (input, { actor }) => jobView(runtime.refundPrinting.printDayReport(runtime.dayReport(input.day ?? businessDay(runtime.clock.now())), actor)),
  };
}
