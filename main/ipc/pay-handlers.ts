/**
 * The payment IPC handlers (merged into the handler table at one line in
 * handlers.ts), the payment view and the `payment.updated` event view. What
 * protects money is decided here in the main process: who takes the payment
 * (the window's signed-in operator), that an amount already open is not
 * charged again without the cashier's confirmation naming that open payment,
 * and that no more than the counter's cap of payments is open at once (both
 * checked by the engine in the write-ahead row's own IMMEDIATE transaction, so
 * they hold for a burst and across processes), a supervisor's approval above store IT's threshold
 * (`payApproval`, off by default), and, when a request fails unexpectedly,
 * whether its payment was recorded (its view) or not (PAYMENT_NOT_RECORDED:
 * no money taken), read from the write-ahead row rather than guessed by the screen.
 */
import { receiptLines } from '../common/receipt-text';
import { PosError, toPosError } from '../errors';
import { paymentHeadline, paymentOutcome } from '../operations/pay/messages';
import { newClientSn } from '../operations/pay/request';
import { renderHtml } from '../printer';
import type { Runtime } from '../runtime';
import type { Payment } from '../store/payments';
import { safeStrings } from '../util/text';
import { PAY_NOT_RECORDED, type PaymentView, type PayNotRecordedDetails } from './contract';
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

/**
 * Refusals `payments.request` makes before it writes the attempt's row, each with its own clear words (the
 * counter's confirmation, a bad input, no terminal): passed on as they are when no row exists.
 */
const OWN_REFUSALS: ReadonlySet<string> = new Set(['PAYMENT_SAME_AMOUNT_OPEN', 'PAYMENT_TOO_MANY_OPEN', 'INVALID_INPUT', 'NOT_ACTIVATED', 'OPERATION_OPEN']);

/** No row of the attempt: nothing was recorded or sent, so no money was taken; `cause` is what failed. */
function paymentNotRecorded(cause: PosError, clientSn: string): PosError {
  const details: PayNotRecordedDetails = { clientSn, cause: cause.code, causeMessage: cause.messageEn, causeMessageZh: cause.messageZh };
  return new PosError(
    PAY_NOT_RECORDED,
    `未收款（钱款未扣）：这笔收款没有记录，也没有发出，可以再收一次。原因：${cause.messageZh}`,
    `Not paid (no money taken): this payment was not recorded and not sent; it can be charged again. Cause: ${cause.messageEn}`,
    details,
  );
}

/**
 * `payments.request` threw (not a gateway outcome: those are states). Whether money may have moved is the
 * question the cashier needs answered, and the write-ahead row answers it: it is committed before anything is
 * sent. A row with the attempt's client_sn → it may have been sent: its view (正在确认 while open; the worker,
 * the re-check or 再次查询 resolves it), so the screen keeps it open like any payment. No row → nothing was
 * sent: PAYMENT_NOT_RECORDED (未收款（钱款未扣）), naming the cause. The row cannot be read → the original error
 * (the screen cannot confirm and says not to charge again). The failure is logged for store IT either way.
 */
function afterRequestFailed(runtime: Runtime, clientSn: string, err: unknown): PaymentView {
  const cause = toPosError(err);
  let row: Payment | undefined;
  try {
    row = runtime.payments.byClientSn(clientSn);
  } catch {
    runtime.logger.error(`pay.request ${clientSn}: ${cause.code} ${said(cause)}; whether its row was written cannot be read`);
    throw err;
  }
  if (row) {
    runtime.logger.error(`pay.request ${clientSn}: ${cause.code} ${said(cause)} after payment ${row.id} was recorded; answered with its state (${row.state})`);
    return toPaymentView(row);
  }
  if (OWN_REFUSALS.has(cause.code)) throw cause;
  runtime.logger.error(`pay.request ${clientSn}: ${cause.code} ${said(cause)}; nothing recorded or sent`);
  throw paymentNotRecorded(cause, clientSn);
}

/** What failed, for the log: an internal error's own text, else its words. */
const said = (e: PosError): string => String(e.details?.reason ?? e.messageEn);

export function createPayHandlers(runtime: Runtime): ChannelImpls<PayChannel> {
  return {
    'pay.request': async (input, { actor, caller, policy }) => {
      policy.identify(caller);
      // The confirmation names the open payment the cashier was shown: it lets that one be charged again, not any other.
      const rule = { refuseSameAmountOpen: true, confirmedDuplicateOf: input.confirmDuplicateOf };
      // A quick look before any PIN is checked: no supervisor's try is spent on a request refused anyway.
      const refused = runtime.payments.refusal(input.amountCents, rule);
      if (refused) throw refused;
      // Above store IT's threshold (off by default) a supervisor approves, recorded with the attempt's client_sn.
      const clientSn = newClientSn(runtime.clock.now());
      const who = await policy.authorizeMoney('pay', { orderSn: clientSn, amountCents: input.amountCents }, caller, input.approval);
      const request =
        input.method === 'barcode'
          ? { method: 'barcode' as const, amountCents: input.amountCents, barcode: input.barcode, clientSn }
          : { method: 'qr' as const, amountCents: input.amountCents, payway: input.payway, clientSn };
      try {
        return toPaymentView(await runtime.payments.request(request, who, actor, rule));
      } catch (err) {
        return afterRequestFailed(runtime, clientSn, err);
      }
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
