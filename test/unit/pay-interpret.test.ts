/**
 * The payment's interpretation table, as a table: every answer to pay,
 * precreate, query and cancel and the transition it makes. The rule under
 * test: only "certainly not sent" or a definitive answer ends a payment as
 * failed; anything uncertain is resolved by query, and nothing but a query
 * or a cancel ends it as paid or canceled.
 */
import { describe, expect, it } from 'vitest';
import { interpretCancel, interpretQuery, interpretSend, moneyReturned, NO_EVIDENCE, type OrderEvidence, type PayVerdict } from '../../main/operations/pay/interpret';
import { paymentHeadline } from '../../main/operations/pay/messages';
import { checkPaymentInput, gatewayOperator, isBarcode, newClientSn, parseAmountYuan, parsePayway } from '../../main/operations/pay/request';
import { isCustomerPaymentCode } from '../../main/common/payment-code';
import { computeCounterPayments } from '../../main/report/payments';
import type { Payment } from '../../main/store/payments';
import type { CallResult, OrderResult, OrderSnapshot } from '../../main/upay/result';

const order = (orderStatus: string, extra: Partial<OrderSnapshot> = {}) => ({ sn: '7894259244061958', clientSn: 'P1', orderStatus, ...extra }) as unknown as OrderSnapshot;
const ok = (resultCode: string, o: OrderSnapshot | null = null, errorCode: string | null = null): CallResult<OrderResult> => ({
  ok: true,
  value: { resultCode, errorCode, errorMessage: errorCode ? '说明' : null, order: o },
});
const notSent: CallResult<OrderResult> = { ok: false, kind: 'not_sent', reason: 'refused', message: 'refused' };
const maybe: CallResult<OrderResult> = { ok: false, kind: 'maybe_sent', reason: 'timeout', message: 'timeout' };
const env400: CallResult<OrderResult> = { ok: false, kind: 'envelope', resultCode: '400', errorCode: 'ILLEGAL_SIGN', errorMessage: null };
const env500: CallResult<OrderResult> = { ok: false, kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR', errorMessage: null };

const shape = (v: PayVerdict) =>
  v.to === 'failed' ? `failed:${v.code}` : v.to === 'open' ? `open${v.cancelNow ? ':cancel' : ''}${v.wait ? ':wait' : ''}${v.qrCode ? ':qr' : ''}` : v.to === 'canceled' ? `canceled${v.returned ? ':returned' : ''}` : v.to;

describe('pay / precreate answers', () => {
  it.each<[string, CallResult<OrderResult>, string]>([
    ['PAY_SUCCESS', ok('PAY_SUCCESS', order('PAID')), 'paid'],
    ['PAY_FAIL (already reversed)', ok('PAY_FAIL', order('PAY_CANCELED'), 'INSUFFICIENT_FUND'), 'failed:PAY_FAILED'],
    ['PAY_IN_PROGRESS', ok('PAY_IN_PROGRESS', order('CREATED')), 'open'],
    ['PAY_FAIL_IN_PROGRESS', ok('PAY_FAIL_IN_PROGRESS', order('CREATED')), 'open'],
    ['PAY_FAIL_ERROR → reverse now', ok('PAY_FAIL_ERROR', order('PAY_ERROR')), 'open:cancel'],
    ['FAIL + CLIENT_SN_CONFLICT → the query decides', ok('FAIL', null, 'CLIENT_SN_CONFLICT'), 'open'],
    ['FAIL + another code → refused, nothing created', ok('FAIL', null, 'UPAY_TERMINAL_STATUS_ABNORMAL'), 'failed:GATEWAY_REFUSED'],
    ['PRECREATE_SUCCESS with qr_code', ok('PRECREATE_SUCCESS', order('CREATED', { qrCode: 'weixin://x' })), 'open:qr'],
    ['PRECREATE_FAIL', ok('PRECREATE_FAIL', null, 'INVALID_PAYWAY'), 'failed:PAY_FAILED'],
    ['PRECREATE_FAIL_ERROR', ok('PRECREATE_FAIL_ERROR', order('PAY_ERROR')), 'open:cancel'],
    ['an unknown result code', ok('PAY_SOMETHING_NEW', order('CREATED')), 'open'],
    ['not sent (refused connection)', notSent, 'failed:NOT_SENT'],
    ['maybe sent (timeout)', maybe, 'open'],
    ['envelope 400 (nothing created)', env400, 'failed:GATEWAY_REFUSED'],
    ['envelope 500 (may have been applied)', env500, 'open'],
  ])('%s', (_name, res, want) => expect(shape(interpretSend(res))).toBe(want));
});

describe('query by client_sn', () => {
  it.each<[string, CallResult<OrderResult>, string]>([
    ['PAID', ok('SUCCESS', order('PAID')), 'paid'],
    ['REFUNDED later (it was paid)', ok('SUCCESS', order('REFUNDED')), 'paid'],
    ['PAY_CANCELED', ok('SUCCESS', order('PAY_CANCELED')), 'failed:PAY_FAILED'],
    ['CANCELED', ok('SUCCESS', order('CANCELED')), 'canceled'],
    ['CREATED', ok('SUCCESS', order('CREATED')), 'open'],
    ['PAY_ERROR → reverse now', ok('SUCCESS', order('PAY_ERROR')), 'open:cancel'],
    ['CANCEL_ERROR → reverse again', ok('SUCCESS', order('CANCEL_ERROR')), 'open:cancel'],
    ['CANCEL_INPROGRESS → wait', ok('SUCCESS', order('CANCEL_INPROGRESS')), 'open:wait'],
    ['FAIL UPAY_ORDER_NOT_EXISTS → never reached Upay', ok('FAIL', null, 'UPAY_ORDER_NOT_EXISTS'), 'failed:NOT_REACHED'],
    ['FAIL UPAY_ORDER_NOT_EXIST (other spelling)', ok('FAIL', null, 'UPAY_ORDER_NOT_EXIST'), 'failed:NOT_REACHED'],
    ['not sent: still unknown, never failed', notSent, 'open'],
    ['maybe sent', maybe, 'open'],
    ['envelope 400 on a query: still unknown', env400, 'open'],
  ])('%s', (_name, res, want) => expect(shape(interpretQuery(res))).toBe(want));
});

describe('cancel (冲正)', () => {
  it.each<[string, CallResult<OrderResult>, boolean, string]>([
    ['CANCEL_SUCCESS (a paid order voided)', ok('CANCEL_SUCCESS', order('CANCELED')), false, 'canceled:returned'],
    ['CANCEL_ABORT_SUCCESS (in-flight aborted)', ok('CANCEL_ABORT_SUCCESS', order('CANCELED')), false, 'canceled'],
    ['CANCEL_ABORT_SUCCESS after we saw PAID', ok('CANCEL_ABORT_SUCCESS', order('CANCELED')), true, 'canceled:returned'],
    ['CANCEL_ERROR → query, cancel again', ok('CANCEL_ERROR'), false, 'open'],
    ['CANCEL_ABORT_ERROR → query, cancel again', ok('CANCEL_ABORT_ERROR'), false, 'open'],
    ['CANCEL_IN_PROGRESS → wait', ok('CANCEL_IN_PROGRESS', order('CANCEL_INPROGRESS')), false, 'open:wait'],
    ['FAIL UPAY_CANCEL_ORDER_NOOP → confirm by query', ok('FAIL', null, 'UPAY_CANCEL_ORDER_NOOP'), false, 'open'],
    ['FAIL UPAY_ORDER_NOT_EXISTS → nothing to cancel', ok('FAIL', null, 'UPAY_ORDER_NOT_EXISTS'), false, 'failed:NOT_REACHED'],
    ['no answer', maybe, false, 'open'],
    ['gateway gone', notSent, false, 'open'],
  ])('%s', (_name, res, wasPaid, want) => expect(shape(interpretCancel(res, wasPaid))).toBe(want));
});

describe('the gateway acknowledged the order: UPAY_ORDER_NOT_EXISTS is not "never reached"', () => {
  const known: OrderEvidence = { ...NO_EVIDENCE, acknowledged: true };
  it('query: still open (polled, then reversed), never failed', () => {
    expect(shape(interpretQuery(ok('FAIL', null, 'UPAY_ORDER_NOT_EXISTS'), known))).toBe('open');
    expect(shape(interpretQuery(ok('FAIL', null, 'UPAY_ORDER_NOT_EXIST'), known))).toBe('open');
    expect(shape(interpretQuery(ok('FAIL', null, 'UPAY_ORDER_NOT_EXISTS'), NO_EVIDENCE))).toBe('failed:NOT_REACHED');
  });
  it('cancel: the reversal goes on', () => {
    expect(shape(interpretCancel(ok('FAIL', null, 'UPAY_ORDER_NOT_EXISTS'), false, true))).toBe('open');
    expect(shape(interpretCancel(ok('FAIL', null, 'UPAY_ORDER_NOT_EXISTS'), false, false))).toBe('failed:NOT_REACHED');
  });
});

describe('money returned by a reversal: one rule for the query and the cancel', () => {
  const e = (x: Partial<OrderEvidence>): OrderEvidence => ({ ...NO_EVIDENCE, acknowledged: true, ...x });
  const unconfirmed = (v: PayVerdict) => `${shape(v)}${v.to === 'canceled' && v.unconfirmed ? ':unconfirmed' : ''}`;
  it.each<[string, OrderEvidence, string]>([
    ['PAID seen before', e({ seenPaid: true }), 'canceled:returned'],
    ['the last cancel answer voided a completed payment (CANCEL_ERROR, CANCEL_IN_PROGRESS)', e({ lastCancel: 'void', tradeNo: true }), 'canceled:returned'],
    ['the last cancel answer aborted an unfinished one (CANCEL_ABORT_*)', e({ lastCancel: 'abort', tradeNo: true }), 'canceled'],
    ['no cancel answer heard, a channel trade_no: returned, unconfirmed', e({ tradeNo: true }), 'canceled:returned:unconfirmed'],
    ['no cancel answer heard, no channel transaction ever: nothing taken', e({}), 'canceled'],
  ])('query CANCELED, %s', (_name, known, want) => expect(unconfirmed(interpretQuery(ok('SUCCESS', order('CANCELED')), known))).toBe(want));

  it('query CANCELED carrying a trade_no counts as a channel transaction', () => {
    expect(unconfirmed(interpretQuery(ok('SUCCESS', order('CANCELED', { tradeNo: '4200000001' })), e({})))).toBe('canceled:returned:unconfirmed');
  });

  it('a CANCEL_SUCCESS whose order is PAY_CANCELED (the abort of an unpaid order): nothing returned', () => {
    expect(shape(interpretCancel(ok('CANCEL_SUCCESS', order('PAY_CANCELED')), false))).toBe('canceled');
    expect(shape(interpretCancel(ok('CANCEL_SUCCESS', order('PAY_CANCELED')), true))).toBe('canceled:returned');
  });

  it('moneyReturned: PAID seen wins; PAY_CANCELED and an abort mean nothing taken', () => {
    expect(moneyReturned(e({ seenPaid: true, lastCancel: 'abort' }), 'CANCELED')).toBe('yes');
    expect(moneyReturned(e({ tradeNo: true }), 'PAY_CANCELED')).toBe('no');
    expect(moneyReturned(e({ tradeNo: true, lastCancel: 'void' }), 'CANCELED', 'abort')).toBe('no');
  });

  it('the headline of a reversal whose cancel answer was lost says "if any was taken"', () => {
    const p = { method: 'barcode' as const, qrCode: null, moneyReturned: true, state: 'canceled' as const };
    expect(paymentHeadline({ ...p, error: { code: 'REVERSED' } }).zh).toBe('未收款：已冲正，已扣的钱款已全额退回顾客');
    expect(paymentHeadline({ ...p, error: { code: 'REVERSED_UNCONFIRMED' } }).zh).toContain('如顾客已被扣款，钱款已全额退回顾客');
  });
});

describe('payment input', () => {
  it('amounts in yuan: > 0, two decimals, at most 10 digits in cents', () => {
    expect(parseAmountYuan('12.34')).toBe(1234);
    expect(parseAmountYuan('0.01')).toBe(1);
    expect(parseAmountYuan('99999999.99')).toBe(9_999_999_999);
    // Leading zeros are the text's digits, not the amount's: still at most 10 digits in cents.
    expect(parseAmountYuan('000000001.00')).toBe(100);
    expect(parseAmountYuan('0000000099999999.99')).toBe(9_999_999_999);
    for (const bad of ['0', '0.00', '-1', '1.234', '1e3', 'abc', '', ' 1', '100000000', '1.', '00000000100000000', '1'.repeat(17)]) expect(() => parseAmountYuan(bad), bad).toThrow(/amount/);
  });

  it('barcodes: digits only, 10-32', () => {
    expect(isBarcode('1345678901')).toBe(true);
    expect(isBarcode('1'.repeat(32))).toBe(true);
    for (const bad of ['123456789', '1'.repeat(33), '13456789012345678a', ' 1345678901']) expect(isBarcode(bad), bad).toBe(false);
  });

  it('payways by name or number; subject and operator within their byte limits', () => {
    expect([parsePayway('alipay'), parsePayway('WECHAT'), parsePayway('unionpay'), parsePayway('18')]).toEqual(['1', '3', '17', '18']);
    expect(() => parsePayway('bitcoin')).toThrow();
    expect(() => checkPaymentInput({ amountCents: 1, method: 'qr' })).toThrow(/payway/);
    expect(() => checkPaymentInput({ amountCents: 1, method: 'barcode', barcode: '1345678901', subject: '字'.repeat(22) })).toThrow(/subject/);
    expect(checkPaymentInput({ amountCents: 1, method: 'barcode', barcode: '1345678901', subject: '字'.repeat(21) }).subject).toHaveLength(21);
    expect(Buffer.byteLength(gatewayOperator('收'.repeat(20)))).toBeLessThanOrEqual(32);
  });

  it('client_sn: new for every attempt, at most 32 bytes', () => {
    const a = newClientSn(Date.now());
    const b = newClientSn(Date.now());
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(32);
  });
});

describe('what the cashier reads', () => {
  it('three states that never leave doubt, and needs_attention with a next step', () => {
    const p = { method: 'barcode' as const, qrCode: null, moneyReturned: false };
    expect(paymentHeadline({ ...p, state: 'paid' }).zh).toBe('收款成功');
    expect(paymentHeadline({ ...p, state: 'failed' }).zh).toBe('未收款（钱款未扣）');
    expect(paymentHeadline({ ...p, state: 'canceled' }).zh).toBe('未收款（钱款未扣）');
    expect(paymentHeadline({ ...p, state: 'pending' }).zh).toBe('正在确认（请勿重复收款）');
    expect(paymentHeadline({ ...p, state: 'canceling' }).zh).toBe('正在确认（请勿重复收款）');
    expect(paymentHeadline({ ...p, state: 'needs_attention' }).zh).toMatch(/请勿重复收款.*联系/);
    expect(paymentHeadline({ ...p, state: 'needs_attention' }).en).toMatch(/call store IT or Upay support/);
  });
});

describe('the day report of payments', () => {
  const base = { method: 'barcode', businessDay: '2026-12-06', payway: '3', paywayName: '微信', operatorName: 'A', moneyReturned: false, orderSn: null } as const;
  const p = (id: number, state: Payment['state'], amountCents: number, extra: Partial<Payment> = {}) => ({ ...base, id, clientSn: `P${id}`, state, amountCents, ...extra }) as unknown as Payment;
  it('taken, returned by cancel, net, per payway and operator; open ones listed', () => {
    const r = computeCounterPayments('2026-12-06', [
      p(1, 'paid', 1000),
      p(2, 'paid', 500, { payway: '1', paywayName: '支付宝', operatorName: 'B' }),
      p(3, 'canceled', 300, { moneyReturned: true }),
      p(4, 'canceled', 200),
      p(5, 'failed', 700),
      p(6, 'pending', 900, { businessDay: '2026-12-05' }),
    ]);
    expect({ taken: r.taken, returned: r.returned, net: r.netCents, failed: r.failed }).toEqual({
      taken: { count: 3, cents: 1800 },
      returned: { count: 1, cents: 300 },
      net: 1500,
      failed: { count: 1, cents: 700 },
    });
    expect(r.byPayway.map((w) => [w.payway, w.netCents])).toEqual([
      ['1', 500],
      ['3', 1000],
    ]);
    expect(r.byOperator.map((o) => [o.operator, o.netCents])).toEqual([
      ['A', 1000],
      ['B', 500],
    ]);
    expect(r.open).toEqual([expect.objectContaining({ id: 6, state: 'pending', amountCents: 900 })]);
  });
});

describe('a customer payment code is told from an order scan', () => {
  it.each<[string, boolean]>([
    ['134567890123456789', true], // WeChat: 18 digits from 10-15
    ['284567890123456789', true], // Alipay: 25-30
    ['6212345678901234567', true], // UnionPay: 19 digits from 62
    ['7894259244061958', false], // our order sn
    ['MEX202605220001', false], // a merchant order number
    ['1345678901234567', false], // WeChat prefix, wrong length
    ['12345678901234567890123', false],
  ])('%s → %s', (code, want) => expect(isCustomerPaymentCode(code)).toBe(want));
});
