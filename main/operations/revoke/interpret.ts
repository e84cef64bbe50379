/**
 * How a revoke answer and a query answer move the state machine (see the
 * table in ../shared/upay-v2.md §4). Pure functions: the engine applies the
 * verdicts, each in one transaction.
 */
import type { CallResult, OrderResult, OrderSnapshot } from '../../upay/result';
import type { RevokeMessageCode } from './messages';

export type Gateway = { code: string | null; message: string | null };

export type RevokeVerdict =
  | { to: 'revoked'; order: OrderSnapshot | null; resultCode: string }
  | { to: 'rejected'; code: RevokeMessageCode; gateway: Gateway; resultCode: string | null }
  /** A refusal the order status must confirm: pending until a query says PAID (rejected) or CANCELED (revoked). */
  | { to: 'confirm_refusal'; gateway: Gateway; resultCode: string }
  | { to: 'pending'; reason: string; resultCode: string | null; gateway?: Gateway }
  | { to: 'queued'; reason: string; code?: RevokeMessageCode; gateway?: Gateway };

/** Business codes after which the order is certainly untouched. */
const DEFINITIVE_REFUSALS = new Set([
  'UPAY_TCP_ORDER_NOT_REFUNDABLE',
  'UPAY_CANCEL_INVALID_ORDER_STATE',
  'UPAY_ORDER_NOT_EXISTS',
  'UPAY_ORDER_NOT_EXIST',
  'UPAY_TERMINAL_NOT_EXISTS',
  'UPAY_TERMINAL_STATUS_ABNORMAL',
]);

export function interpretRevoke(res: CallResult<OrderResult>): RevokeVerdict {
  if (!res.ok) {
    switch (res.kind) {
      case 'not_sent':
        return { to: 'queued', reason: res.reason };
      case 'maybe_sent':
        return { to: 'pending', reason: res.reason, resultCode: null };
      case 'invalid_request':
        return { to: 'rejected', code: 'GATEWAY_INVALID_PARAMS', gateway: { code: null, message: res.message }, resultCode: null };
      case 'envelope': {
        const gateway = { code: res.errorCode, message: res.errorMessage };
        switch (res.errorCode) {
          case 'ILLEGAL_SIGN':
            // Not applied; a stale key is fixed by a check-in (or another process's fresh key): retry later.
            return { to: 'queued', reason: 'illegal_sign', code: 'GATEWAY_AUTH', gateway };
          case 'MAINTENANCE_INPROGRESS':
            return { to: 'queued', reason: 'maintenance', gateway };
          case 'INVALID_TERMINAL':
          case 'TERMINAL_NOT_EXISTS':
            return { to: 'rejected', code: 'GATEWAY_TERMINAL', gateway, resultCode: res.resultCode };
          case 'INVALID_PARAMS':
          case 'INVALID_PARAMETER':
            return { to: 'rejected', code: 'GATEWAY_INVALID_PARAMS', gateway, resultCode: res.resultCode };
          default:
            // UNKNOWN_SYSTEM_ERROR and anything new from a 500: the gateway may have acted.
            return res.resultCode === '400'
              ? { to: 'rejected', code: 'GATEWAY_REFUSED', gateway, resultCode: res.resultCode }
              : { to: 'pending', reason: `envelope_${res.errorCode}`, resultCode: res.resultCode, gateway };
        }
      }
    }
  }
  const v = res.value;
  const gateway = { code: v.errorCode, message: v.errorMessage };
  switch (v.resultCode) {
    case 'CANCEL_SUCCESS':
    case 'CANCEL_ABORT_SUCCESS':
      return { to: 'revoked', order: v.order, resultCode: v.resultCode };
    case 'FAIL':
      if (v.errorCode === 'UPAY_CANCEL_ORDER_NOOP') return { to: 'revoked', order: v.order, resultCode: v.resultCode };
      // FAIL: the request was rejected and the order is unchanged.
      return { to: 'rejected', code: 'GATEWAY_REFUSED', gateway, resultCode: v.resultCode };
    case 'CANCEL_ERROR':
      if (v.errorCode === null) return { to: 'pending', reason: 'cancel_error_without_code', resultCode: v.resultCode, gateway };
      if (DEFINITIVE_REFUSALS.has(v.errorCode)) return { to: 'rejected', code: 'GATEWAY_REFUSED', gateway, resultCode: v.resultCode };
      return { to: 'confirm_refusal', gateway, resultCode: v.resultCode };
    default:
      // CANCEL_IN_PROGRESS, CANCEL_ABORT_IN_PROGRESS, CANCEL_ABORT_ERROR and codes we do not know: the order status decides.
      return { to: 'pending', reason: v.resultCode.toLowerCase(), resultCode: v.resultCode, gateway };
  }
}

export type QueryVerdict =
  | { to: 'revoked'; order: OrderSnapshot }
  /** The order is still PAID: the revoke did not happen. */
  | { to: 'still_paid'; order: OrderSnapshot }
  | { to: 'refunded'; order: OrderSnapshot }
  | { to: 'unknown'; reason: string };

export function interpretQuery(res: CallResult<OrderResult>): QueryVerdict {
  if (!res.ok) return { to: 'unknown', reason: res.kind === 'envelope' ? `envelope_${res.errorCode}` : res.kind };
  const v = res.value;
  if (v.resultCode !== 'SUCCESS' || !v.order) return { to: 'unknown', reason: `${v.resultCode}${v.errorCode ? ':' + v.errorCode : ''}` };
  switch (v.order.orderStatus) {
    case 'CANCELED':
      return { to: 'revoked', order: v.order };
    case 'PAID':
      return { to: 'still_paid', order: v.order };
    case 'REFUNDED':
    case 'PARTIAL_REFUNDED':
      return { to: 'refunded', order: v.order };
    default:
      return { to: 'unknown', reason: `order_status_${v.order.orderStatus ?? 'absent'}` };
  }
}
