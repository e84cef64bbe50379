/**
 * The sandbox's orders: storage, lookup (by `sn` first, then by `client_sn`,
 * as the documents say), seeding, the wire snapshot in the real answers'
 * shape, and query, which also moves in-flight orders on (a payment, a void
 * or a refund answered "in progress" settles after a number of queries).
 */
import { businessDay, type Clock } from '../common/time';
import { bizFail, ok, PAYWAY_NAMES, requireOrderRef, type AnswerShape, type Fields, type Outcome } from './wire';

export interface SandboxRefund {
  refundRequestNo: string;
  refundCents: number;
  operator: string;
  at: number;
}

/** What an order in flight turns into once its pending queries are used up. */
export type PendingEnd =
  | { to: 'PAID' }
  | { to: 'PAY_CANCELED' }
  | { to: 'CANCELED' }
  | { to: 'REFUND'; refund: SandboxRefund }
  /** Back to what it was before (a void or refund that did not happen; `failedRefund`: that refund's number, now failed). */
  | { to: 'RESTORE'; orderStatus: string; failedRefund?: string };

/** A snapshot of a sandbox order (copies: mutating it does not change the gateway). */
export interface SandboxOrder {
  sn: string;
  clientSn: string;
  terminalSn: string;
  tradeNo: string;
  /** Transaction status of the last action (`SUCCESS`, `FAIL_CANCELED`, `IN_PROG`, ...). */
  status: string;
  orderStatus: string;
  payway: string;
  paywayName: string;
  subPayway: string;
  totalCents: number;
  netCents: number;
  refundedCents: number;
  subject: string;
  /** The cashier who took the payment. */
  operator: string;
  dynamicId: string;
  /** Unix ms the order was created (the wire's `ctime`). */
  createdAt: number;
  /** Unix ms the payment finished (decides the business day of a revoke); createdAt while not paid. */
  finishTime: number;
  /** Unix ms of the order's last finished action (the wire's `finish_time`); null while nothing finished. */
  lastActionAt: number | null;
  /** Operator of the last action (the wire's `operator`). */
  lastOperator: string;
  /** Took part in a promotion: revoke/cancel answers CANCEL_ERROR. */
  promotion: boolean;
  canceledAt: number | null;
  /** Queries still answering the in-flight state, and what the order becomes after them. */
  pending: { queries: number; end: PendingEnd } | null;
  refunds: SandboxRefund[];
  /** Refund numbers whose refund failed: a query by one answers that refund FAIL; in strict mode the number stays used. */
  failedRefunds: string[];
  reflect: string;
  payerUid: string;
  payerLogin: string;
  /** Money was taken from the customer at some point (the order was PAID). */
  moneyTaken: boolean;
  /** Money taken was given back by a cancel or revoke (not a refund). */
  moneyReturned: boolean;
}

export interface SeedOrderInput {
  terminalSn: string;
  clientSn?: string;
  totalCents: number;
  /** Payment time; default clock.now(). */
  finishedAt?: number;
  promotion?: boolean;
  /** order_status; default PAID. REFUNDED/PARTIAL_REFUNDED derive net/refunded amounts. */
  status?: string;
  /** For PARTIAL_REFUNDED (default 1 cent) and REFUNDED (default the total). */
  refundedCents?: number;
  /** When the refund or void of a seeded REFUNDED/PARTIAL_REFUNDED/CANCELED order happened; default finishedAt. */
  lastActionAt?: number;
  payway?: string;
  paywayName?: string;
  subject?: string;
  operator?: string;
}

export const STORE_ID = '100ed809-af9a-11e5-9ec3-00163e00625b';

export class OrderBook {
  private readonly bySn = new Map<string, SandboxOrder>();
  /** Client order numbers are unique per merchant; the sandbox has one merchant. */
  private readonly snByClientSn = new Map<string, string>();
  private clientSnCounter = 0;

  constructor(
    readonly clock: Clock,
    readonly shape: AnswerShape,
    private readonly digits: (n: number) => string,
    /** A refund number whose refund failed stays used: sent again, it answers FAIL + UPAY_REFUND_ORDER_NOOP (the vendor's FAQ). */
    readonly strictRefundNumbers = false,
  ) {}

  newOrderSn(): string {
    for (;;) {
      const sn = `789${this.digits(13)}`;
      if (!this.bySn.has(sn)) return sn;
    }
  }

  newTradeNo(payway: string, at: number): string {
    const day = businessDay(at).replace(/-/g, '');
    if (payway === '3') return `4200${this.digits(24)}`;
    if (payway === '1' || payway === '2') return `${day}22001${this.digits(15)}`;
    return `${day}${this.digits(20)}`;
  }

  newPayer(): { payerUid: string; payerLogin: string } {
    return { payerUid: `2088${this.digits(12)}`, payerLogin: `138****${this.digits(4)}` };
  }

  hasClientSn(clientSn: string): boolean {
    return this.snByClientSn.has(clientSn);
  }

  /** The documents: by `sn` first; when no order has that sn, by `client_sn`. */
  find(f: Fields): SandboxOrder | undefined {
    const bySn = f.sn ? this.bySn.get(f.sn) : undefined;
    if (bySn) return bySn;
    const sn = f.client_sn ? this.snByClientSn.get(f.client_sn) : undefined;
    return sn === undefined ? undefined : this.bySn.get(sn);
  }

  live(ref: string): SandboxOrder | undefined {
    return this.bySn.get(ref) ?? this.bySn.get(this.snByClientSn.get(ref) ?? '');
  }

  get(ref: string): SandboxOrder | undefined {
    const o = this.live(ref);
    return o ? cloneOrder(o) : undefined;
  }

  all(): SandboxOrder[] {
    return [...this.bySn.values()].map(cloneOrder);
  }

  /** A new order from a pay or precreate request (no money taken yet), stored; the caller moves it on. */
  open(init: Pick<SandboxOrder, 'clientSn' | 'terminalSn' | 'status' | 'orderStatus' | 'payway' | 'subPayway' | 'totalCents' | 'dynamicId' | 'lastActionAt'>, f: Fields): SandboxOrder {
    const now = this.clock.now();
    const o: SandboxOrder = {
      ...init,
      sn: this.newOrderSn(),
      tradeNo: '',
      paywayName: PAYWAY_NAMES[init.payway] ?? '其他',
      netCents: 0,
      refundedCents: 0,
      subject: f.subject ?? '',
      operator: f.operator ?? '',
      createdAt: now,
      finishTime: now,
      lastOperator: f.operator ?? '',
      promotion: false,
      canceledAt: null,
      pending: null,
      refunds: [],
      failedRefunds: [],
      reflect: f.reflect ?? '',
      moneyTaken: false,
      moneyReturned: false,
      ...this.newPayer(),
    };
    this.insert(o);
    return o;
  }

  insert(o: SandboxOrder): void {
    this.bySn.set(o.sn, o);
    this.snByClientSn.set(o.clientSn, o.sn);
  }

  /** Sum of today's paid totals (the store's daily limit). */
  paidToday(now: number): number {
    const day = businessDay(now);
    let sum = 0;
    for (const o of this.bySn.values()) if (o.tradeNo !== '' && businessDay(o.finishTime) === day) sum += o.totalCents;
    return sum;
  }

  private nextClientSn(): string {
    for (;;) {
      this.clientSnCounter += 1;
      const c = `SANDBOX${String(this.clientSnCounter).padStart(8, '0')}`;
      if (!this.snByClientSn.has(c)) return c;
    }
  }

  seed(input: SeedOrderInput): SandboxOrder {
    if (!Number.isSafeInteger(input.totalCents) || input.totalCents <= 0) {
      throw new RangeError(`sandbox: totalCents must be a positive integer, got ${input.totalCents}`);
    }
    const clientSn = input.clientSn ?? this.nextClientSn();
    if (this.snByClientSn.has(clientSn)) throw new Error(`sandbox: client_sn ${clientSn} already used`);
    const status = input.status ?? 'PAID';
    const at = input.finishedAt ?? this.clock.now();
    const last = input.lastActionAt ?? at;
    let refunded = 0;
    if (status === 'REFUNDED') refunded = input.refundedCents ?? input.totalCents;
    else if (status === 'PARTIAL_REFUNDED') refunded = input.refundedCents ?? 1;
    else if (input.refundedCents !== undefined) refunded = input.refundedCents;
    const payway = input.payway ?? '3';
    const voided = status === 'CANCELED' || status === 'PAY_CANCELED';
    const operator = input.operator ?? 'sandbox';
    const o: SandboxOrder = {
      sn: this.newOrderSn(),
      clientSn,
      terminalSn: input.terminalSn,
      tradeNo: status === 'PAY_CANCELED' ? '' : this.newTradeNo(payway, at),
      status: status === 'PAY_CANCELED' ? 'FAIL_CANCELED' : 'SUCCESS',
      orderStatus: status,
      payway,
      paywayName: input.paywayName ?? PAYWAY_NAMES[payway] ?? '其他',
      subPayway: '1',
      totalCents: input.totalCents,
      netCents: voided ? 0 : input.totalCents - refunded,
      refundedCents: refunded,
      subject: input.subject ?? '沙箱商品',
      operator,
      dynamicId: '',
      createdAt: at,
      finishTime: at,
      lastActionAt: refunded > 0 || status === 'CANCELED' ? last : at,
      lastOperator: operator,
      promotion: input.promotion ?? false,
      canceledAt: status === 'CANCELED' ? last : null,
      pending: null,
      refunds: refunded > 0 ? [{ refundRequestNo: `seed-${clientSn}`, refundCents: refunded, operator: 'sandbox', at: last }] : [],
      failedRefunds: [],
      reflect: '',
      moneyTaken: status !== 'PAY_CANCELED',
      moneyReturned: status === 'CANCELED',
      ...this.newPayer(),
    };
    this.insert(o);
    return cloneOrder(o);
  }

  query(f: Fields): Outcome {
    const missing = requireOrderRef(f);
    if (missing) return missing;
    const o = this.find(f);
    if (!o) return { envelope: bizFail(this.shape, 'FAIL', 'UPAY_ORDER_NOT_EXISTS', '订单不存在'), effect: false, ...refOf(f) };
    if (o.pending) {
      if (o.pending.queries <= 0) settle(o, o.pending.end, this.clock.now());
      else o.pending.queries -= 1;
    }
    const requestNo = f.refund_request_no;
    if (requestNo) return this.refundAnswer(o, requestNo);
    return { envelope: ok({ result_code: 'SUCCESS', data: this.snapshot(o) }), effect: false, sn: o.sn, clientSn: o.clientSn };
  }

  /**
   * A query by `refund_request_no` (query.md: optional) answers about that
   * refund: the order's fields, with `client_tsn` naming the refund and
   * `status` its own transaction status (SUCCESS, IN_PROG or REFUND_ERROR while
   * in flight, FAIL once failed). A number the gateway never saw: FAIL +
   * UPAY_REFUND_NOT_EXISTS (the documents do not say [open]).
   */
  private refundAnswer(o: SandboxOrder, requestNo: string): Outcome {
    const ref = { effect: false, sn: o.sn, clientSn: o.clientSn };
    const applied = o.refunds.find((r) => r.refundRequestNo === requestNo);
    const inFlight = o.pending?.end.to === 'REFUND' && o.pending.end.refund.refundRequestNo === requestNo;
    const restoring = o.pending?.end.to === 'RESTORE' && o.pending.end.failedRefund === requestNo;
    const failed = o.failedRefunds.includes(requestNo);
    const status = applied ? 'SUCCESS' : inFlight || restoring ? o.status : failed ? 'FAIL' : null;
    if (status === null) return { envelope: bizFail(this.shape, 'FAIL', 'UPAY_REFUND_NOT_EXISTS', '退款不存在'), ...ref };
    const data = { ...this.snapshot(o), client_tsn: `${o.clientSn}-${requestNo}`, status, refund_request_no: requestNo, ...(applied ? { refund_amount: String(applied.refundCents) } : {}) };
    return { envelope: ok({ result_code: 'SUCCESS', data }), ...ref };
  }

  /** The order as the wire shows it: every value a string. */
  snapshot(o: SandboxOrder): Record<string, unknown> {
    const last = o.lastActionAt === null ? '' : String(o.lastActionAt);
    const lean: Record<string, string> = {
      terminal_sn: o.terminalSn,
      sn: o.sn,
      client_sn: o.clientSn,
      trade_no: o.tradeNo,
      status: o.status,
      order_status: o.orderStatus,
      payway: o.payway,
      payway_name: o.paywayName,
      sub_payway: o.subPayway,
      total_amount: String(o.totalCents),
      net_amount: String(o.netCents),
      subject: o.subject,
      // The documents: the last action's operator and finish time (payment, refund or void), not the payment's.
      operator: o.lastOperator,
      finish_time: last,
      channel_finish_time: last,
    };
    if (this.shape === 'lean') {
      for (const k of ['trade_no', 'finish_time', 'channel_finish_time'] as const) if (lean[k] === '') delete lean[k];
      return lean;
    }
    const paid = o.tradeNo !== '';
    return {
      ...lean,
      client_tsn: o.refunds.at(-1)?.refundRequestNo ? `${o.clientSn}-${o.refunds.at(-1)?.refundRequestNo}` : o.clientSn,
      ctime: String(o.createdAt),
      payer_uid: paid ? o.payerUid : '',
      payer_login: paid ? o.payerLogin : '',
      store_id: STORE_ID,
      description: '',
      reflect: o.reflect,
      payment_list: paid ? [{ type: o.payway === '3' ? 'WALLET_WEIXIN' : 'WALLET_ALIPAY', amount_total: String(o.totalCents) }] : [],
    };
  }
}

/** Ends an in-flight state. */
export function settle(o: SandboxOrder, end: PendingEnd, at: number): void {
  o.pending = null;
  switch (end.to) {
    case 'PAID':
      o.orderStatus = 'PAID';
      o.status = 'SUCCESS';
      o.netCents = o.totalCents;
      o.finishTime = at;
      o.lastActionAt = at;
      o.moneyTaken = true;
      return;
    case 'PAY_CANCELED':
      o.orderStatus = 'PAY_CANCELED';
      o.status = 'FAIL_CANCELED';
      o.tradeNo = '';
      o.netCents = 0;
      o.lastActionAt = at;
      return;
    case 'CANCELED':
      finishVoid(o, at);
      return;
    case 'REFUND':
      applyRefund(o, end.refund);
      return;
    case 'RESTORE':
      o.orderStatus = end.orderStatus;
      o.status = 'SUCCESS';
      if (end.failedRefund) o.failedRefunds.push(end.failedRefund);
      return;
  }
}

export function finishVoid(o: SandboxOrder, at: number): void {
  if (o.moneyTaken) o.moneyReturned = true;
  o.orderStatus = 'CANCELED';
  o.status = 'SUCCESS';
  o.netCents = 0;
  o.canceledAt = at;
  o.lastActionAt = at;
  o.pending = null;
}

export function applyRefund(o: SandboxOrder, r: SandboxRefund): void {
  o.refunds.push(r);
  o.refundedCents += r.refundCents;
  o.netCents -= r.refundCents;
  o.orderStatus = o.netCents === 0 ? 'REFUNDED' : 'PARTIAL_REFUNDED';
  o.status = 'SUCCESS';
  o.lastActionAt = r.at;
  o.lastOperator = r.operator;
}

export function cloneOrder(o: SandboxOrder): SandboxOrder {
  return { ...o, refunds: o.refunds.map((r) => ({ ...r })), failedRefunds: [...o.failedRefunds], pending: o.pending ? { ...o.pending } : null };
}

export function refOf(f: Fields): { sn?: string; clientSn?: string } {
  return { ...(f.sn ? { sn: f.sn } : {}), ...(f.client_sn ? { clientSn: f.client_sn } : {}) };
}
