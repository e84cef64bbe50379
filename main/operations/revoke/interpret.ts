/**
 * How a revoke answer, a query answer and an order's local state move the
 * revoke state machine. Every result code and order state of the Upay
 * documents has a row below (test/unit/interpret.test.ts is the table as a
 * specification); anything else is kept verbatim and resolved by query or by
 * a person, never guessed. Pure functions: the engine applies the verdicts,
 * each in one transaction.
 */
import type { Order } from '../../domain';
import type { RevokeRow } from '../../store/revokes';
import type { CallResult, OrderResult, OrderSnapshot } from '../../upay/result';
import { businessDay } from '../../common/time';
import type { RevokeMessageCode } from './messages';
import { interpretFailure, type Gateway } from '../failures';

export type { Gateway } from '../failures';

export type RevokeVerdict =
  /**
   * The order is voided. `alreadyVoided` (the gateway's words): it did nothing now, the order was voided before this
   * send (UPAY_CANCEL_ORDER_NOOP): by an earlier send of this row, or elsewhere (see `noEarlierSendCouldLand`).
   */
  | { to: 'revoked'; order: OrderSnapshot | null; resultCode: string; alreadyVoided?: Gateway }
  | { to: 'rejected'; code: RevokeMessageCode; gateway: Gateway; resultCode: string | null }
  /** A refusal the order status must confirm: pending until a query says PAID (rejected) or CANCELED (revoked). */
  | { to: 'confirm_refusal'; gateway: Gateway; resultCode: string }
  | { to: 'pending'; reason: string; resultCode: string | null; gateway?: Gateway }
  | { to: 'queued'; reason: string; code?: RevokeMessageCode; gateway?: Gateway };

/**
 * Business result codes of revoke/cancel (the documents' 业务结果码 table).
 * `revoked`: done; `pending`: the order status decides (query); `by_error_code`: see BUSINESS_ERRORS.
 */
export const REVOKE_RESULT_CODES = {
  CANCEL_SUCCESS: 'revoked',
  /** The void interrupted an in-flight payment and succeeded. */
  CANCEL_ABORT_SUCCESS: 'revoked',
  CANCEL_IN_PROGRESS: 'pending',
  CANCEL_ABORT_IN_PROGRESS: 'pending',
  /** Failed, the payment channel's state unknown (documents: contact support): only the order status can tell. */
  CANCEL_ABORT_ERROR: 'pending',
  /** Failed, the channel's state unknown (the annex), with a code or without: a query decides (a no-op code: already voided). */
  CANCEL_ERROR: 'by_error_code',
  /** Rejected, order unchanged (documents: "操作失败（不会触发流程）"), except the no-op below. */
  FAIL: 'by_error_code',
} as const satisfies Record<string, 'revoked' | 'pending' | 'by_error_code'>;

/**
 * Business error codes with a FAIL or CANCEL_ERROR of revoke/cancel.
 * `already_voided`: the order was voided before this send (by whom: the row's
 * history decides, see `noEarlierSendCouldLand`); `refused`: untouched (with FAIL),
 * the cashier reads the gateway's reason; `terminal`: the terminal is refused,
 * ask store IT. With CANCEL_ERROR every code but the no-op is confirmed by a query.
 */
export const BUSINESS_ERRORS: Readonly<Record<string, 'already_voided' | 'refused' | 'terminal'>> = {
  UPAY_CANCEL_ORDER_NOOP: 'already_voided',
  UPAY_TCP_ORDER_NOT_REFUNDABLE: 'refused',
  UPAY_CANCEL_INVALID_ORDER_STATE: 'refused',
  UPAY_ORDER_NOT_EXISTS: 'refused',
  UPAY_ORDER_NOT_EXIST: 'refused',
  UPAY_TERMINAL_NOT_EXISTS: 'terminal',
  UPAY_TERMINAL_STATUS_ABNORMAL: 'terminal',
};

/** Top-level (envelope) error codes: the documents' 通讯错误码 table, plus spellings seen in examples. */
export const ENVELOPE_ERRORS: Readonly<Record<string, RevokeVerdict['to']>> = {
  /** Not applied; a stale key is fixed by a check-in (or another process's fresh key): retry later. */
  ILLEGAL_SIGN: 'queued',
  MAINTENANCE_INPROGRESS: 'queued',
  INVALID_TERMINAL: 'rejected',
  TERMINAL_NOT_EXISTS: 'rejected',
  INVALID_PARAMS: 'rejected',
  INVALID_PARAMETER: 'rejected',
  /** A server error: the gateway may have acted. */
  UNKNOWN_SYSTEM_ERROR: 'pending',
};

export function interpretRevoke(res: CallResult<OrderResult>): RevokeVerdict {
  if (!res.ok) return interpretFailure(res);
  const v = res.value;
  const gateway = { code: v.errorCode, message: v.errorMessage };
  const rule = (REVOKE_RESULT_CODES as Record<string, string>)[v.resultCode];
  if (rule === 'revoked') return { to: 'revoked', order: v.order, resultCode: v.resultCode };
  if (rule !== 'by_error_code') {
    // The in-progress and unknown codes, and codes we do not know (kept verbatim): the order status decides.
    return { to: 'pending', reason: v.resultCode.toLowerCase(), resultCode: v.resultCode, gateway };
  }
  const business = v.errorCode === null ? undefined : BUSINESS_ERRORS[v.errorCode];
  if (business === 'already_voided') return { to: 'revoked', order: v.order, resultCode: v.resultCode, alreadyVoided: gateway };
  if (v.resultCode === 'FAIL') {
    // FAIL: refused, order unchanged (the documents' "操作失败（不会触发流程）").
    return { to: 'rejected', code: business === 'terminal' ? 'GATEWAY_TERMINAL' : 'GATEWAY_REFUSED', gateway, resultCode: v.resultCode };
  }
  // CANCEL_ERROR: "failed, channel state unknown" (the result-code annex), whatever the code: one query decides
  // (PAID -> rejected with these words kept, CANCELED -> revoked). Without a code there are no words to keep.
  if (v.errorCode === null) return { to: 'pending', reason: 'cancel_error_without_code', resultCode: v.resultCode, gateway };
  return { to: 'confirm_refusal', gateway, resultCode: v.resultCode };
}

/**
 * Nothing this row sent before can have reached the gateway: it was never uncertain (`pending_since`: a lost answer,
 * a server error, a crash mid-call), never asked about, never re-sent on a query's word; every earlier send, if any,
 * was certainly not sent (not reached, ILLEGAL_SIGN, MAINTENANCE: the row went `queued`, never `pending`). The order
 * found voided then (a no-op answered to the send now in flight, `alreadyVoided`; or CANCELED in another answer
 * while the row waits in the queue) was voided before any request of ours: elsewhere (another till, the merchant's
 * app), and this revoke moved no money. Once anything of the row may have landed, the void may be our own: `revoked`.
 */
export function noEarlierSendCouldLand(row: Pick<RevokeRow, 'pending_since' | 'queries' | 'resends'>): boolean {
  return row.pending_since === null && row.queries === 0 && row.resends === 0;
}

export type QueryVerdict =
  | { to: 'revoked'; order: OrderSnapshot }
  /** The order is still PAID: the revoke did not happen. */
  | { to: 'still_paid'; order: OrderSnapshot }
  /** A refund applied or under way: the revoke did not happen and cannot. */
  | { to: 'refunded'; order: OrderSnapshot }
  | { to: 'unknown'; reason: string };

/**
 * Every order status of the documents (订单状态列表) and what it says about a
 * revoke that was sent. `unknown`: not decided yet (keep querying, then hand to
 * a person with everything known).
 */
export const ORDER_STATUS_VERDICTS = {
  PAID: 'still_paid',
  CANCELED: 'revoked',
  REFUNDED: 'refunded',
  PARTIAL_REFUNDED: 'refunded',
  REFUND_INPROGRESS: 'refunded',
  /** A refund failed with the channel's state unknown; the void did not happen either way. */
  REFUND_ERROR: 'refunded',
  CANCEL_INPROGRESS: 'unknown',
  /** The void failed with the channel's state unknown (documents: contact support). */
  CANCEL_ERROR: 'unknown',
  /** The payment is still in flight, failed, or failed with an unknown reversal: not the order we revoked. */
  CREATED: 'unknown',
  PAY_CANCELED: 'unknown',
  PAY_ERROR: 'unknown',
  INVALID_STATUS_CODE: 'unknown',
} as const satisfies Record<string, QueryVerdict['to']>;

export function interpretQuery(res: CallResult<OrderResult>): QueryVerdict {
  if (!res.ok) return { to: 'unknown', reason: res.kind === 'envelope' ? `envelope_${res.errorCode}` : res.kind };
  const v = res.value;
  if (v.resultCode !== 'SUCCESS' || !v.order) return { to: 'unknown', reason: `${v.resultCode}${v.errorCode ? ':' + v.errorCode : ''}` };
  const status = v.order.orderStatus ?? 'absent';
  const to = (ORDER_STATUS_VERDICTS as Record<string, QueryVerdict['to']>)[status] ?? 'unknown';
  return to === 'unknown' ? { to, reason: `order_status_${status}` } : { to, order: v.order };
}

/**
 * Why an order cannot be revoked, from its local state, checked before any
 * gateway call; undefined when it can. One row per order status of the documents.
 */
export const INELIGIBLE_STATUS: Readonly<Record<string, RevokeMessageCode | null>> = {
  PAID: null,
  CANCELED: 'ALREADY_VOIDED',
  PAY_CANCELED: 'ALREADY_VOIDED',
  REFUNDED: 'REFUNDED',
  PARTIAL_REFUNDED: 'REFUNDED',
  REFUND_INPROGRESS: 'REFUNDED',
  /** Money may have moved (a payment, void or refund with an unknown outcome): query first, never "no money moved". */
  PAY_ERROR: 'UNRESOLVED',
  CREATED: 'UNRESOLVED',
  CANCEL_INPROGRESS: 'UNRESOLVED',
  CANCEL_ERROR: 'UNRESOLVED',
  REFUND_ERROR: 'UNRESOLVED',
  INVALID_STATUS_CODE: 'NOT_PAID',
};

export function ineligibility(order: Order, now: number): RevokeMessageCode | undefined {
  const byStatus = INELIGIBLE_STATUS[order.status];
  if (byStatus === undefined) return 'NOT_PAID'; // a status we do not know: not PAID, kept verbatim on the order
  if (byStatus !== null) return byStatus;
  if (order.netCents < order.totalCents) return 'REFUNDED';
  if (order.totalCents <= 0) return 'ZERO_AMOUNT';
  if (order.businessDay !== businessDay(now)) return 'NOT_TODAY';
  return undefined;
}
