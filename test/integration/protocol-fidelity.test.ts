/**
 * The sandbox and the client against the vendor's documents (issue 15): order
 * lookup by sn then client_sn, the documents' limits on both sides, the payway
 * override, `extended`/`goods_details`, the answers' real shapes, the tables'
 * top-level and terminal errors, strict daily key expiry, and a switchable
 * fault or state for every result code and order state the documents list.
 * Real HTTP on loopback; only the clock is faked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSandboxGateway, type Fault, type SandboxGateway, type SandboxGatewayOptions, type SandboxTerminal } from '../../main/sandbox/gateway';
import { UpayClient, type Signer } from '../../main/upay/client';
import type { CallResult } from '../../main/upay/result';
import { sign } from '../../main/upay/sign';
import { businessDayStart, ManualClock } from '../../main/common/time';

const HOUR = 3_600_000;
const MORNING = businessDayStart('2026-05-22') + 10 * HOUR;
const WECHAT = '134567890123456789';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(options: SandboxGatewayOptions = {}) {
  const clock = new ManualClock(MORNING);
  const gw = await createSandboxGateway({ clock, seed: 15, strict: true, ...options });
  const upay = new UpayClient({ apiDomain: gw.url });
  cleanups.push(() => gw.close(), () => upay.close());
  const t = gw.createTerminal();
  const me: Signer = { sn: t.terminalSn, key: t.terminalKey };
  const pay = (clientSn: string, extra: Record<string, unknown> = {}) =>
    upay.pay(me, { client_sn: clientSn, total_amount: '2580', dynamic_id: WECHAT, subject: '披萨', operator: '张三', ...extra });
  return { clock, gw, upay, t, me, pay };
}

function okValue<T>(r: CallResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.value;
}

/** A raw signed POST, for what the client would refuse to send. */
async function raw(gw: SandboxGateway, path: string, body: unknown, t: SandboxTerminal): Promise<{ result_code: string; error_code?: string; biz_response?: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  const res = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `${t.terminalSn} ${sign(Buffer.from(text), t.terminalKey)}` }, body: text });
  return (await res.json()) as { result_code: string; error_code?: string; biz_response?: Record<string, unknown> };
}

describe('order lookup: by sn first, then by client_sn', () => {
  it('an unknown sn with a known client_sn finds the order (query, revoke, refund)', async () => {
    const { gw, upay, me, pay } = await setup();
    const paid = okValue(await pay('LOOKUP-1')).order!;
    const other = okValue(await pay('LOOKUP-2')).order!;
    const unknownSn = '7890000000000000';
    expect(gw.getOrder(unknownSn)).toBeUndefined();
    expect(okValue(await upay.query(me, { sn: unknownSn, client_sn: 'LOOKUP-1' })).order?.sn).toBe(paid.sn);
    // A known sn wins over another order's client_sn.
    expect(okValue(await upay.query(me, { sn: other.sn!, client_sn: 'LOOKUP-1' })).order?.sn).toBe(other.sn);
    expect(okValue(await upay.refund(me, { sn: unknownSn, client_sn: 'LOOKUP-2', refund_request_no: 'R1', refund_amount: '100', operator: '李四' })).order?.sn).toBe(other.sn);
    expect(okValue(await upay.revoke(me, { sn: unknownSn, client_sn: 'LOOKUP-1' }))).toMatchObject({ resultCode: 'CANCEL_SUCCESS', order: { sn: paid.sn } });
    expect(okValue(await upay.query(me, { sn: unknownSn }))).toMatchObject({ resultCode: 'FAIL', errorCode: 'UPAY_ORDER_NOT_EXISTS', order: null });
  });
});

describe("the documents' limits, on both sides", () => {
  it('a 13-character CJK client_sn (39 bytes) is refused locally before any call; the sandbox counts bytes too', async () => {
    const { gw, upay, me, t, pay } = await setup();
    const cjk13 = '收钱吧订单号一二三四五六七';
    expect([...cjk13]).toHaveLength(13);
    for (const r of [await pay(cjk13), await upay.query(me, { client_sn: cjk13 }), await upay.revoke(me, { client_sn: cjk13 })]) {
      expect(r).toMatchObject({ ok: false, kind: 'invalid_request', field: 'client_sn', message: expect.stringContaining('32 bytes') });
    }
    expect(gw.log()).toHaveLength(0);
    const sent = await raw(gw, '/upay/v2/pay', { terminal_sn: t.terminalSn, client_sn: cjk13, total_amount: '1', dynamic_id: WECHAT, subject: 's', operator: 'o' }, t);
    expect(sent).toMatchObject({ result_code: '400', error_code: 'INVALID_PARAMS' });
    // 10 CJK characters are 30 bytes: fine everywhere.
    expect(okValue(await pay('收钱吧订单号一二三四')).resultCode).toBe('PAY_SUCCESS');
  });

  it('total_amount at most 10 digits; refund operator up to 64 characters (pay operator 32)', async () => {
    const { gw, upay, me, t, pay } = await setup();
    expect(await upay.pay(me, { client_sn: 'BIG', total_amount: '12345678901', dynamic_id: WECHAT, subject: 's', operator: 'o' })).toMatchObject({ ok: false, kind: 'invalid_request', field: 'total_amount' });
    expect(gw.log()).toHaveLength(0);
    expect(await raw(gw, '/upay/v2/pay', { terminal_sn: t.terminalSn, client_sn: 'BIG', total_amount: '12345678901', dynamic_id: WECHAT, subject: 's', operator: 'o' }, t)).toMatchObject({ error_code: 'INVALID_PARAMS' });
    expect(okValue(await upay.pay(me, { client_sn: 'MAX', total_amount: '9999999999', dynamic_id: WECHAT, subject: 's', operator: 'o' })).resultCode).toBe('PAY_SUCCESS');
    const o = okValue(await pay('OP')).order!;
    const op64 = '退'.repeat(64);
    expect(okValue(await upay.refund(me, { sn: o.sn!, refund_request_no: 'R1', refund_amount: '1', operator: op64 })).order?.operator).toBe(op64);
    expect(await upay.refund(me, { sn: o.sn!, refund_request_no: 'R2', refund_amount: '1', operator: 'x'.repeat(65) })).toMatchObject({ ok: false, field: 'operator' });
    expect(await raw(gw, '/upay/v2/refund', { terminal_sn: t.terminalSn, sn: o.sn, refund_request_no: 'R2', refund_amount: '1', operator: 'x'.repeat(65) }, t)).toMatchObject({ error_code: 'INVALID_PARAMS' });
    expect(await pay('OP2', { operator: 'x'.repeat(33) })).toMatchObject({ ok: false, field: 'operator' });
  });
});

describe('pay request fields the documents allow', () => {
  it('a payway in the request overrides barcode detection', async () => {
    const { pay } = await setup();
    expect(okValue(await pay('PW-1')).order).toMatchObject({ payway: '3', paywayName: '微信' });
    expect(okValue(await pay('PW-2', { payway: '1' })).order).toMatchObject({ payway: '1', paywayName: '支付宝' });
  });

  it('extended (JSON object), goods_details (numbers), reflect, notify_url, device_id, description, location go through and are accepted', async () => {
    const { gw, pay } = await setup();
    const extra = {
      extended: { extend_params: { hb_fq_num: '12', hb_fq_seller_percent: '0' }, goods_tag: 'beijing' },
      goods_details: [
        { goods_id: 'wx001', goods_name: '苹果笔记本电脑', quantity: 1, price: 2, promotion_type: 0 },
        { goods_id: 'wx002', goods_name: 'tesla', quantity: 1, price: 2, promotion_type: 1 },
      ],
      reflect: '{"tips":"200"}',
      notify_url: 'https://pos.example/notify',
      device_id: 'POS-01',
      description: '两件商品',
      longitude: '121.615459404',
      latitude: '31.4056441552',
    };
    const r = okValue(await pay('EXT-1', extra));
    expect(r).toMatchObject({ resultCode: 'PAY_SUCCESS', order: { reflect: '{"tips":"200"}' } });
    expect(gw.log().at(-1)?.body).toMatchObject(extra);
  });

  it('refuses malformed extended/goods_details locally and in the sandbox', async () => {
    const { gw, t, pay } = await setup();
    const badGoods = [{ goods_id: 'g', goods_name: 'n', quantity: '1', price: 2, promotion_type: 0 }];
    expect(await pay('BAD-1', { goods_details: badGoods })).toMatchObject({ ok: false, kind: 'invalid_request' });
    const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, 'v']));
    expect(await pay('BAD-2', { extended: many })).toMatchObject({ ok: false, field: 'extended' });
    expect(gw.log()).toHaveLength(0);
    const base = { terminal_sn: t.terminalSn, total_amount: '1', dynamic_id: WECHAT, subject: 's', operator: 'o' };
    expect(await raw(gw, '/upay/v2/pay', { ...base, client_sn: 'BAD-1', goods_details: badGoods }, t)).toMatchObject({ error_code: 'INVALID_PARAMS' });
    expect(await raw(gw, '/upay/v2/pay', { ...base, client_sn: 'BAD-2', extended: many }, t)).toMatchObject({ error_code: 'INVALID_PARAMS' });
    expect(await raw(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, sn: '1', extended: {} }, t)).toMatchObject({ error_code: 'INVALID_PARAMS' });
  });
});

describe('answers in the real shapes', () => {
  it('"" placeholders, "data": null on FAIL, payer/ctime/store/payment_list fields, empty merchant fields on check-in', async () => {
    const { gw, t, upay, me } = await setup();
    const failed = await raw(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, client_sn: 'NOPE' }, t);
    expect(failed.biz_response).toEqual({ result_code: 'FAIL', error_code: 'UPAY_ORDER_NOT_EXISTS', error_message: '订单不存在', data: null });
    const bad = await raw(gw, '/upay/v2/pay', { terminal_sn: t.terminalSn, client_sn: 'BAD', total_amount: '1', dynamic_id: 'NOTACODE', subject: 's', operator: 'o' }, t);
    const data = bad.biz_response?.data as Record<string, unknown>;
    expect(data).toMatchObject({ trade_no: '', payer_uid: '', payer_login: '', reflect: '', order_status: 'PAY_CANCELED', client_tsn: 'BAD', store_id: expect.any(String) });
    expect(data.ctime).toBe(String(MORNING));
    const checkin = okValue(await upay.checkin(me, { device_id: 'POS-01' }));
    expect(checkin).toMatchObject({ merchantSn: null, merchantName: null, storeSn: null, storeName: null });
    expect(gw.log().at(-1)?.endpoint).toBe('checkin');
  });

  it('finish_time and operator are the last action\'s; ctime stays the creation time', async () => {
    const { clock, upay, me, pay } = await setup();
    const paid = okValue(await pay('LAST-1')).order!;
    expect(paid).toMatchObject({ finishTime: String(MORNING), ctime: String(MORNING), operator: '张三', payerUid: expect.any(String), paymentList: [{ type: 'WALLET_WEIXIN', amountTotal: '2580' }] });
    clock.advance(HOUR);
    const refunded = okValue(await upay.refund(me, { sn: paid.sn!, refund_request_no: '7', refund_amount: '580', operator: '李四' })).order!;
    expect(refunded).toMatchObject({ finishTime: String(MORNING + HOUR), ctime: String(MORNING), operator: '李四', clientTsn: 'LAST-1-7' });
  });

  it('lean answers on request (answers: "lean")', async () => {
    const { gw, t } = await setup({ answers: 'lean' });
    const failed = await raw(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, client_sn: 'NOPE' }, t);
    expect(failed.biz_response).toEqual({ result_code: 'FAIL', error_code: 'UPAY_ORDER_NOT_EXISTS', error_message: '订单不存在' });
  });
});

describe('terminal errors as the tables name them', () => {
  it('unknown terminal: 400 INVALID_TERMINAL; a terminal not active or unknown to the trade system: UPAY_TERMINAL_*', async () => {
    const { gw, upay, me, t, pay } = await setup();
    expect(await upay.query({ sn: '10099999999999', key: me.key }, { sn: '1' })).toEqual({ ok: false, kind: 'envelope', resultCode: '400', errorCode: 'INVALID_TERMINAL', errorMessage: '终端错误' });
    gw.setTerminalStatus(t.terminalSn, 'abnormal');
    expect(okValue(await pay('T-1'))).toMatchObject({ resultCode: 'FAIL', errorCode: 'UPAY_TERMINAL_STATUS_ABNORMAL', order: null });
    gw.setTerminalStatus(t.terminalSn, 'not_exists');
    expect(okValue(await upay.query(me, { client_sn: 'T-1' }))).toMatchObject({ resultCode: 'FAIL', errorCode: 'UPAY_TERMINAL_NOT_EXISTS' });
    gw.setTerminalStatus(t.terminalSn, 'active');
    expect(okValue(await pay('T-2')).resultCode).toBe('PAY_SUCCESS');
  });
});

describe('strict mode: keys expire each natural day (UTC+8)', () => {
  it("yesterday's key signs only a check-in; the new key works; a retry with the old key still checks in", async () => {
    const { clock, gw, upay, me, pay } = await setup();
    expect(okValue(await pay('K-1')).resultCode).toBe('PAY_SUCCESS');
    clock.set(businessDayStart('2026-05-23') + 60_000); // 00:01 the next day
    expect(await pay('K-2')).toMatchObject({ ok: false, kind: 'envelope', errorCode: 'ILLEGAL_SIGN' });
    const fresh = okValue(await upay.checkin(me, { device_id: 'POS-01' }));
    expect(okValue(await upay.pay({ sn: me.sn, key: fresh.terminalKey }, { client_sn: 'K-2', total_amount: '1', dynamic_id: WECHAT, subject: 's', operator: 'o' })).resultCode).toBe('PAY_SUCCESS');
    expect(await upay.query(me, { client_sn: 'K-1' })).toMatchObject({ ok: false, errorCode: 'ILLEGAL_SIGN' });
    expect(okValue(await upay.checkin(me, { device_id: 'POS-01' })).terminalKey).not.toBe(fresh.terminalKey);
    expect(gw.terminal(me.sn)?.checkins).toBe(2);
  });

  it('without strict mode an old key keeps working (rotation only on check-in)', async () => {
    const { clock, pay } = await setup({ strict: false });
    clock.advance(48 * HOUR);
    expect(okValue(await pay('K-3')).resultCode).toBe('PAY_SUCCESS');
  });
});

describe('every result code and order state, by switchable fault or rule', () => {
  type Row = { name: string; endpoint: 'pay' | 'revoke' | 'cancel' | 'refund'; fault?: Fault; inFlight?: boolean; code: string; error?: string; status: string; after?: string[] };
  const rows: Row[] = [
    { name: 'PAY_IN_PROGRESS, CREATED until queried, then PAID', endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 1 }, code: 'PAY_IN_PROGRESS', status: 'CREATED', after: ['CREATED', 'PAID'] },
    { name: 'PAY_IN_PROGRESS then PAY_CANCELED', endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 0, then: 'PAY_CANCELED' }, code: 'PAY_IN_PROGRESS', status: 'CREATED', after: ['PAY_CANCELED'] },
    { name: 'PAY_FAIL_ERROR, order PAY_ERROR', endpoint: 'pay', fault: { kind: 'pay_fail_error' }, code: 'PAY_FAIL_ERROR', status: 'PAY_ERROR', after: ['PAY_ERROR'] },
    { name: 'PAY_FAIL_IN_PROGRESS, then PAY_CANCELED', endpoint: 'pay', fault: { kind: 'pay_fail_in_progress', queries: 1 }, code: 'PAY_FAIL_IN_PROGRESS', status: 'CREATED', after: ['CREATED', 'PAY_CANCELED'] },
    { name: 'PAY_FAIL INSUFFICIENT_FUND', endpoint: 'pay', fault: { kind: 'pay_fail', errorCode: 'INSUFFICIENT_FUND' }, code: 'PAY_FAIL', error: 'INSUFFICIENT_FUND', status: 'PAY_CANCELED' },
    { name: 'PAY_FAIL EXPIRED_BARCODE', endpoint: 'pay', fault: { kind: 'pay_fail', errorCode: 'EXPIRED_BARCODE' }, code: 'PAY_FAIL', error: 'EXPIRED_BARCODE', status: 'PAY_CANCELED' },
    { name: 'PAY_FAIL BUYER_OVER_DAILY_LIMIT', endpoint: 'pay', fault: { kind: 'pay_fail', errorCode: 'BUYER_OVER_DAILY_LIMIT' }, code: 'PAY_FAIL', error: 'BUYER_OVER_DAILY_LIMIT', status: 'PAY_CANCELED' },
    { name: 'PAY_FAIL SELLER_OVER_DAILY_LIMIT', endpoint: 'pay', fault: { kind: 'pay_fail', errorCode: 'SELLER_OVER_DAILY_LIMIT' }, code: 'PAY_FAIL', error: 'SELLER_OVER_DAILY_LIMIT', status: 'PAY_CANCELED' },
    { name: 'CANCEL_IN_PROGRESS, CANCEL_INPROGRESS then CANCELED', endpoint: 'revoke', fault: { kind: 'cancel_in_progress', queries: 1 }, code: 'CANCEL_IN_PROGRESS', status: 'CANCEL_INPROGRESS', after: ['CANCEL_INPROGRESS', 'CANCELED'] },
    { name: 'CANCEL_ERROR without a code, order CANCEL_ERROR', endpoint: 'revoke', fault: { kind: 'cancel_error_no_code', outcome: 'error' }, code: 'CANCEL_ERROR', status: 'CANCEL_ERROR', after: ['CANCEL_ERROR'] },
    { name: 'cancel aborts an in-flight payment: CANCEL_ABORT_SUCCESS', endpoint: 'cancel', inFlight: true, code: 'CANCEL_ABORT_SUCCESS', status: 'CANCELED', after: ['CANCELED'] },
    { name: 'CANCEL_ABORT_IN_PROGRESS', endpoint: 'cancel', inFlight: true, fault: { kind: 'cancel_in_progress', queries: 0 }, code: 'CANCEL_ABORT_IN_PROGRESS', status: 'CANCEL_INPROGRESS', after: ['CANCELED'] },
    { name: 'CANCEL_ABORT_ERROR', endpoint: 'cancel', inFlight: true, fault: { kind: 'cancel_error_no_code', outcome: 'error' }, code: 'CANCEL_ABORT_ERROR', status: 'CANCEL_ERROR' },
    { name: 'REFUND_IN_PROGRESS, REFUND_INPROGRESS then PARTIAL_REFUNDED', endpoint: 'refund', fault: { kind: 'refund_in_progress', queries: 1 }, code: 'REFUND_IN_PROGRESS', status: 'REFUND_INPROGRESS', after: ['REFUND_INPROGRESS', 'PARTIAL_REFUNDED'] },
    { name: 'REFUND_ERROR, REFUND_ERROR then untouched', endpoint: 'refund', fault: { kind: 'refund_error', queries: 1, outcome: 'untouched' }, code: 'REFUND_ERROR', status: 'REFUND_ERROR', after: ['REFUND_ERROR', 'PAID'] },
    { name: 'REFUND_FAIL ACCOUNT_BALANCE_NOT_ENOUGH', endpoint: 'refund', fault: { kind: 'refund_fail' }, code: 'REFUND_FAIL', error: 'ACCOUNT_BALANCE_NOT_ENOUGH', status: 'PAID' },
  ];
  it.each(rows)('$name', async (row) => {
    const { gw, upay, me, pay } = await setup();
    let sn: string;
    if (row.endpoint === 'pay') {
      if (row.fault) gw.inject('pay', row.fault);
      const r = okValue(await pay('F-1'));
      expect(r).toMatchObject({ resultCode: row.code, ...(row.error ? { errorCode: row.error } : {}) });
      sn = r.order!.sn!;
    } else {
      if (row.inFlight) gw.inject('pay', { kind: 'pay_in_progress', queries: 5 });
      sn = okValue(await pay('F-1')).order!.sn!;
      if (row.fault) gw.inject(row.endpoint, row.fault);
      const r =
        row.endpoint === 'refund'
          ? await upay.refund(me, { sn, refund_request_no: 'RF1', refund_amount: '100', operator: '李四' })
          : await upay[row.endpoint](me, { sn });
      expect(okValue(r)).toMatchObject({ resultCode: row.code, ...(row.error ? { errorCode: row.error } : {}) });
    }
    expect(gw.getOrder(sn)?.orderStatus).toBe(row.status);
    const seen: (string | null | undefined)[] = [];
    for (const _ of row.after ?? []) seen.push(okValue(await upay.query(me, { sn })).order?.orderStatus);
    expect(seen).toEqual(row.after ?? []);
  });

  it('per-transaction and store daily limits: BUYER_OVER_TRANSACTION_LIMIT, UPAY_STORE_OVER_DAILY_LIMIT', async () => {
    const { pay } = await setup({ limits: { transactionCents: 3000, storeDailyCents: 5000 } });
    expect(okValue(await pay('L-1', { total_amount: '3001' }))).toMatchObject({ resultCode: 'PAY_FAIL', errorCode: 'BUYER_OVER_TRANSACTION_LIMIT', order: { orderStatus: 'PAY_CANCELED' } });
    expect(okValue(await pay('L-2')).resultCode).toBe('PAY_SUCCESS');
    expect(okValue(await pay('L-3'))).toMatchObject({ resultCode: 'PAY_FAIL', errorCode: 'UPAY_STORE_OVER_DAILY_LIMIT' });
  });

  it('UPAY_REFUND_ORDER_NOOP for a repeated refund_request_no; business faults only on their endpoints', async () => {
    const { gw, upay, me, pay } = await setup();
    const sn = okValue(await pay('N-1')).order!.sn!;
    okValue(await upay.refund(me, { sn, refund_request_no: 'RF1', refund_amount: '100', operator: '李四' }));
    expect(okValue(await upay.refund(me, { sn, refund_request_no: 'RF1', refund_amount: '100', operator: '李四' }))).toMatchObject({ resultCode: 'FAIL', errorCode: 'UPAY_REFUND_ORDER_NOOP' });
    expect(gw.effects('refund', sn)).toBe(1);
    expect(() => gw.inject('query', { kind: 'pay_fail_error' })).toThrow(TypeError);
    expect(() => gw.inject('pay', { kind: 'refund_fail' })).toThrow(TypeError);
  });
});
