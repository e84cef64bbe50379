/**
 * The revoke state machine's specification, one row per result code, order
 * state and fault of the Upay documents (WoSai/shouqianba-doc: 业务结果码,
 * 订单状态列表, 业务执行错误码, 通讯错误码): interpretRevoke (a revoke's answer),
 * interpretQuery (a query's answer while a revoke is uncertain),
 * ineligibility (an order's local state before any call), and the cashier's
 * explanations (main/upay/explain.ts). Unknown codes stay verbatim.
 */
import { describe, expect, it } from 'vitest';
import type { Order } from '../../main/domain';
import { REVOKE_MESSAGES } from '../../main/operations/revoke/messages';
import {
  BUSINESS_ERRORS,
  ENVELOPE_ERRORS,
  INELIGIBLE_STATUS,
  ineligibility,
  interpretQuery,
  interpretRevoke,
  ORDER_STATUS_VERDICTS,
  REVOKE_RESULT_CODES,
} from '../../main/operations/revoke/interpret';
import { ERROR_CODE_TEXT, explainBusiness, failureToError, RESULT_CODE_TEXT } from '../../main/upay/explain';
import type { CallResult, OrderResult, OrderSnapshot } from '../../main/upay/result';
import { businessDay } from '../../main/common/time';

// The documents' lists, copied by hand.
const DOC_RESULT_CODES = [
  'PAY_SUCCESS', 'PAY_FAIL', 'PAY_IN_PROGRESS', 'PAY_FAIL_ERROR', 'PAY_FAIL_IN_PROGRESS',
  'CANCEL_SUCCESS', 'CANCEL_ERROR', 'CANCEL_ABORT_ERROR', 'CANCEL_ABORT_SUCCESS', 'CANCEL_IN_PROGRESS', 'CANCEL_ABORT_IN_PROGRESS',
  'REFUND_SUCCESS', 'REFUND_ERROR', 'REFUND_FAIL', 'REFUND_IN_PROGRESS', 'SUCCESS', 'FAIL',
];
const DOC_ORDER_STATUSES = [
  'CREATED', 'PAID', 'PAY_CANCELED', 'PAY_ERROR', 'REFUNDED', 'PARTIAL_REFUNDED', 'REFUND_INPROGRESS', 'REFUND_ERROR',
  'CANCELED', 'CANCEL_ERROR', 'CANCEL_INPROGRESS', 'INVALID_STATUS_CODE',
];
const DOC_ERROR_CODES = [
  'INVALID_BARCODE', 'INSUFFICIENT_FUND', 'EXPIRED_BARCODE', 'BUYER_OVER_DAILY_LIMIT', 'BUYER_OVER_TRANSACTION_LIMIT',
  'SELLER_OVER_DAILY_LIMIT', 'TRADE_NOT_EXIST', 'TRADE_HAS_SUCCESS', 'SELLER_BALANCE_NOT_ENOUGH', 'REFUND_AMT_NOT_EQUAL_TOTAL',
  'TRADE_FAILED', 'UNEXPECTED_PROVIDER_ERROR', 'TRADE_TIMEOUT', 'ACCOUNT_BALANCE_NOT_ENOUGH', 'CLIENT_SN_CONFLICT',
  'UPAY_ORDER_NOT_EXISTS', 'REFUNDABLE_AMOUNT_NOT_ENOUGH', 'UPAY_TERMINAL_NOT_EXISTS', 'UPAY_TERMINAL_STATUS_ABNORMAL',
  'UPAY_CANCEL_ORDER_NOOP', 'UPAY_CANCEL_INVALID_ORDER_STATE', 'UPAY_REFUND_ORDER_NOOP', 'UPAY_REFUND_INVALID_ORDER_STATE',
  'UPAY_STORE_OVER_DAILY_LIMIT', 'UPAY_TCP_ORDER_NOT_REFUNDABLE',
];
const DOC_ENVELOPE_CODES = ['INVALID_PARAMS', 'INVALID_TERMINAL', 'ILLEGAL_SIGN', 'UNKNOWN_SYSTEM_ERROR'];

const ORDER = (orderStatus: string): OrderSnapshot => ({
  terminalSn: '10298371039',
  sn: '7894259244061958',
  clientSn: 'MEX1',
  tradeNo: null,
  status: 'SUCCESS',
  orderStatus,
  payway: '3',
  paywayName: '微信',
  totalAmount: '2580',
  netAmount: '2580',
  subject: '披萨',
  finishTime: '1779415200000',
  channelFinishTime: null,
  operator: '张三',
  ctime: '1779415100000',
  subPayway: '1',
  clientTsn: 'MEX1',
  payerUid: null,
  payerLogin: null,
  storeId: null,
  reflect: null,
  paymentList: null,
});

const biz = (resultCode: string, errorCode: string | null = null, order: OrderSnapshot | null = null): CallResult<OrderResult> => ({
  ok: true,
  value: { resultCode, errorCode, errorMessage: errorCode ? `msg ${errorCode}` : null, order },
});
const envelope = (resultCode: string, errorCode: string): CallResult<OrderResult> => ({ ok: false, kind: 'envelope', resultCode, errorCode, errorMessage: '错误' });

describe('interpretRevoke: one row per revoke/cancel answer', () => {
  const canceled = ORDER('CANCELED');
  const rows: Array<[string, CallResult<OrderResult>, Record<string, unknown>]> = [
    ['CANCEL_SUCCESS', biz('CANCEL_SUCCESS', null, canceled), { to: 'revoked', order: canceled, resultCode: 'CANCEL_SUCCESS' }],
    ['CANCEL_ABORT_SUCCESS (an in-flight payment stopped)', biz('CANCEL_ABORT_SUCCESS', null, canceled), { to: 'revoked', resultCode: 'CANCEL_ABORT_SUCCESS' }],
    ['CANCEL_IN_PROGRESS', biz('CANCEL_IN_PROGRESS'), { to: 'pending', reason: 'cancel_in_progress', resultCode: 'CANCEL_IN_PROGRESS' }],
    ['CANCEL_ABORT_IN_PROGRESS', biz('CANCEL_ABORT_IN_PROGRESS'), { to: 'pending', reason: 'cancel_abort_in_progress' }],
    ['CANCEL_ABORT_ERROR (channel state unknown)', biz('CANCEL_ABORT_ERROR'), { to: 'pending', reason: 'cancel_abort_error' }],
    ['CANCEL_ERROR without a code', biz('CANCEL_ERROR'), { to: 'pending', reason: 'cancel_error_without_code' }],
    // CANCEL_ERROR is "failed, channel state unknown" whatever the code: one query removes the doubt.
    ['CANCEL_ERROR + UPAY_TCP_ORDER_NOT_REFUNDABLE (the seed example)', biz('CANCEL_ERROR', 'UPAY_TCP_ORDER_NOT_REFUNDABLE'), { to: 'confirm_refusal', gateway: { code: 'UPAY_TCP_ORDER_NOT_REFUNDABLE' } }],
    ['CANCEL_ERROR + UPAY_CANCEL_INVALID_ORDER_STATE', biz('CANCEL_ERROR', 'UPAY_CANCEL_INVALID_ORDER_STATE'), { to: 'confirm_refusal', gateway: { code: 'UPAY_CANCEL_INVALID_ORDER_STATE' } }],
    ['CANCEL_ERROR + UPAY_TERMINAL_STATUS_ABNORMAL', biz('CANCEL_ERROR', 'UPAY_TERMINAL_STATUS_ABNORMAL'), { to: 'confirm_refusal' }],
    ['CANCEL_ERROR + a code we do not know', biz('CANCEL_ERROR', 'TRADE_FAILED'), { to: 'confirm_refusal', gateway: { code: 'TRADE_FAILED', message: 'msg TRADE_FAILED' } }],
    ['FAIL + UPAY_CANCEL_ORDER_NOOP (already voided)', biz('FAIL', 'UPAY_CANCEL_ORDER_NOOP'), { to: 'revoked', resultCode: 'FAIL' }],
    ['FAIL + UPAY_CANCEL_INVALID_ORDER_STATE', biz('FAIL', 'UPAY_CANCEL_INVALID_ORDER_STATE'), { to: 'rejected', code: 'GATEWAY_REFUSED', resultCode: 'FAIL' }],
    ['FAIL + UPAY_ORDER_NOT_EXISTS', biz('FAIL', 'UPAY_ORDER_NOT_EXISTS'), { to: 'rejected', code: 'GATEWAY_REFUSED' }],
    ['FAIL + UPAY_ORDER_NOT_EXIST (other spelling)', biz('FAIL', 'UPAY_ORDER_NOT_EXIST'), { to: 'rejected', code: 'GATEWAY_REFUSED' }],
    ['FAIL + UPAY_TERMINAL_NOT_EXISTS', biz('FAIL', 'UPAY_TERMINAL_NOT_EXISTS'), { to: 'rejected', code: 'GATEWAY_TERMINAL' }],
    ['FAIL + UPAY_TERMINAL_STATUS_ABNORMAL', biz('FAIL', 'UPAY_TERMINAL_STATUS_ABNORMAL'), { to: 'rejected', code: 'GATEWAY_TERMINAL' }],
    ['FAIL + a code we do not know (kept verbatim)', biz('FAIL', 'SOMETHING_NEW'), { to: 'rejected', code: 'GATEWAY_REFUSED', gateway: { code: 'SOMETHING_NEW', message: 'msg SOMETHING_NEW' } }],
    ['a result code we do not know (kept verbatim)', biz('CANCEL_SOMETHING_NEW'), { to: 'pending', reason: 'cancel_something_new', resultCode: 'CANCEL_SOMETHING_NEW' }],
    ['400 ILLEGAL_SIGN (stale key)', envelope('400', 'ILLEGAL_SIGN'), { to: 'queued', reason: 'illegal_sign', code: 'GATEWAY_AUTH' }],
    ['400 INVALID_TERMINAL', envelope('400', 'INVALID_TERMINAL'), { to: 'rejected', code: 'GATEWAY_TERMINAL', resultCode: '400' }],
    ['400 TERMINAL_NOT_EXISTS (seen in examples)', envelope('400', 'TERMINAL_NOT_EXISTS'), { to: 'rejected', code: 'GATEWAY_TERMINAL' }],
    ['400 INVALID_PARAMS', envelope('400', 'INVALID_PARAMS'), { to: 'rejected', code: 'GATEWAY_INVALID_PARAMS' }],
    ['400 INVALID_PARAMETER', envelope('400', 'INVALID_PARAMETER'), { to: 'rejected', code: 'GATEWAY_INVALID_PARAMS' }],
    ['400 with a code we do not know', envelope('400', 'NEW_400'), { to: 'rejected', code: 'GATEWAY_REFUSED', gateway: { code: 'NEW_400', message: '错误' } }],
    ['500 UNKNOWN_SYSTEM_ERROR (may have acted)', envelope('500', 'UNKNOWN_SYSTEM_ERROR'), { to: 'pending', reason: 'envelope_UNKNOWN_SYSTEM_ERROR', resultCode: '500' }],
    ['500 MAINTENANCE_INPROGRESS', envelope('500', 'MAINTENANCE_INPROGRESS'), { to: 'queued', reason: 'maintenance' }],
    ['fault: connection refused (not sent)', { ok: false, kind: 'not_sent', reason: 'refused', message: '' }, { to: 'queued', reason: 'refused' }],
    ['fault: DNS failure (not sent)', { ok: false, kind: 'not_sent', reason: 'dns', message: '' }, { to: 'queued', reason: 'dns' }],
    ['fault: timeout (maybe sent)', { ok: false, kind: 'maybe_sent', reason: 'timeout', message: '' }, { to: 'pending', reason: 'timeout', resultCode: null }],
    ['fault: reset mid-body (maybe sent)', { ok: false, kind: 'maybe_sent', reason: 'reset', message: '' }, { to: 'pending', reason: 'reset' }],
    ['fault: malformed JSON (maybe sent)', { ok: false, kind: 'maybe_sent', reason: 'malformed', message: '' }, { to: 'pending', reason: 'malformed' }],
    ['fault: HTML 500 (maybe sent)', { ok: false, kind: 'maybe_sent', reason: 'http_status', httpStatus: 500, message: '' }, { to: 'pending', reason: 'http_status' }],
    ['refused locally (invalid request)', { ok: false, kind: 'invalid_request', field: 'sn', message: 'sn must be 1-16 digits' }, { to: 'rejected', code: 'GATEWAY_INVALID_PARAMS' }],
  ];
  it.each(rows)('%s', (_name, res, verdict) => {
    expect(interpretRevoke(res)).toMatchObject(verdict);
  });

  it('covers every revoke/cancel result code and envelope code of the documents', () => {
    for (const code of DOC_RESULT_CODES.filter((c) => c.startsWith('CANCEL_') || c === 'FAIL')) expect(Object.keys(REVOKE_RESULT_CODES)).toContain(code);
    for (const code of DOC_ENVELOPE_CODES) expect(Object.keys(ENVELOPE_ERRORS)).toContain(code);
    for (const code of Object.keys(BUSINESS_ERRORS)) expect([...DOC_ERROR_CODES, 'UPAY_ORDER_NOT_EXIST']).toContain(code);
    for (const [code, to] of Object.entries(ENVELOPE_ERRORS)) expect(interpretRevoke(envelope(to === 'pending' ? '500' : '400', code)).to).toBe(to);
  });
});

describe('interpretQuery: one row per order status while a revoke is uncertain', () => {
  const rows: Array<[string, string]> = [
    ['PAID', 'still_paid'],
    ['CANCELED', 'revoked'],
    ['REFUNDED', 'refunded'],
    ['PARTIAL_REFUNDED', 'refunded'],
    ['REFUND_INPROGRESS', 'refunded'],
    ['REFUND_ERROR', 'refunded'],
    ['CANCEL_INPROGRESS', 'unknown'],
    ['CANCEL_ERROR', 'unknown'],
    ['CREATED', 'unknown'],
    ['PAY_CANCELED', 'unknown'],
    ['PAY_ERROR', 'unknown'],
    ['INVALID_STATUS_CODE', 'unknown'],
    ['SOMETHING_NEW', 'unknown'],
  ];
  it.each(rows)('order_status %s → %s', (status, to) => {
    const v = interpretQuery(biz('SUCCESS', null, ORDER(status)));
    expect(v.to).toBe(to);
    if (v.to === 'unknown') expect(v.reason).toBe(`order_status_${status}`);
    else expect(v.order.orderStatus).toBe(status);
  });

  it('covers every order status of the documents', () => {
    expect(Object.keys(ORDER_STATUS_VERDICTS).sort()).toEqual([...DOC_ORDER_STATUSES].sort());
  });

  const others: Array<[string, CallResult<OrderResult>, string]> = [
    ['FAIL + UPAY_ORDER_NOT_EXISTS', biz('FAIL', 'UPAY_ORDER_NOT_EXISTS'), 'FAIL:UPAY_ORDER_NOT_EXISTS'],
    ['SUCCESS without an order', biz('SUCCESS'), 'SUCCESS'],
    ['SUCCESS without order_status', biz('SUCCESS', null, { ...ORDER('PAID'), orderStatus: null }), 'order_status_absent'],
    ['500 UNKNOWN_SYSTEM_ERROR', envelope('500', 'UNKNOWN_SYSTEM_ERROR'), 'envelope_UNKNOWN_SYSTEM_ERROR'],
    ['timeout', { ok: false, kind: 'maybe_sent', reason: 'timeout', message: '' }, 'maybe_sent'],
    ['not sent', { ok: false, kind: 'not_sent', reason: 'refused', message: '' }, 'not_sent'],
  ];
  it.each(others)('%s → unknown (%s)', (_name, res, reason) => {
    expect(interpretQuery(res)).toEqual({ to: 'unknown', reason });
  });
});

describe('ineligibility: one row per local order state, before any call', () => {
  const NOW = Date.UTC(2026, 4, 22, 2); // 10:00 in China
  const order = (patch: Partial<Order>): Order => ({
    sn: '7894259244061958',
    clientSn: 'MEX1',
    tradeNo: null,
    totalCents: 2580,
    netCents: 2580,
    payway: '3',
    paywayName: '微信',
    subject: null,
    operator: null,
    finishedAt: NOW - 3_600_000,
    status: 'PAID',
    businessDay: businessDay(NOW),
    updatedAt: NOW,
    ...patch,
  });
  const rows: Array<[string, Partial<Order>, string | undefined]> = [
    ['PAID today', {}, undefined],
    ['PAID yesterday', { businessDay: businessDay(NOW - 86_400_000) }, 'NOT_TODAY'],
    ['PAID with a partial refund recorded (net < total)', { netCents: 1000 }, 'REFUNDED'],
    ['PAID with zero amount', { totalCents: 0, netCents: 0 }, 'ZERO_AMOUNT'],
    ['CANCELED', { status: 'CANCELED' }, 'ALREADY_VOIDED'],
    ['PAY_CANCELED', { status: 'PAY_CANCELED' }, 'ALREADY_VOIDED'],
    ['REFUNDED', { status: 'REFUNDED' }, 'REFUNDED'],
    ['PARTIAL_REFUNDED', { status: 'PARTIAL_REFUNDED' }, 'REFUNDED'],
    ['REFUND_INPROGRESS', { status: 'REFUND_INPROGRESS' }, 'REFUNDED'],
    ['REFUND_ERROR (money may have moved)', { status: 'REFUND_ERROR' }, 'UNRESOLVED'],
    ['PAY_ERROR (reversal unknown)', { status: 'PAY_ERROR' }, 'UNRESOLVED'],
    ['CREATED (payment in flight)', { status: 'CREATED' }, 'UNRESOLVED'],
    ['CANCEL_INPROGRESS', { status: 'CANCEL_INPROGRESS' }, 'UNRESOLVED'],
    ['CANCEL_ERROR', { status: 'CANCEL_ERROR' }, 'UNRESOLVED'],
    ['INVALID_STATUS_CODE', { status: 'INVALID_STATUS_CODE' }, 'NOT_PAID'],
    ['a status we do not know', { status: 'SOMETHING_NEW' }, 'NOT_PAID'],
  ];
  it.each(rows)('%s → %s', (_name, patch, code) => {
    expect(ineligibility(order(patch), NOW)).toBe(code);
    if (code) expect(REVOKE_MESSAGES[code as keyof typeof REVOKE_MESSAGES].zh.length).toBeGreaterThan(0);
  });

  it('covers every order status of the documents', () => {
    expect(Object.keys(INELIGIBLE_STATUS).sort()).toEqual([...DOC_ORDER_STATUSES].sort());
  });
});

describe('explanations (main/upay/explain.ts)', () => {
  it.each(DOC_RESULT_CODES)('result code %s has zh and en text', (code) => {
    const t = explainBusiness(code, null);
    expect(t?.zh).toMatch(/[\u4e00-\u9fff]/);
    expect(t?.en.length).toBeGreaterThan(3);
  });
  it.each(DOC_ERROR_CODES)('error code %s has zh and en text, and wins over the result code', (code) => {
    expect(explainBusiness('FAIL', code)).toBe(ERROR_CODE_TEXT[code]);
  });
  it('unknown codes: no text of ours (the gateway code is shown verbatim)', () => {
    expect(explainBusiness('NEW_RESULT', 'NEW_ERROR')).toBeNull();
    expect(explainBusiness('FAIL', 'NEW_ERROR')).toBe(RESULT_CODE_TEXT.FAIL);
  });
  const envelopes: Array<[string, string, string]> = [
    ['400', 'ILLEGAL_SIGN', 'GATEWAY_AUTH'],
    ['400', 'INVALID_TERMINAL', 'GATEWAY_TERMINAL'],
    ['400', 'TERMINAL_NOT_EXISTS', 'GATEWAY_TERMINAL'],
    ['400', 'INVALID_PARAMS', 'GATEWAY_INVALID_PARAMS'],
    ['400', 'INVALID_PARAMETER', 'GATEWAY_INVALID_PARAMS'],
    ['500', 'UNKNOWN_SYSTEM_ERROR', 'GATEWAY_ERROR'],
    ['500', 'MAINTENANCE_INPROGRESS', 'GATEWAY_MAINTENANCE'],
    ['500', 'SOMETHING_NEW', 'GATEWAY_ERROR'],
  ];
  it.each(envelopes)('envelope %s %s → %s, gateway code kept verbatim', (resultCode, errorCode, code) => {
    const e = failureToError({ ok: false, kind: 'envelope', resultCode, errorCode, errorMessage: '原文' });
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ gatewayCode: errorCode, gatewayMessage: '原文', resultCode });
  });
});
