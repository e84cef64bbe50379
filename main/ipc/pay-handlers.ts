/**
 * The payment IPC handlers (merged into the handler table at one line in
 * handlers.ts), the payment view and the `payment.updated` event view. What
 * protects money is decided here in the main process: who takes the payment
 * (the window's signed-in operator), that an amount already open is not
 * charged again without the cashier's confirmation (checked by the engine in
 * the write-ahead row's own IMMEDIATE transaction, so it holds for a burst and
 * across processes), and a supervisor's approval above store IT's threshold
 * (`payApproval`, off by default).
 */
import { receiptLines } from '../common/receipt-text';
import { duplicateAmount, paymentHeadline, paymentOutcome } from '../operations/pay/messages';
import { newClientSn } from '../operations/pay/request';
import { renderHtml } from '../printer';
import type { Runtime } from '../runtime';
import type { Payment } from '../store/payments';
import { safeStrings } from '../util/text';
import type { PaymentView } from './contract';
import type { ChannelImpls } from './handler-types';

export type PayChannel = 'pay.request' | 'pay.queryAgain' | 'pay.listOpen' | 'pay.receipt';

export function toPaymentView(p: Payment): PaymentView {
  const words = paymentHeadline(p);
  return safeStrings({
    id: p.id,
    clientSn: p.clientSn,
    method: p.method,
    amountCents: p.amountCents,
    state: p.state,
    outcome: paymentOutcome(p),
    headlineZh: words.zh,
    headlineEn: words.en,
    payway: p.payway,
    paywayName: p.paywayName,
    orderSn: p.orderSn,
    qrCode: p.qrCode,
    windowUntil: p.windowUntil,
    operatorName: p.operatorName,
    requestedAt: p.requestedAt,
    paidAt: p.paidAt,
    moneyReturned: p.moneyReturned,
    cancels: p.cancels,
    queries: p.queries,
    error: p.error,
  });
}

export function createPayHandlers(runtime: Runtime): ChannelImpls<PayChannel> {
  return {
    'pay.request': async (input, { actor, caller, policy }) => {
      policy.identify(caller);
      const refuseSameAmountOpen = input.confirmDuplicate !== true;
      // A quick look before any PIN is checked: no supervisor's try is spent on a request refused anyway.
      const open = refuseSameAmountOpen ? runtime.payments.openWithAmount(input.amountCents) : undefined;
      if (open) throw duplicateAmount(open);
      // Above store IT's threshold (off by default) a supervisor approves, recorded with the attempt's client_sn.
      const clientSn = newClientSn(runtime.clock.now());
      const who = await policy.authorizeMoney('pay', { orderSn: clientSn, amountCents: input.amountCents }, caller, input.approval);
      const request =
        input.method === 'barcode'
          ? { method: 'barcode' as const, amountCents: input.amountCents, barcode: input.barcode, clientSn }
          : { method: 'qr' as const, amountCents: input.amountCents, payway: input.payway, clientSn };
      return toPaymentView(await runtime.payments.request(request, who, actor, { refuseSameAmountOpen }));
    },
    'pay.queryAgain': async (input, { actor }) => toPaymentView(await runtime.payments.queryAgain(input.paymentId, actor)),
    'pay.listOpen': () => runtime.payments.open().map(toPaymentView),
    'pay.receipt': (input) => {
      const stored = runtime.paymentPrinting.receiptFor(input.paymentId);
      if (!stored) return null;
      const job = runtime.printing.job(stored.jobId);
      return { jobId: stored.jobId, state: job?.state ?? 'pending', copy: false, html: renderHtml(stored.model), lines: receiptLines(stored.model.items) };
    },
  };
}
