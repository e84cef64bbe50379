/**
 * What a kind of money operation (revoke/, refund/, pay/) supplies to the
 * skeleton (engine.ts), and nothing more: its table's statements, whether it
 * may wait in the queue, its request (the gateway call and the query about
 * it), its interpretation table (answer -> Step), its polling schedule, an
 * optional reversal action, its messages, and what success records besides
 * the row (the order, the receipt). The skeleton owns everything else:
 * write-ahead, leases, send, query, bounded re-send, needs_attention, group
 * commit, crash resume, the re-check, events. docs/operations.md: "How to
 * add a kind".
 */
import type { OperationRow } from '../store/rows';
import type { OperationRepo } from '../store/operation-repo';
import type { Signer, UpayClient } from '../upay/client';
import type { CallResult, OrderResult, OrderSnapshot } from '../upay/result';
import type { Db } from '../store/db';
import type { RuntimeEvents } from '../events';
import type { OrderService } from '../orders/service';
import type { Gateway } from './failures';
import type { OperationTiming } from './timing';

export type { Gateway } from './failures';

/** A message a cashier reads (zh-CN and en), with its code. */
export interface KindMessage {
  code: string;
  messageZh: string;
  messageEn: string;
}

/**
 * The verdict of an interpretation table: where an answer (or a query's
 * answer, or a reversal's) moves the row. `patch` carries kind columns to
 * write with the arrow (a revoke's re-send count, a payment's cancel count).
 */
export type Step<Row extends OperationRow> =
  /** Done: the kind's success state, the order's new state and its receipt in the same transaction. */
  | { to: 'succeeded'; order: OrderSnapshot | null; resultCode: string | null }
  /** Final and not a success: the kind's failed state, or `state` (a revoke's `expired`, a payment's `canceled`). */
  | { to: 'failed'; code: string; gateway?: Gateway; resultCode?: string | null; state?: string; order?: OrderSnapshot }
  /** Outcome unknown: polled by query. `code`: the message shown meanwhile (default PENDING). */
  | { to: 'pending'; resultCode: string | null; gateway?: Gateway; code?: string }
  /** Certainly not sent: waits in the queue (a kind that cannot be queued fails instead). */
  | { to: 'queued'; reason: string; code?: string; gateway?: Gateway }
  /** A query proved the call did not apply: send it again now (the kind bounds how often). */
  | { to: 'resend'; patch?: Partial<Row> }
  /** Start, or continue, the kind's reversal action (a payment's cancel / 冲正). */
  | { to: 'reverse'; patch?: Partial<Row> }
  /** A person must decide (the kind's attempts are exhausted). `code`: the message shown (default NEEDS_ATTENTION). */
  | { to: 'attention'; patch?: Partial<Row>; code?: string }
  /** A query told nothing new: the polling schedule decides. `code`: the message if that hands it to a person. */
  | { to: 'unknown'; reason: string; code?: string };

/** When a row that awaits its outcome is asked about. */
export interface Polling<Row extends OperationRow> {
  /** The first query after an uncertain answer is due at this time. */
  first(row: Row, now: number): number;
  /**
   * After a query left the outcome unknown (`since`: when it became
   * uncertain; `byPerson`: a person asked): when to ask again, or, once the
   * window is over, what happens now.
   */
  next(row: Row, since: number, now: number, byPerson: boolean): number | 'attention' | 'reverse';
}

export interface OperationKind<Row extends OperationRow> {
  /** The lock's kind, the audit actions' prefix (`<name>.resolved`), the log label: 'revoke', 'refund', 'pay'. */
  readonly name: string;
  readonly repo: OperationRepo<Row>;
  /** May a row wait for the network (`queued`)? false: a call certainly not sent fails the row at once. */
  readonly queueable: boolean;
  /** The state success records ('revoked', 'refunded', 'paid') and the one a plain refusal records ('rejected', 'failed'). */
  readonly successState: string;
  readonly failedState: string;
  /**
   * Final states a success may not overwrite (absent: none, the gateway's truth wins over any state: a revoke
   * recorded `rejected` and then seen CANCELED is revoked). A payment lists `canceled`: an order never goes from
   * CANCELED back to PAID, so a PAY_SUCCESS (or PAID) arriving after it is stale; it is audited, not applied.
   */
  readonly successNeverOverwrites?: readonly string[];
  /**
   * How the gateway's answers name this kind's order, the identifier its query asks by: 'sn' (a revoke, a refund:
   * the row's order_sn, or its client_sn in an answer without an sn) or 'client_sn' (a payment: its own client_sn,
   * and this terminal's terminal_sn when the answer carries one). An answer naming another order is no result
   * about the row (`otherOrder`): the skeleton reads it as an answer that said nothing.
   */
  readonly namedBy: 'sn' | 'client_sn';
  /**
   * The cashier's message for a code: the skeleton uses PENDING, QUEUED, NEEDS_ATTENTION, and OTHER_ORDER /
   * OTHER_ORDER_ATTENTION (an answer about another order: still being confirmed / handed to a person); steps name the others.
   */
  message(code: string, gateway?: Gateway): KindMessage;
  /** The request: sends the row's gateway call (its body built from the row's columns). */
  send(client: UpayClient, signer: Signer, row: Row): Promise<CallResult<OrderResult>>;
  /** The query about this row (revoke: by sn; refund: with its refund_request_no; pay: by client_sn). */
  query(client: UpayClient, signer: Signer, row: Row): Promise<CallResult<OrderResult>>;
  /** The interpretation table for the call's answer and for a query's. */
  interpretSend(res: CallResult<OrderResult>, row: Row, now: number): Step<Row>;
  interpretQuery(res: CallResult<OrderResult>, row: Row, now: number): Step<Row>;
  readonly polling: Polling<Row>;
  /** The reversal action, if the kind has one (pay: cancel by client_sn). The row is in `state` while it runs. */
  readonly reverse?: {
    state: string;
    call(client: UpayClient, signer: Signer, row: Row): Promise<CallResult<OrderResult>>;
    interpret(res: CallResult<OrderResult>, row: Row, now: number): Step<Row>;
  };
  /** Inside the transaction that records success: the kind's columns, then the order and the receipt job. */
  successPatch(row: Row, now: number): Partial<Row>;
  succeeded(stored: Row, snapshot: OrderSnapshot | null, now: number): void;
  /** After a commit that recorded a success (wake the printer). */
  afterSuccess?(): void;
  /**
   * Inside the transaction that records a final state that is not a success (optional): a receipt job that state
   * calls for (a payment canceled after money was taken and given back: the 撤销/冲正 slip). `publish` wakes the printer.
   */
  failed?(stored: Row, now: number): void;
  /**
   * An answer the skeleton found to be about `row` (steps.ts `interpret`), just before its table reads it: what the
   * kind keeps of it besides the arrow (a payment's order sn, status, trade no, QR, a cancel's code), never a
   * transition. An answer about another order never reaches it: nothing of that order is ever written on the row.
   */
  keep?(row: Row, res: CallResult<OrderResult>): void;
  /**
   * Codes a row is handed to a person with that no unclear answer replaces (a refund's TOO_OLD: never sent again
   * without a person's tap): while the row shows one, the arrows to needs_attention and pending keep it and its words.
   */
  readonly standingCodes?: readonly string[];
  /** A final answer carried the order's status: bring the local order up to date. */
  refreshOrder?(snapshot: OrderSnapshot, now: number): void;
  /**
   * Another kind's answer showed the order's status: a Step that settles this
   * kind's open row of that order (a revoke: CANCELED -> succeeded), or
   * undefined. Only `succeeded` and `failed` are applied (no call is made).
   */
  settles?(snapshot: OrderSnapshot, row: Row): Step<Row> | undefined;
  /**
   * The answer alone, before any read: false when `settles` would settle no row
   * of this kind whatever it is (most answers: a payment's PAID is no revoke's
   * CANCELED), so the open row is not looked up. Absent: always look.
   */
  mightSettle?(snapshot: OrderSnapshot): boolean;
  /** Tells the world the row moved (`<kind>.updated`). */
  publish(row: Row): void;
  /** Each outbox pass: the kind's own deadlines (revoke: same-day expiry and its warning). Returns rows moved. */
  sweep?(now: number, owner: string): Row[];
  /** The earliest of the kind's own deadlines, for the worker's wake-up. */
  nextDeadline?(): number | null;
  /** A queued row about to be sent: a Step ends it instead (revoke: its business day is over -> expired). */
  beforeSend?(row: Row, now: number): Step<Row> | undefined;
}

/** The message codes of an answer about another order: still being confirmed, and handed to a person. */
export const OTHER_ORDER = 'OTHER_ORDER';
export const OTHER_ORDER_ATTENTION = 'OTHER_ORDER_ATTENTION';

/**
 * What an answer's order names that is not the row's own order (e.g. `sn 7894…`), or undefined when it names the
 * row's order or no order at all (a bare refusal: result_code and error_code only, judged as before). `namedBy`:
 * the kind's (see OperationKind.namedBy); `terminalSn`: this terminal's, asked only when the answer carries one.
 */
export function otherOrder(
  order: OrderSnapshot | null,
  row: Pick<OperationRow, 'order_sn' | 'client_sn'>,
  namedBy: 'sn' | 'client_sn',
  terminalSn: () => string | null | undefined,
): string | undefined {
  if (!order) return undefined;
  if (namedBy === 'sn' && order.sn !== null) return order.sn === row.order_sn ? undefined : `sn ${order.sn}`;
  if (order.clientSn !== null && order.clientSn !== row.client_sn) return `client_sn ${order.clientSn}`;
  if (namedBy === 'client_sn' && order.terminalSn !== null) {
    const ours = terminalSn();
    if (ours && order.terminalSn !== ours) return `terminal_sn ${order.terminalSn}`;
  }
  return undefined;
}

/** What every kind's factory is given (a kind adds its own: receipts, deadlines). */
export interface KindDeps {
  db: Db;
  orders: OrderService;
  events: RuntimeEvents;
  timing?: Partial<OperationTiming>;
}

/** A verdict that is no success: a refusal, an unknown outcome, or not sent (failures.ts's, and each kind's). */
export type PlainVerdict =
  | { to: 'rejected'; code: string; gateway: Gateway; resultCode: string | null }
  | { to: 'pending'; reason: string; resultCode: string | null; gateway?: Gateway }
  | { to: 'queued'; reason: string; code?: string; gateway?: Gateway };

/** The Step of an answer with no business result, or a plain refusal, the same for every kind. */
export function failureStep<Row extends OperationRow>(v: PlainVerdict): Step<Row> {
  const said = 'gateway' in v && v.gateway ? { gateway: v.gateway } : {};
  switch (v.to) {
    case 'rejected':
      return { to: 'failed', code: v.code, gateway: v.gateway, resultCode: v.resultCode };
    case 'pending':
      return { to: 'pending', resultCode: v.resultCode, ...said };
    case 'queued':
      return { to: 'queued', reason: v.reason, ...(v.code ? { code: v.code } : {}), ...said };
  }
}
