/**
 * The payment's interpretation table: every gateway answer (or failure) to
 * pay, precreate, query and cancel, as one transition. Pure: no I/O, no
 * clock; tested as a table (test/unit/pay-interpret.test.ts). The rule under
 * it: only "certainly not sent" or a definitive answer ends a payment as
 * failed; anything uncertain is resolved by query by client_sn, and a
 * payment still open at the end of its window is canceled (冲正).
 */
import type { CallResult, OrderResult, OrderSnapshot } from '../../upay/result';

export interface GatewayWords {
  code: string | null;
  message: string | null;
}

export type PayVerdict =
  /** The gateway shows the order PAID. */
  | { to: 'paid'; order: OrderSnapshot | null; resultCode: string }
  /** Final, no money taken: refused, PAY_CANCELED, never reached the gateway, or not sent at all. */
  | { to: 'failed'; code: FailCode; gateway: GatewayWords; resultCode: string | null; order: OrderSnapshot | null }
  /**
   * The order is CANCELED (our reversal, or an earlier one); `returned`: money had been taken and went back.
   * `unconfirmed`: returned by the order's status alone (our cancel's answer was never heard): see `moneyReturned`.
   */
  | { to: 'canceled'; order: OrderSnapshot | null; resultCode: string | null; returned: boolean; unconfirmed?: boolean }
  /**
   * Not final. `cancelNow`: the order will not become PAID by itself (PAY_ERROR, CANCEL_ERROR): reverse it now.
   * `wait`: a reversal is already running at the gateway (CANCEL_INPROGRESS): ask again, do not cancel again yet.
   */
  | { to: 'open'; resultCode: string | null; gateway: GatewayWords; order: OrderSnapshot | null; qrCode?: string; cancelNow: boolean; wait: boolean };

export type FailCode = 'NOT_SENT' | 'NOT_REACHED' | 'PAY_FAILED' | 'GATEWAY_REFUSED' | 'INVALID_REQUEST';

const NO_WORDS: GatewayWords = { code: null, message: null };
const NOT_EXISTS = new Set(['UPAY_ORDER_NOT_EXISTS', 'UPAY_ORDER_NOT_EXIST']);
const PAID_STATUSES = new Set(['PAID', 'REFUNDED', 'PARTIAL_REFUNDED', 'REFUND_INPROGRESS', 'REFUND_ERROR']);

/**
 * What the gateway had told us about an order before an answer (kept on the payment row), for the two
 * questions an answer alone cannot settle: does the order exist, and had money been taken when it was voided.
 */
export interface OrderEvidence {
  /**
   * The gateway acknowledged the order (an answer with its sn, its status, a QR, a business result code such as
   * PAY_IN_PROGRESS or PRECREATE_SUCCESS, or a CANCEL_* answer): UPAY_ORDER_NOT_EXISTS then does not prove that the
   * request never reached Upay, and never ends the payment as failed.
   */
  acknowledged: boolean;
  /** An answer showed the order PAID (or refunded since). */
  seenPaid: boolean;
  /** The last CANCEL_* answer heard: CANCEL_ABORT_* (an unfinished payment aborted) or the void of a completed one. */
  lastCancel: 'abort' | 'void' | null;
  /** A channel trade_no was seen: money can only have been taken through a channel transaction. */
  tradeNo: boolean;
}

export const NO_EVIDENCE: OrderEvidence = { acknowledged: false, seenPaid: false, lastCancel: null, tradeNo: false };

/** Which family a cancel result code belongs to (null: no CANCEL_* code, e.g. FAIL). */
export function cancelFamily(resultCode: string | null | undefined): OrderEvidence['lastCancel'] {
  if (!resultCode?.startsWith('CANCEL_')) return null;
  return resultCode.startsWith('CANCEL_ABORT_') ? 'abort' : 'void';
}

/**
 * The one rule for "money returned" of a voided payment, from the gateway's own words. The gateway tells a void of
 * a completed payment (CANCEL_SUCCESS / CANCEL_IN_PROGRESS / CANCEL_ERROR; order CANCELED, "canceled by the
 * client") from the abort of an unfinished one (CANCEL_ABORT_*; the appendix's PAY_CANCELED, "payment failed and
 * reversed"). So: PAID seen -> returned; PAY_CANCELED -> nothing taken; an abort answer -> nothing taken; a void
 * answer -> returned. When every cancel answer was lost, the order's status decides: CANCELED is a voided payment,
 * returned but `unconfirmed`, unless no channel transaction (trade_no) ever existed: then nothing was taken.
 * (The sandbox also leaves an aborted order CANCELED; its abort answer is what tells the two apart there.)
 */
export function moneyReturned(e: OrderEvidence, status: string | null, answer: OrderEvidence['lastCancel'] = null): 'yes' | 'no' | 'unconfirmed' {
  if (e.seenPaid) return 'yes';
  if (status === 'PAY_CANCELED') return 'no';
  const heard = answer ?? e.lastCancel;
  if (heard === 'abort') return 'no';
  if (heard === 'void') return 'yes';
  return e.tradeNo ? 'unconfirmed' : 'no';
}

const canceled = (order: OrderSnapshot | null, resultCode: string | null, returned: 'yes' | 'no' | 'unconfirmed'): PayVerdict => ({
  to: 'canceled',
  order,
  resultCode,
  returned: returned !== 'no',
  ...(returned === 'unconfirmed' ? { unconfirmed: true } : {}),
});

const open = (r: { resultCode?: string | null; gateway?: GatewayWords; order?: OrderSnapshot | null; qrCode?: string; cancelNow?: boolean; wait?: boolean }): PayVerdict => ({
  to: 'open',
  resultCode: r.resultCode ?? null,
  gateway: r.gateway ?? NO_WORDS,
  order: r.order ?? null,
  ...(r.qrCode ? { qrCode: r.qrCode } : {}),
  cancelNow: r.cancelNow ?? false,
  wait: r.wait ?? false,
});

const words = (v: OrderResult): GatewayWords => ({ code: v.errorCode, message: v.errorMessage });

/** A failure of the call itself: not sent is final (nothing reached the gateway); anything else may have been applied. */
function callFailure(res: Exclude<CallResult<OrderResult>, { ok: true }>, beforeEffect: boolean): PayVerdict {
  if (beforeEffect && res.kind === 'not_sent') return { to: 'failed', code: 'NOT_SENT', gateway: NO_WORDS, resultCode: null, order: null };
  if (beforeEffect && res.kind === 'invalid_request') return { to: 'failed', code: 'INVALID_REQUEST', gateway: { code: res.field, message: res.message }, resultCode: null, order: null };
  // A top-level 400 (signature, parameters, terminal) refuses the request before any order exists.
  if (beforeEffect && res.kind === 'envelope' && res.resultCode === '400') {
    return { to: 'failed', code: 'GATEWAY_REFUSED', gateway: { code: res.errorCode, message: res.errorMessage }, resultCode: res.resultCode, order: null };
  }
  const gateway = res.kind === 'envelope' ? { code: res.errorCode, message: res.errorMessage } : { code: res.kind, message: res.message };
  return open({ gateway });
}

/** The answer to `/upay/v2/pay` or `/upay/v2/precreate` (the first send of an attempt). */
export function interpretSend(res: CallResult<OrderResult>): PayVerdict {
  if (!res.ok) return callFailure(res, true);
  const v = res.value;
  const order = v.order;
  switch (v.resultCode) {
    case 'PAY_SUCCESS':
      return { to: 'paid', order, resultCode: v.resultCode };
    case 'PAY_FAIL':
    case 'PRECREATE_FAIL':
      // The gateway has already reversed it: no money taken.
      return { to: 'failed', code: 'PAY_FAILED', gateway: words(v), resultCode: v.resultCode, order };
    case 'PRECREATE_SUCCESS':
      return open({ resultCode: v.resultCode, order, ...(order?.qrCode ? { qrCode: order.qrCode } : {}) });
    case 'PAY_FAIL_ERROR':
    case 'PRECREATE_FAIL_ERROR':
      // Failed with the channel's state unknown (order PAY_ERROR): confirm by query, then reverse.
      return open({ resultCode: v.resultCode, gateway: words(v), order, cancelNow: true });
    case 'FAIL':
      // Refused and nothing created, except a conflict: then an order with this client_sn exists and the query decides.
      if (v.errorCode === 'CLIENT_SN_CONFLICT') return open({ resultCode: v.resultCode, gateway: words(v), order });
      return { to: 'failed', code: 'GATEWAY_REFUSED', gateway: words(v), resultCode: v.resultCode, order };
    default:
      // PAY_IN_PROGRESS, PAY_FAIL_IN_PROGRESS, PRECREATE_FAIL_IN_PROGRESS and anything new: the query decides.
      return open({ resultCode: v.resultCode, gateway: words(v), order });
  }
}

/**
 * The order's status as a query by client_sn shows it: the truth. `known`: what earlier answers said (the row).
 * UPAY_ORDER_NOT_EXISTS ends the payment as never reached only for an order the gateway never acknowledged.
 */
export function interpretQuery(res: CallResult<OrderResult>, known: OrderEvidence = NO_EVIDENCE): PayVerdict {
  if (!res.ok) return callFailure(res, false);
  const v = res.value;
  if (v.resultCode !== 'SUCCESS' || !v.order) {
    if (v.errorCode && NOT_EXISTS.has(v.errorCode)) {
      // The request never reached Upay (the vendor's pay_exception flow): nothing to resolve, no money taken.
      if (!known.acknowledged) return { to: 'failed', code: 'NOT_REACHED', gateway: words(v), resultCode: v.resultCode, order: null };
      // The gateway did acknowledge this order: "not found" now proves nothing (a QR not yet scanned, a lagging
      // index). Still open: polled, then reversed, then a person; never "no money taken".
      return open({ resultCode: v.resultCode, gateway: words(v) });
    }
    return open({ resultCode: v.resultCode, gateway: words(v) });
  }
  return byStatus(v.order, v.resultCode, known);
}

function byStatus(order: OrderSnapshot, resultCode: string, known: OrderEvidence): PayVerdict {
  const status = order.orderStatus ?? '';
  if (PAID_STATUSES.has(status)) return { to: 'paid', order, resultCode };
  if (status === 'PAY_CANCELED') return { to: 'failed', code: 'PAY_FAILED', gateway: NO_WORDS, resultCode, order };
  if (status === 'CANCELED') return canceled(order, resultCode, moneyReturned({ ...known, tradeNo: known.tradeNo || !!order.tradeNo }, status));
  if (status === 'PAY_ERROR' || status === 'CANCEL_ERROR') return open({ resultCode, order, cancelNow: true });
  if (status === 'CANCEL_INPROGRESS') return open({ resultCode, order, wait: true });
  // CREATED (in flight, or a QR nobody paid yet) and anything new.
  return open({ resultCode, order });
}

/**
 * The answer to `/upay/v2/cancel` (冲正). `wasPaid`: an answer had shown the order PAID (a race with the
 * customer): a cancel then returns the money. Whether money went back follows `moneyReturned`: the answer's
 * own code says whether it voided a completed payment or aborted an unfinished one, its order PAY_CANCELED
 * says nothing was taken. `acknowledged`: the gateway had answered about this order before, so
 * UPAY_ORDER_NOT_EXISTS is no proof that nothing was ever created: the reversal goes on.
 */
export function interpretCancel(res: CallResult<OrderResult>, wasPaid: boolean, acknowledged = false): PayVerdict {
  if (!res.ok) return callFailure(res, false);
  const v = res.value;
  switch (v.resultCode) {
    case 'CANCEL_SUCCESS':
    case 'CANCEL_ABORT_SUCCESS': {
      const e = { ...NO_EVIDENCE, seenPaid: wasPaid };
      return canceled(v.order, v.resultCode, moneyReturned(e, v.order?.orderStatus ?? null, cancelFamily(v.resultCode)));
    }
    case 'FAIL':
      if (v.errorCode && NOT_EXISTS.has(v.errorCode)) {
        if (!acknowledged) return { to: 'failed', code: 'NOT_REACHED', gateway: words(v), resultCode: v.resultCode, order: null };
        return open({ resultCode: v.resultCode, gateway: words(v) });
      }
      // UPAY_CANCEL_ORDER_NOOP (already canceled), an invalid state: the query decides.
      return open({ resultCode: v.resultCode, gateway: words(v), order: v.order });
    default:
      // CANCEL_ERROR, CANCEL_ABORT_ERROR, *_IN_PROGRESS, anything new: query, and cancel again.
      return open({ resultCode: v.resultCode, gateway: words(v), order: v.order, wait: v.resultCode.endsWith('IN_PROGRESS') });
  }
}
