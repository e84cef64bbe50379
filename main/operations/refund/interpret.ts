/**
 * How a refund answer and a query answer move the refund state machine.
 * Pure functions; the engine applies the verdicts, each in one transaction.
 * A repeated `refund_request_no` is the gateway's idempotency key, so a refund
 * that a query does not show as applied is re-sent with the SAME number: it
 * can never apply twice.
 */
import type { Order } from '../../domain';
import type { RefundRow } from '../../store/refunds';
import type { CallResult, OrderResult, OrderSnapshot } from '../../upay/result';
import { interpretFailure, TERMINAL_ERRORS, type FailureVerdict, type Gateway } from '../failures';
import type { RefundMessageCode } from './messages';

export type RefundVerdict = FailureVerdict | { to: 'refunded'; order: OrderSnapshot | null; resultCode: string };

/** Business result codes of /upay/v2/refund. */
export const REFUND_RESULT_CODES = {
  REFUND_SUCCESS: 'refunded',
  /** Working on it: the order status (REFUND_INPROGRESS, then final) decides. */
  REFUND_IN_PROGRESS: 'pending',
  /** Failed with the channel's state unknown (with or without a code): only a query can tell. */
  REFUND_ERROR: 'pending',
  /** Refused with a business code; order unchanged. */
  REFUND_FAIL: 'by_error_code',
  FAIL: 'by_error_code',
} as const satisfies Record<string, 'refunded' | 'pending' | 'by_error_code'>;

export function interpretRefund(res: CallResult<OrderResult>): RefundVerdict {
  if (!res.ok) return interpretFailure(res);
  const v = res.value;
  const gateway: Gateway = { code: v.errorCode, message: v.errorMessage };
  const rule = (REFUND_RESULT_CODES as Record<string, string>)[v.resultCode];
  if (rule === 'refunded') return { to: 'refunded', order: v.order, resultCode: v.resultCode };
  if (rule !== 'by_error_code') return { to: 'pending', reason: v.resultCode.toLowerCase(), resultCode: v.resultCode, gateway };
  // "Already done" for this number, or (the vendor's FAQ) a number reused after a failure: only a query
  // by this refund_request_no tells which, so it is never counted as refunded by itself.
  if (v.errorCode === 'UPAY_REFUND_ORDER_NOOP') return { to: 'pending', reason: 'refund_noop', resultCode: v.resultCode, gateway };
  if (v.errorCode !== null && TERMINAL_ERRORS.has(v.errorCode)) return { to: 'rejected', code: 'GATEWAY_TERMINAL', gateway, resultCode: v.resultCode };
  if (v.errorCode === null) return { to: 'pending', reason: 'refund_fail_without_code', resultCode: v.resultCode, gateway };
  return { to: 'rejected', code: 'GATEWAY_REFUSED', gateway, resultCode: v.resultCode };
}

export type RefundQueryVerdict =
  | { to: 'applied'; order: OrderSnapshot }
  /** The gateway never saw this refund number: safe to send again with the same number. */
  | { to: 'not_applied' }
  /** The gateway shows this refund failed: nothing moved; the number is spent. */
  | { to: 'failed'; order: OrderSnapshot }
  | { to: 'unknown'; reason: string };

/** Transaction statuses of a refund that say it certainly did not apply. */
const REFUND_FAILED_STATUSES: ReadonlySet<string> = new Set(['FAIL', 'FAIL_CANCELED']);

/**
 * Whether THIS refund applied, from a query sent with its
 * `refund_request_no`: only an answer that names it (`client_tsn` =
 * client_sn-refund_request_no) decides, by that refund's own transaction
 * `status`. The order's net amount is never evidence: a refund from another
 * till moves it too. `UPAY_REFUND_NOT_EXISTS`: the gateway never saw the number.
 */
export function interpretRefundQuery(res: CallResult<OrderResult>, row: Pick<RefundRow, 'request_no'>): RefundQueryVerdict {
  if (!res.ok) return { to: 'unknown', reason: res.kind === 'envelope' ? `envelope_${res.errorCode}` : res.kind };
  const v = res.value;
  if (v.resultCode !== 'SUCCESS' && v.errorCode === 'UPAY_REFUND_NOT_EXISTS') return { to: 'not_applied' };
  if (v.resultCode !== 'SUCCESS' || !v.order) return { to: 'unknown', reason: `${v.resultCode}${v.errorCode ? ':' + v.errorCode : ''}` };
  if (!v.order.clientTsn?.endsWith(`-${row.request_no}`)) return { to: 'unknown', reason: 'refund_not_named' };
  const status = v.order.status ?? 'absent';
  if (status === 'SUCCESS') return { to: 'applied', order: v.order };
  if (REFUND_FAILED_STATUSES.has(status)) return { to: 'failed', order: v.order };
  return { to: 'unknown', reason: `refund_status_${status}` };
}

/** Order statuses a refund may start from, and why the others cannot. */
export const REFUNDABLE_STATUS: Readonly<Record<string, RefundMessageCode | null>> = {
  PAID: null,
  PARTIAL_REFUNDED: null,
  REFUNDED: 'NOT_REFUNDABLE_STATE',
  CANCELED: 'NOT_REFUNDABLE_STATE',
  PAY_CANCELED: 'NOT_REFUNDABLE_STATE',
  CREATED: 'UNRESOLVED',
  PAY_ERROR: 'UNRESOLVED',
  REFUND_INPROGRESS: 'UNRESOLVED',
  REFUND_ERROR: 'UNRESOLVED',
  CANCEL_INPROGRESS: 'UNRESOLVED',
  CANCEL_ERROR: 'UNRESOLVED',
  INVALID_STATUS_CODE: 'NOT_REFUNDABLE_STATE',
};

/**
 * Local checks before any call: the order's state, and an amount in integer
 * cents, above zero, at most the net amount less refunds still open.
 */
export function refundRefusal(order: Pick<Order, 'status' | 'netCents'>, amountCents: number, openCents: number): RefundMessageCode | undefined {
  const byStatus = REFUNDABLE_STATUS[order.status];
  if (byStatus === undefined) return 'NOT_REFUNDABLE_STATE';
  if (byStatus !== null) return byStatus;
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) return 'AMOUNT_INVALID';
  if (amountCents > order.netCents - openCents) return 'AMOUNT_TOO_HIGH';
  return undefined;
}
