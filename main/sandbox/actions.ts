/**
 * The money-moving endpoints of the sandbox: pay, revoke/cancel and refund,
 * with the documents' rules and the business faults that make the gateway
 * answer every result code the documents list (in progress, unknown, refused).
 */
import { businessDay } from '../common/time';
import { applyRefund, finishVoid, refOf, type OrderBook } from './orders';
import {
  bizFail,
  bytes,
  checkLengths,
  invalidParams,
  isAmount,
  LIMITS,
  ok,
  paywayForBarcode,
  requireFields,
  requireNewOrder,
  requireOrderRef,
  type Biz,
  type Fields,
  type Outcome,
} from './wire';

/** Business codes a pay can be refused with (PAY_FAIL, the order PAY_CANCELED). */
export type PayFailCode =
  | 'INSUFFICIENT_FUND'
  | 'EXPIRED_BARCODE'
  | 'BUYER_OVER_DAILY_LIMIT'
  | 'BUYER_OVER_TRANSACTION_LIMIT'
  | 'SELLER_OVER_DAILY_LIMIT'
  | 'UPAY_STORE_OVER_DAILY_LIMIT'
  | 'TRADE_TIMEOUT';

/** Faults that change a business answer rather than the transport. */
export type BusinessFault =
  /** revoke/cancel: CANCEL_IN_PROGRESS (CANCEL_ABORT_IN_PROGRESS for an in-flight payment); CANCELED after K queries. */
  | { kind: 'cancel_in_progress'; queries: number }
  /**
   * revoke/cancel: CANCEL_ERROR (CANCEL_ABORT_ERROR for an in-flight payment) without an error_code.
   * `canceled`: voided anyway; `untouched`: nothing changed; `error`: the order stays CANCEL_ERROR.
   */
  | { kind: 'cancel_error_no_code'; outcome: 'canceled' | 'untouched' | 'error' }
  /** pay: PAY_IN_PROGRESS, order CREATED for K queries, then `then` (default PAID). */
  | { kind: 'pay_in_progress'; queries: number; then?: 'PAID' | 'PAY_CANCELED' }
  /** pay: PAY_FAIL_ERROR, order PAY_ERROR (the reversal's outcome is unknown). */
  | { kind: 'pay_fail_error' }
  /** pay: PAY_FAIL_IN_PROGRESS, order CREATED; PAY_CANCELED after K queries. */
  | { kind: 'pay_fail_in_progress'; queries: number }
  /** pay: PAY_FAIL with this business code, order PAY_CANCELED. */
  | { kind: 'pay_fail'; errorCode: PayFailCode }
  /** refund: REFUND_IN_PROGRESS, order REFUND_INPROGRESS; the refund applies after K queries. */
  | { kind: 'refund_in_progress'; queries: number }
  /** refund: REFUND_ERROR, order REFUND_ERROR for K queries, then refunded or untouched. */
  | { kind: 'refund_error'; queries: number; outcome: 'refunded' | 'untouched' }
  /** refund: REFUND_FAIL with a business code (default ACCOUNT_BALANCE_NOT_ENOUGH); order unchanged. */
  | { kind: 'refund_fail'; errorCode?: string };

export const BUSINESS_FAULT_ENDPOINTS: Readonly<Record<BusinessFault['kind'], readonly string[]>> = {
  cancel_in_progress: ['revoke', 'cancel'],
  cancel_error_no_code: ['revoke', 'cancel'],
  pay_in_progress: ['pay'],
  pay_fail_error: ['pay'],
  pay_fail_in_progress: ['pay'],
  pay_fail: ['pay'],
  refund_in_progress: ['refund'],
  refund_error: ['refund'],
  refund_fail: ['refund'],
};

const PAY_FAIL_MESSAGES: Record<PayFailCode, string> = {
  INSUFFICIENT_FUND: '账户金额不足',
  EXPIRED_BARCODE: '过期的支付条码',
  BUYER_OVER_DAILY_LIMIT: '付款人当日付款金额超过上限',
  BUYER_OVER_TRANSACTION_LIMIT: '付款人单笔付款金额超过上限',
  SELLER_OVER_DAILY_LIMIT: '收款账户当日收款金额超过上限',
  UPAY_STORE_OVER_DAILY_LIMIT: '商户日收款额超过上限',
  TRADE_TIMEOUT: '交易超时自动撤单',
};

export interface PayLimits {
  /** Above this a single payment is refused BUYER_OVER_TRANSACTION_LIMIT. */
  transactionCents?: number;
  /** Above this the store's paid total of the business day is refused UPAY_STORE_OVER_DAILY_LIMIT. */
  storeDailyCents?: number;
}

const int = (n: number): number => Math.max(0, Math.floor(n));

export function pay(book: OrderBook, terminalSn: string, f: Fields, fault: BusinessFault | undefined, limits: PayLimits): Outcome {
  const refused = requireNewOrder(f, ['terminal_sn', 'client_sn', 'total_amount', 'dynamic_id', 'subject', 'operator']);
  if (refused) return refused;
  const clientSn = f.client_sn ?? '';
  const total = f.total_amount ?? '';
  const dynamicId = f.dynamic_id ?? '';
  if (bytes(dynamicId) > LIMITS.dynamicIdBytes) return invalidParams(`dynamic_id 不超过${LIMITS.dynamicIdBytes}字节`);
  const tooLong = checkLengths(f, {
    subject: LIMITS.subject,
    operator: LIMITS.payOperator,
    description: LIMITS.description,
    reflect: LIMITS.reflect,
    notify_url: LIMITS.notifyUrl,
  });
  if (tooLong) return tooLong;
  if (f.payway !== undefined && !/^\d{1,3}$/.test(f.payway)) return invalidParams('payway 必须是数字');
  if ((f.longitude === undefined) !== (f.latitude === undefined)) return invalidParams('经纬度必须同时出现');
  if (book.hasClientSn(clientSn)) {
    return { envelope: bizFail(book.shape, 'FAIL', 'CLIENT_SN_CONFLICT', `client_sn在系统中已存在`), effect: false, clientSn };
  }
  const now = book.clock.now();
  const cents = Number(total);
  // The documents: a payway in the request overrides barcode detection.
  const payway = f.payway ?? paywayForBarcode(dynamicId);
  const barcodeOk = /^\d{10,32}$/.test(dynamicId);
  let failCode: PayFailCode | undefined;
  if (limits.transactionCents !== undefined && cents > limits.transactionCents) failCode = 'BUYER_OVER_TRANSACTION_LIMIT';
  else if (limits.storeDailyCents !== undefined && book.paidToday(now) + cents > limits.storeDailyCents) failCode = 'UPAY_STORE_OVER_DAILY_LIMIT';
  else if (fault?.kind === 'pay_fail') failCode = fault.errorCode;
  const o = book.open({ clientSn, terminalSn, status: 'FAIL_CANCELED', orderStatus: 'PAY_CANCELED', payway, subPayway: '1', totalCents: cents, dynamicId, lastActionAt: now }, f);
  const ref = { sn: o.sn, clientSn };
  const answer = (resultCode: string, extra: Biz = {}): Outcome => ({
    envelope: ok({ result_code: resultCode, ...extra, data: book.snapshot(o) }),
    effect: true,
    ...ref,
  });
  if (!barcodeOk) return answer('PAY_FAIL', { error_code: 'INVALID_BARCODE', error_message: '条码错误' });
  if (failCode) return answer('PAY_FAIL', { error_code: failCode, error_message: PAY_FAIL_MESSAGES[failCode] });
  const inFlight = (status: string): void => {
    o.orderStatus = 'CREATED';
    o.status = status;
    o.lastActionAt = null;
    o.netCents = 0;
  };
  switch (fault?.kind) {
    case 'pay_in_progress':
      inFlight('IN_PROG');
      o.tradeNo = book.newTradeNo(payway, now);
      o.pending = { queries: int(fault.queries), end: { to: fault.then ?? 'PAID' } };
      return answer('PAY_IN_PROGRESS');
    case 'pay_fail_in_progress':
      inFlight('IN_PROG');
      o.pending = { queries: int(fault.queries), end: { to: 'PAY_CANCELED' } };
      return answer('PAY_FAIL_IN_PROGRESS', { error_code: 'TRADE_FAILED', error_message: '交易失败' });
    case 'pay_fail_error':
      o.orderStatus = 'PAY_ERROR';
      o.status = 'FAIL_ERROR';
      o.lastActionAt = null;
      return answer('PAY_FAIL_ERROR', { error_code: 'TRADE_FAILED', error_message: '交易失败' });
    default:
      o.tradeNo = book.newTradeNo(payway, now);
      o.status = 'SUCCESS';
      o.orderStatus = 'PAID';
      o.netCents = cents;
      o.moneyTaken = true;
      return answer('PAY_SUCCESS');
  }
}

/** Revoke and cancel share the rules (the documents: same logic, different purpose). */
export function voidOrder(book: OrderBook, f: Fields, fault: BusinessFault | undefined, flat: boolean): Outcome {
  const missing = requireOrderRef(f);
  if (missing) return missing;
  const o = book.find(f);
  if (!o) return { envelope: bizFail(book.shape, 'FAIL', 'UPAY_ORDER_NOT_EXISTS', '订单不存在'), effect: false, ...refOf(f) };
  const ref = { sn: o.sn, clientSn: o.clientSn };
  const refuse = (code: string, message: string): Outcome => ({ envelope: bizFail(book.shape, 'FAIL', code, message), effect: false, ...ref });
  const now = book.clock.now();
  const biz = (resultCode: string): Biz => (flat ? { result_code: resultCode, ...book.snapshot(o) } : { result_code: resultCode, data: book.snapshot(o) });

  // A payment still in flight (or whose channel state is unknown): the cancel aborts it (the path cancel exists for).
  const abort = o.orderStatus === 'CREATED' || o.orderStatus === 'PAY_ERROR';
  if (o.orderStatus === 'CANCELED') return refuse('UPAY_CANCEL_ORDER_NOOP', `订单${o.sn}已撤单，无需重复操作`);
  if (!abort) {
    if (o.orderStatus !== 'PAID' || o.refundedCents > 0) {
      const why = o.refundedCents > 0 ? '已发生退款' : `状态为${o.orderStatus}`;
      return refuse('UPAY_CANCEL_INVALID_ORDER_STATE', `订单${o.sn}${why}，不能撤单`);
    }
    if (businessDay(now) !== businessDay(o.finishTime)) {
      return refuse('UPAY_CANCEL_INVALID_ORDER_STATE', `订单${o.sn}不是当日交易，只能撤销当日的订单，请使用退款`);
    }
    if (o.promotion) {
      return { envelope: bizFail(book.shape, 'CANCEL_ERROR', 'UPAY_TCP_ORDER_NOT_REFUNDABLE', `订单${o.sn}参与了活动并且无法撤销`), effect: false, ...ref };
    }
  }
  const code = (plain: string, aborting: string): string => (abort ? aborting : plain);
  if (fault?.kind === 'cancel_in_progress') {
    o.orderStatus = 'CANCEL_INPROGRESS';
    o.status = 'IN_PROG';
    o.pending = { queries: int(fault.queries), end: { to: 'CANCELED' } };
    return { envelope: ok(biz(code('CANCEL_IN_PROGRESS', 'CANCEL_ABORT_IN_PROGRESS'))), effect: true, ...ref };
  }
  if (fault?.kind === 'cancel_error_no_code') {
    if (fault.outcome === 'canceled') finishVoid(o, now);
    if (fault.outcome === 'error') {
      o.orderStatus = 'CANCEL_ERROR';
      o.status = 'CANCEL_ERROR';
      o.pending = null;
    }
    // No error_code at all: the client cannot know what happened and must query.
    const resultCode = code('CANCEL_ERROR', 'CANCEL_ABORT_ERROR');
    const envelope = ok({ result_code: resultCode, ...(book.shape === 'real' ? { error_code: '', data: null } : {}), error_message: '撤单失败，请查询订单状态' });
    return { envelope, effect: fault.outcome !== 'untouched', ...ref };
  }
  finishVoid(o, now);
  return { envelope: ok(biz(code('CANCEL_SUCCESS', 'CANCEL_ABORT_SUCCESS'))), effect: true, ...ref };
}

/**
 * The refund window: the documents say refunds are possible for 3 months; the code and message past it
 * are not documented [open]: the sandbox answers FAIL + UPAY_REFUND_INVALID_ORDER_STATE after 90 days.
 */
export const REFUND_WINDOW_MS = 90 * 86_400_000;

export function refund(book: OrderBook, f: Fields, fault: BusinessFault | undefined): Outcome {
  const missing = requireOrderRef(f) ?? requireFields(f, ['refund_request_no', 'refund_amount', 'operator']);
  if (missing) return missing;
  const amount = f.refund_amount ?? '';
  if (!isAmount(amount)) return invalidParams(`refund_amount金额为整数，长度不超过${LIMITS.amountDigits}位，以分为单位`);
  const tooLong = checkLengths(f, { operator: LIMITS.refundOperator, refund_request_no: LIMITS.refundRequestNo });
  if (tooLong) return tooLong;
  const o = book.find(f);
  if (!o) return { envelope: bizFail(book.shape, 'FAIL', 'UPAY_ORDER_NOT_EXISTS', '订单不存在'), effect: false, ...refOf(f) };
  const ref = { sn: o.sn, clientSn: o.clientSn };
  const fail = (resultCode: string, code: string, message: string): Outcome => ({ envelope: bizFail(book.shape, resultCode, code, message), effect: false, ...ref });
  const requestNo = f.refund_request_no ?? '';
  // Idempotency: a repeated refund_request_no never refunds twice (the documents' UPAY_REFUND_ORDER_NOOP).
  if (o.refunds.some((r) => r.refundRequestNo === requestNo)) return fail('FAIL', 'UPAY_REFUND_ORDER_NOOP', '无效操作，本次退款退款已经完成了');
  // Strict mode: a number whose refund failed stays used, and the gateway answers it as a no-op (nothing moves).
  if (book.strictRefundNumbers && o.failedRefunds.includes(requestNo)) return fail('FAIL', 'UPAY_REFUND_ORDER_NOOP', '无效操作，本次退款退款已经完成了');
  const pendingRefund = o.pending?.end.to === 'REFUND' ? o.pending.end.refund : undefined;
  if (pendingRefund?.refundRequestNo === requestNo) {
    return { envelope: ok({ result_code: o.orderStatus === 'REFUND_ERROR' ? 'REFUND_ERROR' : 'REFUND_IN_PROGRESS', data: book.snapshot(o) }), effect: false, ...ref };
  }
  if (o.orderStatus !== 'PAID' && o.orderStatus !== 'PARTIAL_REFUNDED') {
    return fail('FAIL', 'UPAY_REFUND_INVALID_ORDER_STATE', `订单${o.sn}状态为${o.orderStatus}，不能退款`);
  }
  if (book.clock.now() - o.finishTime > REFUND_WINDOW_MS) {
    return fail('FAIL', 'UPAY_REFUND_INVALID_ORDER_STATE', `订单${o.sn}已超过退款期限，不能退款`);
  }
  const cents = Number(amount);
  if (cents > o.netCents) return fail('FAIL', 'REFUNDABLE_AMOUNT_NOT_ENOUGH', `订单可退金额不足，剩余可退${o.netCents}分`);
  if (fault?.kind === 'refund_fail') {
    const code = fault.errorCode ?? 'ACCOUNT_BALANCE_NOT_ENOUGH';
    o.failedRefunds.push(requestNo);
    return fail('REFUND_FAIL', code, code === 'ACCOUNT_BALANCE_NOT_ENOUGH' ? '商户余额不足' : '退款失败');
  }
  const now = book.clock.now();
  const r = { refundRequestNo: requestNo, refundCents: cents, operator: f.operator ?? '', at: now };
  const answer = (resultCode: string, effect = true): Outcome => ({
    envelope: ok({ result_code: resultCode, data: { ...book.snapshot(o), refund_request_no: requestNo, refund_amount: amount } }),
    effect,
    ...ref,
  });
  if (fault?.kind === 'refund_in_progress' || fault?.kind === 'refund_error') {
    const before = o.orderStatus;
    const inProgress = fault.kind === 'refund_in_progress';
    o.orderStatus = inProgress ? 'REFUND_INPROGRESS' : 'REFUND_ERROR';
    o.status = inProgress ? 'IN_PROG' : 'REFUND_ERROR';
    const end = inProgress || fault.outcome === 'refunded' ? ({ to: 'REFUND', refund: r } as const) : ({ to: 'RESTORE', orderStatus: before, failedRefund: requestNo } as const);
    o.pending = { queries: int(fault.queries), end };
    return answer(inProgress ? 'REFUND_IN_PROGRESS' : 'REFUND_ERROR', end.to === 'REFUND');
  }
  applyRefund(o, r);
  return answer('REFUND_SUCCESS');
}
