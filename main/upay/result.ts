/**
 * The typed outcomes of one gateway call. The revoke engine acts on `kind`:
 * `not_sent` (the request certainly did not reach the gateway: safe to send
 * again), `maybe_sent` (it may have been applied: resolve by query, never by
 * re-sending), `envelope` (the gateway answered a top-level 400/500 code),
 * `invalid_request` (refused locally, nothing sent), or `ok` with the parsed
 * business response (whose own result_code may still be a refusal).
 */

export type NotSentReason = 'refused' | 'dns' | 'connect_timeout' | 'unreachable';
export type MaybeSentReason = 'timeout' | 'reset' | 'http_status' | 'malformed' | 'aborted' | 'too_large';

export const ENVELOPE_CODES = [
  'ILLEGAL_SIGN',
  'INVALID_PARAMS',
  'INVALID_PARAMETER',
  'INVALID_TERMINAL',
  'TERMINAL_NOT_EXISTS',
  'UNKNOWN_SYSTEM_ERROR',
  'MAINTENANCE_INPROGRESS',
] as const;

export type CallFailure =
  | { ok: false; kind: 'invalid_request'; field: string; message: string }
  | { ok: false; kind: 'not_sent'; reason: NotSentReason; message: string }
  | { ok: false; kind: 'maybe_sent'; reason: MaybeSentReason; message: string; httpStatus?: number }
  | {
      ok: false;
      kind: 'envelope';
      /** "400" or "500" (kept verbatim if the gateway sends something else). */
      resultCode: string;
      /** Verbatim, e.g. ILLEGAL_SIGN; "" never (absent is UNKNOWN). */
      errorCode: string;
      errorMessage: string | null;
    };

export type CallResult<T> = { ok: true; value: T } | CallFailure;

/** An order as the gateway reports it (camelCase, strings as sent, absent = null). */
export interface OrderSnapshot {
  terminalSn: string | null;
  sn: string | null;
  clientSn: string | null;
  tradeNo: string | null;
  status: string | null;
  orderStatus: string | null;
  payway: string | null;
  paywayName: string | null;
  totalAmount: string | null;
  netAmount: string | null;
  subject: string | null;
  /** When the order's LAST action (payment, refund or void) finished in Upay: not the payment time once refunded or voided. */
  finishTime: string | null;
  /** The same last action at the payment provider. */
  channelFinishTime: string | null;
  /** Operator of the last action. */
  operator: string | null;
  /** When the order was created (the pay request): Unix ms, or `YYYY-MM-DD HH:mm:ss` in some answers. */
  ctime: string | null;
  subPayway: string | null;
  /** The last transaction's serial (client_sn, or client_sn-refund_request_no after a refund). */
  clientTsn: string | null;
  payerUid: string | null;
  payerLogin: string | null;
  storeId: string | null;
  /** The pay request's `reflect`, echoed (objects as JSON text). */
  reflect: string | null;
  /** precreate: the code the customer scans. */
  qrCode?: string;
  /** Discounts and funding sources, when the gateway lists them. */
  paymentList: Array<{ type: string; amountTotal: string }> | null;
}

/** The business response of query/revoke/cancel/refund/pay. */
export interface OrderResult {
  /** Verbatim biz result_code (CANCEL_SUCCESS, FAIL, SUCCESS, or anything new). */
  resultCode: string;
  errorCode: string | null;
  errorMessage: string | null;
  order: OrderSnapshot | null;
}

export interface TerminalCredentials {
  terminalSn: string;
  /** Secret: never log, never show, never send to the renderer. */
  terminalKey: string;
  merchantSn: string | null;
  merchantName: string | null;
  storeSn: string | null;
  storeName: string | null;
}

/** True when a call's answer refuses its signature (ILLEGAL_SIGN): the key is stale (provisioning's `keyRefused`). */
export function refusesKey(res: CallResult<unknown>): boolean {
  return !res.ok && res.kind === 'envelope' && res.errorCode === 'ILLEGAL_SIGN';
}
