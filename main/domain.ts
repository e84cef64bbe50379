/**
 * Domain types shared by the runtime's services (plain data, no I/O).
 * Money is `Cents`; times are Unix ms; `businessDay` is `YYYY-MM-DD` (UTC+8).
 */
import type { Cents } from './common/money';

export const ORDER_STATUSES = [
  'CREATED',
  'PAID',
  'PAY_CANCELED',
  'PAY_ERROR',
  'REFUNDED',
  'PARTIAL_REFUNDED',
  'REFUND_INPROGRESS',
  'REFUND_ERROR',
  'CANCELED',
  'CANCEL_ERROR',
  'CANCEL_INPROGRESS',
  'INVALID_STATUS_CODE',
] as const;
/** Known gateway order statuses; unknown ones are kept verbatim as strings. */
export type KnownOrderStatus = (typeof ORDER_STATUSES)[number];
export type OrderStatus = KnownOrderStatus | (string & {});

/** A Upay order as the store keeps it. */
export interface Order {
  sn: string;
  clientSn: string;
  tradeNo: string | null;
  totalCents: Cents;
  netCents: Cents;
  payway: string | null;
  paywayName: string | null;
  subject: string | null;
  operator: string | null;
  /** Unix ms when the payment finished (the business day derives from it). */
  finishedAt: number;
  status: OrderStatus;
  businessDay: string;
  /** When this row last changed locally. */
  updatedAt: number;
  /**
   * The terminal that took the payment (the gateway's `terminal_sn`; this terminal's for a sale the host app
   * records). Null or absent: this terminal's (rows written before schema version 18, answers without one).
   * An order of another till is imported here only to void or refund it: never this counter's payment.
   */
  terminalSn?: string | null;
}

/** What the host app (or an import) records. */
export type OrderInput = Omit<Order, 'businessDay' | 'updatedAt'>;

/** The terminal's public identity (never the key). */
export interface TerminalInfo {
  terminalSn: string;
  deviceId: string;
  merchantSn: string | null;
  merchantName: string | null;
  storeSn: string | null;
  storeName: string | null;
  activatedAt: number;
  /** Unix ms of the last key change (activation or check-in). */
  keyUpdatedAt: number;
  lastCheckinDay: string | null;
}

export { FINAL_REVOKE_STATES, REVOKE_STATES, type RevokeOutcome, type RevokeState } from './common/states';
import type { RevokeState } from './common/states';

export interface RevokeError {
  /** Our code (e.g. NOT_TODAY, GATEWAY_REFUSED) */
  code: string;
  messageZh: string;
  messageEn: string;
  /** The gateway's own code and message, verbatim, when there is one. */
  gatewayCode: string | null;
  gatewayMessage: string | null;
}

export interface Revoke {
  id: number;
  orderSn: string;
  clientSn: string;
  state: RevokeState;
  /** Who voided (name; null: not recorded). The payment's own operator is the order's. */
  operator: string | null;
  /** Who voided, as an operator id (null: the CLI, a host app without operators, or before version 6). */
  operatorId: number | null;
  /** The supervisor who approved it, when one did. */
  approverId: number | null;
  approverName: string | null;
  requestedAt: number;
  updatedAt: number;
  /** Number of revoke requests written to the wire. */
  attempts: number;
  /** Number of queries made to resolve it. */
  queries: number;
  nextAttemptAt: number | null;
  /** Business day the revoke must be done within. */
  deadlineDay: string;
  revokedAt: number | null;
  error: RevokeError | null;
  /** Last raw gateway result code seen (verbatim). */
  lastResultCode: string | null;
}

export type PrintJobState = 'pending' | 'printed' | 'failed';

export interface PrintJob {
  id: number;
  revokeId: number | null;
  orderSn: string | null;
  kind: 'revoke' | 'test' | 'refund' | 'report' | 'payment';
  copy: boolean;
  state: PrintJobState;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  printedAt: number | null;
  nextAttemptAt: number | null;
}
