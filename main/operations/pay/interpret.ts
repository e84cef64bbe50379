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
  /** The order is CANCELED (our reversal, or an earlier one); `returned`: money had been taken and went back. */
  | { to: 'canceled'; order: OrderSnapshot | null; resultCode: string | null; returned: boolean }
  /**
   * Not final. `cancelNow`: the order will not become PAID by itself (PAY_ERROR, CANCEL_ERROR): reverse it now.
   * `wait`: a reversal is already running at the gateway (CANCEL_INPROGRESS): ask again, do not cancel again yet.
   */
  | { to: 'open'; resultCode: string | null; gateway: GatewayWords; order: OrderSnapshot | null; qrCode?: string; cancelNow: boolean; wait: boolean; reached: boolean };

export type FailCode = 'NOT_SENT' | 'NOT_REACHED' | 'PAY_FAILED' | 'GATEWAY_REFUSED' | 'INVALID_REQUEST';

const NO_WORDS: GatewayWords = { code: null, message: null };
const NOT_EXISTS = new Set(['UPAY_ORDER_NOT_EXISTS', 'UPAY_ORDER_NOT_EXIST']);
const PAID_STATUSES = new Set(['PAID', 'REFUNDED', 'PARTIAL_REFUNDED', 'REFUND_INPROGRESS', 'REFUND_ERROR']);

const open = (r: { resultCode?: string | null; gateway?: GatewayWords; order?: OrderSnapshot | null; qrCode?: string; cancelNow?: boolean; wait?: boolean; reached?: boolean }): PayVerdict => ({
  to: 'open',
  resultCode: r.resultCode ?? null,
  gateway: r.gateway ?? NO_WORDS,
  order: r.order ?? null,
  ...(r.qrCode ? { qrCode: r.qrCode } : {}),
  cancelNow: r.cancelNow ?? false,
  wait: r.wait ?? false,
  reached: r.reached ?? false,
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
      return open({ resultCode: v.resultCode, order, reached: true, ...(order?.qrCode ? { qrCode: order.qrCode } : {}) });
    case 'PAY_FAIL_ERROR':
    case 'PRECREATE_FAIL_ERROR':
      // Failed with the channel's state unknown (order PAY_ERROR): confirm by query, then reverse.
      return open({ resultCode: v.resultCode, gateway: words(v), order, cancelNow: true, reached: true });
    case 'FAIL':
      // Refused and nothing created, except a conflict: then an order with this client_sn exists and the query decides.
      if (v.errorCode === 'CLIENT_SN_CONFLICT') return open({ resultCode: v.resultCode, gateway: words(v), order, reached: true });
      return { to: 'failed', code: 'GATEWAY_REFUSED', gateway: words(v), resultCode: v.resultCode, order };
    default:
      // PAY_IN_PROGRESS, PAY_FAIL_IN_PROGRESS, PRECREATE_FAIL_IN_PROGRESS and anything new: the query decides.
      return open({ resultCode: v.resultCode, gateway: words(v), order, reached: true });
  }
}

/** The order's status as a query by client_sn shows it: the truth. */
export function interpretQuery(res: CallResult<OrderResult>): PayVerdict {
  if (!res.ok) return callFailure(res, false);
  const v = res.value;
  if (v.resultCode !== 'SUCCESS' || !v.order) {
    // The request never reached Upay (the vendor's pay_exception flow): nothing to resolve, no money taken.
    if (v.errorCode && NOT_EXISTS.has(v.errorCode)) return { to: 'failed', code: 'NOT_REACHED', gateway: words(v), resultCode: v.resultCode, order: null };
    return open({ resultCode: v.resultCode, gateway: words(v) });
  }
  return byStatus(v.order, v.resultCode);
}

function byStatus(order: OrderSnapshot, resultCode: string): PayVerdict {
  const status = order.orderStatus ?? '';
  if (PAID_STATUSES.has(status)) return { to: 'paid', order, resultCode };
  if (status === 'PAY_CANCELED') return { to: 'failed', code: 'PAY_FAILED', gateway: NO_WORDS, resultCode, order };
  if (status === 'CANCELED') return { to: 'canceled', order, resultCode, returned: false };
  if (status === 'PAY_ERROR' || status === 'CANCEL_ERROR') return open({ resultCode, order, cancelNow: true, reached: true });
  if (status === 'CANCEL_INPROGRESS') return open({ resultCode, order, wait: true, reached: true });
  // CREATED (in flight, or a QR nobody paid yet) and anything new.
  return open({ resultCode, order, reached: true });
}

/**
 * The answer to `/upay/v2/cancel` (冲正). `wasPaid`: the last thing we knew of the order was PAID (a race with
 * the customer): a cancel then returns the money.
 */
export function interpretCancel(res: CallResult<OrderResult>, wasPaid: boolean): PayVerdict {
  if (!res.ok) return callFailure(res, false);
  const v = res.value;
  switch (v.resultCode) {
    case 'CANCEL_SUCCESS':
    case 'CANCEL_ABORT_SUCCESS':
      return { to: 'canceled', order: v.order, resultCode: v.resultCode, returned: wasPaid || v.resultCode === 'CANCEL_SUCCESS' };
    case 'FAIL':
      if (v.errorCode && NOT_EXISTS.has(v.errorCode)) return { to: 'failed', code: 'NOT_REACHED', gateway: words(v), resultCode: v.resultCode, order: null };
      // UPAY_CANCEL_ORDER_NOOP (already canceled), an invalid state: the query decides.
      return open({ resultCode: v.resultCode, gateway: words(v), order: v.order, reached: true });
    default:
      // CANCEL_ERROR, CANCEL_ABORT_ERROR, *_IN_PROGRESS, anything new: query, and cancel again.
      return open({ resultCode: v.resultCode, gateway: words(v), order: v.order, reached: true, wait: v.resultCode.endsWith('IN_PROGRESS') });
  }
}
