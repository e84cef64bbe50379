/**
 * The sandbox Upay gateway over real HTTP on loopback: signatures, activation,
 * key rotation, pay/query/revoke/cancel/refund rules, the same-day rule by an
 * injected clock, every fault kind, the request log and the effect ledger.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createSandboxGateway, MAX_BODY_BYTES, SANDBOX_DEFAULTS, type SandboxGateway, type SandboxGatewayOptions, type SandboxTerminal } from '../../main/sandbox/gateway';
import { sign } from '../../main/upay/sign';
import { businessDayStart, ManualClock } from '../../main/common/time';

const HOUR = 60 * 60 * 1000;
/** 2026-05-22 10:00 in UTC+8. */
const MORNING = businessDayStart('2026-05-22') + 10 * HOUR;

const open: SandboxGateway[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

async function start(options: SandboxGatewayOptions = {}): Promise<SandboxGateway> {
  const gw = await createSandboxGateway(options);
  open.push(gw);
  return gw;
}

interface Reply {
  status: number;
  text: string;
  json: Record<string, unknown>;
  biz: Record<string, unknown>;
  data: Record<string, string>;
}

interface CallOptions {
  /** Overrides the computed Authorization header (null: none). */
  authorization?: string | null;
  signWith?: string;
  signal?: AbortSignal;
}

/** POSTs a signed body; `who` gives the sn and key of the signer. */
async function call(gw: SandboxGateway, path: string, body: object | string, who: { sn: string; key: string }, opts: CallOptions = {}): Promise<Reply> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const authorization = opts.authorization === undefined ? `${who.sn} ${sign(raw, opts.signWith ?? who.key)}` : opts.authorization;
  if (authorization !== null) headers.authorization = authorization;
  const res = await fetch(gw.url + path, { method: 'POST', headers, body: raw, ...(opts.signal ? { signal: opts.signal } : {}) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // left empty: the caller looks at `text`
  }
  const biz = (json.biz_response ?? {}) as Record<string, unknown>;
  return { status: res.status, text, json, biz, data: (biz.data ?? {}) as Record<string, string> };
}

const as = (t: SandboxTerminal) => ({ sn: t.terminalSn, key: t.terminalKey });

function payBody(t: SandboxTerminal, clientSn: string, extra: Record<string, string> = {}) {
  return { terminal_sn: t.terminalSn, client_sn: clientSn, total_amount: '2580', dynamic_id: '134567890123456789', subject: '披萨', operator: '张三', ...extra };
}

/** Resolves to 'error' when the request or its body fails at the transport level. */
async function transport(p: Promise<Reply>): Promise<Reply | 'error'> {
  try {
    return await p;
  } catch {
    return 'error';
  }
}

describe('signatures and envelope', () => {
  it('accepts lower- and uppercase hex, rejects wrong or missing signatures', async () => {
    const gw = await start();
    const t = gw.createTerminal();
    const body = JSON.stringify({ terminal_sn: t.terminalSn, client_sn: 'nope' });
    const good = sign(body, t.terminalKey);

    const lower = await call(gw, '/upay/v2/query', body, as(t), { authorization: `${t.terminalSn} ${good}` });
    expect(lower.status).toBe(200);
    expect(lower.json.result_code).toBe('200');
    expect(lower.biz).toMatchObject({ result_code: 'FAIL', error_code: 'UPAY_ORDER_NOT_EXISTS' });

    const upper = await call(gw, '/upay/v2/query', body, as(t), { authorization: `${t.terminalSn} ${good.toUpperCase()}` });
    expect(upper.json.result_code).toBe('200');

    for (const authorization of [`${t.terminalSn} ${sign(body, 'x'.repeat(32))}`, null, `${t.terminalSn}  ${good}`, `${t.terminalSn} ${good}00`]) {
      const bad = await call(gw, '/upay/v2/query', body, as(t), { authorization });
      expect(bad.status).toBe(200);
      expect(bad.json).toMatchObject({ result_code: '400', error_code: 'ILLEGAL_SIGN' });
      expect(bad.json.biz_response).toBeUndefined();
    }
  });

  it('signs over the exact bytes: a changed body fails', async () => {
    const gw = await start();
    const t = gw.createTerminal();
    const body = JSON.stringify({ terminal_sn: t.terminalSn, client_sn: '订单一' });
    const r = await call(gw, '/upay/v2/query', `${body} `, as(t), { authorization: `${t.terminalSn} ${sign(body, t.terminalKey)}` });
    expect(r.json.error_code).toBe('ILLEGAL_SIGN');
  });

  it('answers INVALID_TERMINAL (as the tables name it), INVALID_PARAMS for bad bodies, and survives garbage', async () => {
    const gw = await start();
    const t = gw.createTerminal();
    const unknown = await call(gw, '/upay/v2/query', { terminal_sn: '10099999999999', sn: '1' }, { sn: '10099999999999', key: t.terminalKey });
    expect(unknown.json).toEqual({ result_code: '400', error_code: 'INVALID_TERMINAL', error_message: '终端错误' });

    for (const body of ['not json', '[1,2]', 'null', JSON.stringify({ terminal_sn: t.terminalSn, sn: 7894259244061958 }), JSON.stringify({ terminal_sn: t.terminalSn })]) {
      const r = await call(gw, '/upay/v2/query', body, as(t));
      expect(r.json).toMatchObject({ result_code: '400', error_code: 'INVALID_PARAMS' });
    }
    const otherTerminal = await call(gw, '/upay/v2/query', { terminal_sn: '10000000000000', sn: '1' }, as(t));
    expect(otherTerminal.json.error_code).toBe('INVALID_PARAMS');

    const big = JSON.stringify({ terminal_sn: t.terminalSn, sn: '1', pad: 'x'.repeat(MAX_BODY_BYTES) });
    const tooBig = await call(gw, '/upay/v2/query', big, as(t));
    expect(tooBig.json).toMatchObject({ result_code: '400', error_code: 'INVALID_PARAMS' });
    expect(gw.log().at(-1)?.body).toMatch(/bytes omitted/);

    // Broken HTTP on a raw socket must not take the server down.
    await new Promise<void>((resolve) => {
      const req = httpRequest(gw.url + '/upay/v2/query', { method: 'POST', headers: { 'content-length': '100' } });
      req.on('error', () => resolve());
      req.write('{"terminal_sn":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    expect((await fetch(gw.url + '/nope', { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(gw.url + '/upay/v2/query')).status).toBe(405);
    expect((await fetch(gw.url + '/')).status).toBe(200);
    const still = await call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, sn: '1' }, as(t));
    expect(still.biz.error_code).toBe('UPAY_ORDER_NOT_EXISTS');
  });
});

describe('activation', () => {
  it('activates with a vendor-signed single-use code', async () => {
    const gw = await start();
    const vendor = { sn: gw.vendor.vendorSn, key: gw.vendor.vendorKey };
    expect(gw.vendor).toEqual({ vendorSn: SANDBOX_DEFAULTS.vendorSn, vendorKey: SANDBOX_DEFAULTS.vendorKey, appId: SANDBOX_DEFAULTS.appId });
    expect(gw.activationCodes()).toEqual(['10000001', '10000002', '10000003', '10000004', '10000005']);

    const body = { app_id: gw.vendor.appId, code: '10000001', device_id: 'POS-01', name: '一号收银台' };
    const r = await call(gw, '/terminal/activate', body, vendor);
    expect(r.json.result_code).toBe('200');
    expect(r.biz.terminal_sn).toMatch(/^100\d{11}$/);
    expect(r.biz.terminal_key).toMatch(/^[0-9a-f]{32}$/);
    expect(r.biz).toMatchObject({ merchant_name: '收钱吧沙箱商户', store_name: '沙箱一号店' });
    expect(gw.activationCodes()).not.toContain('10000001');
    expect(gw.terminals().map((t) => t.terminalSn)).toContain(r.biz.terminal_sn);
    expect(gw.effects('activate', String(r.biz.terminal_sn))).toBe(1);

    const again = await call(gw, '/terminal/activate', { ...body, device_id: 'POS-02' }, vendor);
    expect(again.json).toMatchObject({ result_code: '400', error_code: 'INVALID_PARAMS', error_message: '激活码已被使用' });

    // The new terminal's key works at once.
    const sn = String(r.biz.terminal_sn);
    const q = await call(gw, '/upay/v2/query', { terminal_sn: sn, client_sn: 'x' }, { sn, key: String(r.biz.terminal_key) });
    expect(q.biz.error_code).toBe('UPAY_ORDER_NOT_EXISTS');
  });

  it('refuses wrong vendor signature, app_id, unknown code, long device_id', async () => {
    const gw = await start({ activationCodes: ['555'] });
    const vendor = { sn: gw.vendor.vendorSn, key: gw.vendor.vendorKey };
    const body = { app_id: gw.vendor.appId, code: '555', device_id: 'd' };
    expect((await call(gw, '/terminal/activate', body, { ...vendor, key: 'f'.repeat(32) })).json.error_code).toBe('ILLEGAL_SIGN');
    expect((await call(gw, '/terminal/activate', body, { ...vendor, sn: '1' })).json.error_code).toBe('ILLEGAL_SIGN');
    expect((await call(gw, '/terminal/activate', { ...body, app_id: '1' }, vendor)).json.error_code).toBe('INVALID_PARAMS');
    expect((await call(gw, '/terminal/activate', { ...body, code: '666' }, vendor)).json.error_code).toBe('INVALID_PARAMS');
    expect((await call(gw, '/terminal/activate', { ...body, device_id: 'd'.repeat(129) }, vendor)).json.error_code).toBe('INVALID_PARAMS');
    expect(gw.activationCodes()).toEqual(['555']);
    const code = gw.addActivationCode();
    expect(code).toMatch(/^\d{8}$/);
    expect((await call(gw, '/terminal/activate', { ...body, code, device_id: 'd'.repeat(128) }, vendor)).json.result_code).toBe('200');
  });
});

describe('check-in key rotation', () => {
  it('keeps the current and the previous key valid, older keys invalid', async () => {
    const gw = await start();
    const t = gw.createTerminal('POS-01');
    const k0 = t.terminalKey;
    const sn = t.terminalSn;
    const checkin = (key: string) => call(gw, '/terminal/checkin', { terminal_sn: sn, device_id: 'POS-01' }, { sn, key });
    const query = async (key: string) => (await call(gw, '/upay/v2/query', { terminal_sn: sn, sn: '1' }, { sn, key })).json;

    const r1 = await checkin(k0);
    const k1 = String(r1.biz.terminal_key);
    expect(r1.biz.terminal_sn).toBe(sn);
    expect(k1).toMatch(/^[0-9a-f]{32}$/);
    expect(k1).not.toBe(k0);
    expect((await query(k0)).result_code).toBe('200');
    expect((await query(k1)).result_code).toBe('200');

    const k2 = String((await checkin(k1)).biz.terminal_key);
    expect(await query(k0)).toMatchObject({ result_code: '400', error_code: 'ILLEGAL_SIGN' });
    expect((await query(k1)).result_code).toBe('200');
    expect((await query(k2)).result_code).toBe('200');
    expect((await checkin(k0)).json.error_code).toBe('ILLEGAL_SIGN');

    // Lost-response retry: signed with the previous key, the undelivered key is dropped.
    const k3 = String((await checkin(k1)).biz.terminal_key);
    expect((await query(k2)).error_code).toBe('ILLEGAL_SIGN');
    expect((await query(k1)).result_code).toBe('200');
    expect((await query(k3)).result_code).toBe('200');
    expect(gw.terminal(sn)).toMatchObject({ terminalKey: k3, previousKey: k1, checkins: 3 });
    expect(gw.effects('checkin', sn)).toBe(3);
  });

  it('requires device_id', async () => {
    const gw = await start();
    const t = gw.createTerminal();
    const r = await call(gw, '/terminal/checkin', { terminal_sn: t.terminalSn }, as(t));
    expect(r.json.error_code).toBe('INVALID_PARAMS');
    expect(gw.terminal(t.terminalSn)?.terminalKey).toBe(t.terminalKey);
  });
});

describe('pay and query', () => {
  it('pays a numeric barcode, picks payway by prefix, rejects bad ones and duplicates', async () => {
    const clock = new ManualClock(MORNING);
    const gw = await start({ clock });
    const t = gw.createTerminal();

    const r = await call(gw, '/upay/v2/pay', payBody(t, 'C1'), as(t));
    expect(r.biz.result_code).toBe('PAY_SUCCESS');
    expect(r.data).toMatchObject({ client_sn: 'C1', order_status: 'PAID', status: 'SUCCESS', payway: '3', payway_name: '微信', total_amount: '2580', net_amount: '2580', finish_time: String(MORNING), terminal_sn: t.terminalSn });
    expect(r.data.sn).toMatch(/^\d{16}$/);
    expect(r.data.trade_no).not.toBe('');
    for (const [k, v] of Object.entries(r.data)) expect([k, typeof v]).toEqual([k, k === 'payment_list' ? 'object' : 'string']);

    const ali = await call(gw, '/upay/v2/pay', payBody(t, 'C2', { dynamic_id: '284567890123456789' }), as(t));
    expect(ali.data).toMatchObject({ payway: '1', payway_name: '支付宝' });

    const bad = await call(gw, '/upay/v2/pay', payBody(t, 'C3', { dynamic_id: 'abc' }), as(t));
    expect(bad.biz).toMatchObject({ result_code: 'PAY_FAIL', error_code: 'INVALID_BARCODE' });
    expect(bad.data.order_status).toBe('PAY_CANCELED');

    const dup = await call(gw, '/upay/v2/pay', payBody(t, 'C1'), as(t));
    expect(dup.biz).toMatchObject({ result_code: 'FAIL', error_code: 'CLIENT_SN_CONFLICT' });

    const invalids: Record<string, string>[] = [{ total_amount: '0' }, { total_amount: '1.5' }, { operator: '' }, { client_sn: 'x'.repeat(33) }];
    for (const extra of invalids) {
      const invalid = await call(gw, '/upay/v2/pay', payBody(t, 'C9', extra), as(t));
      expect(invalid.json.error_code).toBe('INVALID_PARAMS');
    }
    expect(gw.effects('pay')).toBe(3);
    expect(gw.getOrder('C1')?.orderStatus).toBe('PAID');
  });

  it('queries by sn or client_sn, sn wins', async () => {
    const gw = await start();
    const t = gw.createTerminal();
    const a = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'A', totalCents: 100 });
    const b = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'B', totalCents: 200 });
    const bySn = await call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, sn: a.sn }, as(t));
    expect(bySn.biz.result_code).toBe('SUCCESS');
    expect(bySn.data).toMatchObject({ sn: a.sn, client_sn: 'A', order_status: 'PAID', total_amount: '100' });
    const byClient = await call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, client_sn: 'B' }, as(t));
    expect(byClient.data.sn).toBe(b.sn);
    const both = await call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, sn: a.sn, client_sn: 'B' }, as(t));
    expect(both.data.sn).toBe(a.sn);
    const none = await call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, sn: '7894259244061958' }, as(t));
    expect(none.biz).toMatchObject({ result_code: 'FAIL', error_code: 'UPAY_ORDER_NOT_EXISTS' });
  });
});

describe('revoke and cancel', () => {
  async function setup(options: SandboxGatewayOptions = {}) {
    const clock = new ManualClock(MORNING);
    const gw = await start({ clock, ...options });
    const t = gw.createTerminal();
    const order = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'R1', totalCents: 2580 });
    const revoke = (path = '/upay/v2/revoke', ref: Record<string, string> = { sn: order.sn }, opts: CallOptions = {}) =>
      call(gw, path, { terminal_sn: t.terminalSn, ...ref }, as(t), opts);
    const query = () => call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, sn: order.sn }, as(t));
    return { clock, gw, t, order, revoke, query };
  }

  it('voids a paid order once; a repeat answers FAIL + UPAY_CANCEL_ORDER_NOOP', async () => {
    const { gw, order, revoke, query } = await setup();
    const r = await revoke();
    expect(r.biz.result_code).toBe('CANCEL_SUCCESS');
    expect(r.data).toMatchObject({ sn: order.sn, client_sn: 'R1', order_status: 'CANCELED', net_amount: '0', total_amount: '2580' });
    expect((await query()).data.order_status).toBe('CANCELED');

    const again = await revoke('/upay/v2/revoke', { client_sn: 'R1' });
    expect(again.biz).toMatchObject({ result_code: 'FAIL', error_code: 'UPAY_CANCEL_ORDER_NOOP' });
    expect(gw.effects('revoke', order.sn)).toBe(1);
    expect(gw.effects('revoke', 'R1')).toBe(1);
    expect(gw.log().map((e) => [e.endpoint, e.effect, e.bizResultCode])).toEqual([
      ['revoke', true, 'CANCEL_SUCCESS'],
      ['query', false, 'SUCCESS'],
      ['revoke', false, 'FAIL'],
    ]);
  });

  it('cancel follows the same rules', async () => {
    const { gw, order, revoke } = await setup();
    expect((await revoke('/upay/v2/cancel')).biz.result_code).toBe('CANCEL_SUCCESS');
    expect((await revoke('/upay/v2/cancel')).biz.error_code).toBe('UPAY_CANCEL_ORDER_NOOP');
    expect((await revoke('/upay/v2/revoke')).biz.error_code).toBe('UPAY_CANCEL_ORDER_NOOP');
    expect(gw.effects('cancel', order.sn)).toBe(1);
    expect(gw.effects('*', order.sn)).toBe(1);
  });

  it('can answer revoke with the order fields flat in biz_response', async () => {
    const { order, revoke } = await setup({ revokeShape: 'flat' });
    const r = await revoke();
    expect(r.biz).toMatchObject({ result_code: 'CANCEL_SUCCESS', sn: order.sn, order_status: 'CANCELED', net_amount: '0' });
    expect(r.biz.data).toBeUndefined();
  });

  it('refuses an order of another business day (UTC+8)', async () => {
    const { gw, clock, t, revoke } = await setup();
    // 23:59 CST on the 22nd is 15:59 UTC; 00:01 CST on the 23rd is the next business day.
    const late = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'LATE', totalCents: 100, finishedAt: businessDayStart('2026-05-23') - 60_000 });
    clock.set(businessDayStart('2026-05-23') + 60_000);
    const r = await revoke('/upay/v2/revoke', { sn: late.sn });
    expect(r.biz).toMatchObject({ result_code: 'FAIL', error_code: 'UPAY_CANCEL_INVALID_ORDER_STATE' });
    expect(String(r.biz.error_message)).toContain('当日');
    expect(gw.getOrder(late.sn)?.orderStatus).toBe('PAID');

    // 00:01 and 23:59 CST of the same day are different UTC dates but one business day.
    const early = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'EARLY', totalCents: 100, finishedAt: businessDayStart('2026-05-23') + 60_000 });
    clock.set(businessDayStart('2026-05-24') - 60_000);
    expect((await revoke('/upay/v2/revoke', { sn: early.sn })).biz.result_code).toBe('CANCEL_SUCCESS');
  });

  it('refuses refunded and not-paid orders', async () => {
    const { gw, t, order, revoke } = await setup();
    const refund = await call(gw, '/upay/v2/refund', { terminal_sn: t.terminalSn, sn: order.sn, refund_request_no: 'RF1', refund_amount: '100', operator: '张三' }, as(t));
    expect(refund.data.order_status).toBe('PARTIAL_REFUNDED');
    const r = await revoke();
    expect(r.biz).toMatchObject({ result_code: 'FAIL', error_code: 'UPAY_CANCEL_INVALID_ORDER_STATE' });

    const refunded = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100, status: 'REFUNDED' });
    expect((await revoke('/upay/v2/revoke', { sn: refunded.sn })).biz.error_code).toBe('UPAY_CANCEL_INVALID_ORDER_STATE');
    const failed = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100, status: 'PAY_CANCELED' });
    expect((await revoke('/upay/v2/revoke', { sn: failed.sn })).biz.error_code).toBe('UPAY_CANCEL_INVALID_ORDER_STATE');
    expect((await revoke('/upay/v2/revoke', { sn: '1234567890123456' })).biz.error_code).toBe('UPAY_ORDER_NOT_EXISTS');
    expect(gw.effects('revoke')).toBe(0);
  });

  it('answers a promotion order with CANCEL_ERROR + UPAY_TCP_ORDER_NOT_REFUNDABLE', async () => {
    const { gw, t, order, revoke } = await setup();
    gw.markPromotion(order.sn);
    const r = await revoke();
    expect(r.json).toEqual({
      result_code: '200',
      biz_response: { result_code: 'CANCEL_ERROR', error_code: 'UPAY_TCP_ORDER_NOT_REFUNDABLE', error_message: `订单${order.sn}参与了活动并且无法撤销`, data: null },
    });
    expect(gw.getOrder(order.sn)?.orderStatus).toBe('PAID');
    const seeded = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 1, promotion: true });
    expect((await revoke('/upay/v2/revoke', { sn: seeded.sn })).biz.error_code).toBe('UPAY_TCP_ORDER_NOT_REFUNDABLE');
    expect(gw.effects('revoke')).toBe(0);
  });
});

describe('refund', () => {
  it('refunds partially, idempotently, and not beyond the net amount', async () => {
    const gw = await start();
    const t = gw.createTerminal();
    const o = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'F1', totalCents: 1000 });
    const refund = (no: string, amount: string) =>
      call(gw, '/upay/v2/refund', { terminal_sn: t.terminalSn, client_sn: 'F1', refund_request_no: no, refund_amount: amount, operator: '李四' }, as(t));

    const first = await refund('N1', '300');
    expect(first.biz.result_code).toBe('REFUND_SUCCESS');
    expect(first.data).toMatchObject({ order_status: 'PARTIAL_REFUNDED', net_amount: '700' });
    // A repeat of an applied refund_request_no refunds nothing: FAIL + UPAY_REFUND_ORDER_NOOP (the documents' code).
    expect((await refund('N1', '300')).biz).toEqual({ result_code: 'FAIL', error_code: 'UPAY_REFUND_ORDER_NOOP', error_message: '无效操作，本次退款退款已经完成了', data: null });
    expect((await refund('N2', '800')).biz).toMatchObject({ result_code: 'FAIL', error_code: 'REFUNDABLE_AMOUNT_NOT_ENOUGH' });
    const rest = await refund('N3', '700');
    expect(rest.data).toMatchObject({ order_status: 'REFUNDED', net_amount: '0' });
    expect((await refund('N4', '1')).biz.error_code).toBe('UPAY_REFUND_INVALID_ORDER_STATE');
    expect(gw.effects('refund', o.sn)).toBe(2);
    expect(gw.getOrder(o.sn)?.refunds.map((r) => r.refundRequestNo)).toEqual(['N1', 'N3']);
  });
});

describe('faults', () => {
  async function setup() {
    const gw = await start();
    const t = gw.createTerminal();
    const order = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'X1', totalCents: 500 });
    const revoke = (path = '/upay/v2/revoke', opts: CallOptions = {}) => call(gw, path, { terminal_sn: t.terminalSn, sn: order.sn }, as(t), opts);
    const status = () => gw.getOrder(order.sn)?.orderStatus;
    return { gw, t, order, revoke, status };
  }

  it('delay: effect applied at once, answer after the delay', async () => {
    const { gw, t, order, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'delay', ms: 300 });
    const started = Date.now();
    const pending = revoke();
    await new Promise((r) => setTimeout(r, 100));
    expect(status()).toBe('CANCELED');
    const q = await call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, sn: order.sn }, as(t));
    expect(q.data.order_status).toBe('CANCELED');
    const r = await pending;
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(r.biz.result_code).toBe('CANCEL_SUCCESS');
    expect(gw.log()[0]).toMatchObject({ fault: 'delay', effect: true });
  });

  it('drop_before: connection dies, nothing applied', async () => {
    const { gw, order, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'drop_before' });
    expect(await transport(revoke())).toBe('error');
    expect(status()).toBe('PAID');
    expect(gw.effects('revoke', order.sn)).toBe(0);
    expect(gw.log()[0]).toMatchObject({ endpoint: 'revoke', fault: 'drop_before', effect: false });
    expect((await revoke()).biz.result_code).toBe('CANCEL_SUCCESS');
  });

  it('drop_after: applied, then the connection dies', async () => {
    const { gw, order, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'drop_after' });
    expect(await transport(revoke())).toBe('error');
    expect(status()).toBe('CANCELED');
    expect(gw.effects('revoke', order.sn)).toBe(1);
    expect(gw.log()[0]).toMatchObject({ fault: 'drop_after', effect: true, bizResultCode: 'CANCEL_SUCCESS' });
    expect((await revoke()).biz.error_code).toBe('UPAY_CANCEL_ORDER_NOOP');
    expect(gw.effects('revoke', order.sn)).toBe(1);
  });

  it('hang: never answers, nothing applied, close() releases it', async () => {
    const { gw, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'hang' });
    const started = Date.now();
    expect(await transport(revoke('/upay/v2/revoke', { signal: AbortSignal.timeout(300) }))).toBe('error');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(status()).toBe('PAID');

    gw.inject('query', { kind: 'hang' });
    const hung = transport(call(gw, '/upay/v2/query', { terminal_sn: gw.terminals()[0]?.terminalSn ?? '', sn: '1' }, as(gw.terminals()[0] as SandboxTerminal)));
    await new Promise((r) => setTimeout(r, 50));
    const closedAt = Date.now();
    await gw.close();
    expect(await hung).toBe('error');
    expect(Date.now() - closedAt).toBeLessThan(2000);
  });

  it('reset_mid_body: applied, headers and half a body, then reset', async () => {
    const { gw, t, order, status } = await setup();
    gw.inject('revoke', { kind: 'reset_mid_body' });
    const raw = JSON.stringify({ terminal_sn: t.terminalSn, sn: order.sn });
    // A raw client shows what a fetch-based one cannot: status, length and the partial bytes.
    const seen = await new Promise<{ status?: number; length?: string; got: string; error: boolean }>((resolve) => {
      const out: { status?: number; length?: string; got: string; error: boolean } = { got: '', error: false };
      const req = httpRequest(gw.url + '/upay/v2/revoke', { method: 'POST', headers: { authorization: `${t.terminalSn} ${sign(raw, t.terminalKey)}` } }, (res) => {
        out.status = res.statusCode;
        out.length = res.headers['content-length'];
        res.on('data', (c: Buffer) => (out.got += c.toString('utf8')));
        res.on('error', () => (out.error = true));
        res.on('close', () => resolve(out));
      });
      req.on('error', () => {
        out.error = true;
        resolve(out);
      });
      req.end(raw);
    });
    expect(seen.status).toBe(200);
    expect(seen.error).toBe(true);
    expect(seen.got.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(seen.got)).toBeLessThan(Number(seen.length));
    expect(status()).toBe('CANCELED');
    expect(gw.effects('revoke', order.sn)).toBe(1);
  });

  it('http500_html: HTTP 500 with HTML, nothing applied', async () => {
    const { gw, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'http500_html' });
    const res = await fetch(gw.url + '/upay/v2/revoke', { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/<html>/);
    expect(status()).toBe('PAID');
    expect((await revoke()).biz.result_code).toBe('CANCEL_SUCCESS');
  });

  it('malformed_json: applied, HTTP 200 with broken JSON', async () => {
    const { gw, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'malformed_json' });
    const r = await revoke();
    expect(r.status).toBe(200);
    expect(() => JSON.parse(r.text) as unknown).toThrow();
    expect(r.text.startsWith('{"result_code":"200"')).toBe(true);
    expect(status()).toBe('CANCELED');
    expect(gw.effects('revoke')).toBe(1);
  });

  it('envelope: top-level error, nothing applied', async () => {
    const { gw, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' }, 2);
    for (let i = 0; i < 2; i++) {
      const r = await revoke();
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ result_code: '500', error_code: 'MAINTENANCE_INPROGRESS' });
      expect(typeof r.json.error_message).toBe('string');
    }
    expect(status()).toBe('PAID');
    expect((await revoke()).biz.result_code).toBe('CANCEL_SUCCESS');
  });

  it('cancel_in_progress: CANCEL_INPROGRESS for K queries, then CANCELED', async () => {
    const { gw, t, order, revoke, status } = await setup();
    gw.inject('revoke', { kind: 'cancel_in_progress', queries: 2 });
    const r = await revoke();
    expect(r.biz.result_code).toBe('CANCEL_IN_PROGRESS');
    expect(r.data.order_status).toBe('CANCEL_INPROGRESS');
    const query = async () => (await call(gw, '/upay/v2/query', { terminal_sn: t.terminalSn, client_sn: 'X1' }, as(t))).data.order_status;
    expect(await query()).toBe('CANCEL_INPROGRESS');
    // A revoke while in progress is not a second void.
    expect((await revoke()).biz.error_code).toBe('UPAY_CANCEL_INVALID_ORDER_STATE');
    expect(await query()).toBe('CANCEL_INPROGRESS');
    expect(await query()).toBe('CANCELED');
    expect(status()).toBe('CANCELED');
    expect(gw.effects('revoke', order.sn)).toBe(1);
  });

  it('cancel_error_no_code: CANCEL_ERROR without error_code; query reveals the outcome', async () => {
    const { gw, t, revoke, status } = await setup();
    gw.inject('cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' });
    const r1 = await revoke('/upay/v2/cancel');
    expect(r1.biz.result_code).toBe('CANCEL_ERROR');
    expect(r1.biz.error_code).toBe(''); // the real shape: an empty placeholder
    expect(status()).toBe('PAID');

    const other = gw.seedOrder({ terminalSn: t.terminalSn, clientSn: 'X2', totalCents: 500 });
    gw.inject('revoke', { kind: 'cancel_error_no_code', outcome: 'canceled' });
    const r2 = await call(gw, '/upay/v2/revoke', { terminal_sn: t.terminalSn, sn: other.sn }, as(t));
    expect(r2.biz.result_code).toBe('CANCEL_ERROR');
    expect(r2.biz.error_code).toBe('');
    expect(gw.getOrder('X2')?.orderStatus).toBe('CANCELED');
    expect(gw.effects('revoke', 'X2')).toBe(1);
    expect(gw.effects('cancel')).toBe(0);
  });

  it('queues per endpoint with counts, "*" as fallback; clearFaults empties', async () => {
    const { gw, t, revoke } = await setup();
    expect(() => gw.inject('query', { kind: 'cancel_in_progress', queries: 1 })).toThrow(TypeError);
    expect(() => gw.inject('revoke', { kind: 'drop_before' }, 0)).toThrow(RangeError);

    gw.inject('*', { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' }, 2);
    gw.inject('query', { kind: 'http500_html' });
    const q = () => fetch(gw.url + '/upay/v2/query', { method: 'POST', body: '{}' }).then((r) => r.status);
    expect(await q()).toBe(500); // own queue first
    expect((await revoke()).json.error_code).toBe('UNKNOWN_SYSTEM_ERROR');
    expect(gw.pendingFaults()).toEqual([{ endpoint: '*', fault: { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' }, remaining: 1 }]);
    gw.clearFaults();
    expect((await revoke()).biz.result_code).toBe('CANCEL_SUCCESS');

    gw.inject('checkin', { kind: 'drop_before' }, Infinity);
    for (let i = 0; i < 3; i++) expect(await transport(call(gw, '/terminal/checkin', { terminal_sn: t.terminalSn, device_id: 'd' }, as(t)))).toBe('error');
    expect(gw.pendingFaults()[0]?.remaining).toBe(Infinity);
    gw.clearFaults();
  });
});

describe('log and effects', () => {
  it('records every request; clearLog keeps the effect ledger', async () => {
    const seen: number[] = [];
    const clock = new ManualClock(MORNING);
    const gw = await start({ clock, onRequest: (e) => seen.push(e.seq) });
    const t = gw.createTerminal();
    await call(gw, '/upay/v2/pay', payBody(t, 'L1'), as(t));
    await call(gw, '/upay/v2/query', 'garbage', as(t));
    const [pay, bad] = gw.log();
    expect(pay).toMatchObject({
      seq: 1,
      at: MORNING,
      endpoint: 'pay',
      authSn: t.terminalSn,
      body: payBody(t, 'L1'),
      effect: true,
      httpStatus: 200,
      resultCode: '200',
      bizResultCode: 'PAY_SUCCESS',
      clientSn: 'L1',
      terminalSn: t.terminalSn,
    });
    expect(bad).toMatchObject({ seq: 2, endpoint: 'query', body: 'garbage', effect: false, resultCode: '400', errorCode: 'INVALID_PARAMS' });
    expect(seen).toEqual([1, 2]);
    gw.clearLog();
    expect(gw.log()).toEqual([]);
    expect(gw.effects('pay', 'L1')).toBe(1);
    expect(gw.effects('pay', gw.getOrder('L1')?.sn)).toBe(1);
  });

  it('a seeded sandbox is reproducible', async () => {
    const a = await start({ seed: 42, clock: new ManualClock(MORNING) });
    const b = await start({ seed: 42, clock: new ManualClock(MORNING) });
    expect(a.createTerminal()).toEqual(b.createTerminal());
  });
});
