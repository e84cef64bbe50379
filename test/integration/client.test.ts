/**
 * The Upay v2 client against the sandbox gateway over real loopback HTTP
 * (no MockAgent): every endpoint (activate, check-in with key rotation, pay,
 * query, revoke in both answer shapes, repeat revoke, cancel, refund with its
 * idempotency key, the promotion refusal), requests refused locally before
 * anything is sent, per-endpoint timeouts, and an injected dispatcher (a
 * counting Agent and a ProxyAgent through a loopback CONNECT proxy).
 */
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { Agent, buildConnector, ProxyAgent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createSandboxGateway, type SandboxGateway, type SandboxGatewayOptions, type SandboxOrder, type SandboxTerminal } from '../../main/sandbox/gateway';
import { STORE_ID } from '../../main/sandbox/orders';
import { UpayClient, type Signer, type UpayClientOptions } from '../../main/upay/client';
import type { CallResult, OrderResult, OrderSnapshot, TerminalCredentials } from '../../main/upay/result';
import { DEFAULT_TIMEOUTS_MS, type Endpoint } from '../../main/upay/schemas';
import { businessDayStart, ManualClock } from '../../main/common/time';

const HOUR = 60 * 60 * 1000;
/** 2026-05-22 10:00 in UTC+8. */
const MORNING = businessDayStart('2026-05-22') + 10 * HOUR;
const BARCODE = '134567890123456789'; // numeric: pays at once as WeChat

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  const fns = cleanups.splice(0).reverse();
  for (const fn of fns) await fn();
});

async function gateway(options: SandboxGatewayOptions = {}): Promise<SandboxGateway> {
  const gw = await createSandboxGateway({ clock: new ManualClock(MORNING), seed: 7, ...options });
  cleanups.push(() => gw.close());
  return gw;
}

function client(gw: { url: string }, options: Omit<UpayClientOptions, 'apiDomain'> = {}): UpayClient {
  const c = new UpayClient({ apiDomain: gw.url, ...options });
  cleanups.push(() => c.close());
  return c;
}

const signer = (t: SandboxTerminal): Signer => ({ sn: t.terminalSn, key: t.terminalKey });

/** What the client must report for a sandbox order: every field, strings as sent. */
function snapshotOf(o: SandboxOrder): OrderSnapshot {
  return {
    terminalSn: o.terminalSn,
    sn: o.sn,
    clientSn: o.clientSn,
    tradeNo: o.tradeNo === '' ? null : o.tradeNo,
    status: o.status,
    orderStatus: o.orderStatus,
    payway: o.payway,
    paywayName: o.paywayName,
    totalAmount: String(o.totalCents),
    netAmount: String(o.netCents),
    subject: o.subject,
    // The last action's time and operator (payment, refund or void), as the documents define them.
    finishTime: o.lastActionAt === null ? null : String(o.lastActionAt),
    channelFinishTime: o.lastActionAt === null ? null : String(o.lastActionAt),
    operator: o.lastOperator || null,
    ctime: String(o.createdAt),
    subPayway: o.subPayway,
    clientTsn: o.refunds.length > 0 ? `${o.clientSn}-${o.refunds.at(-1)?.refundRequestNo}` : o.clientSn,
    payerUid: o.tradeNo === '' ? null : o.payerUid,
    payerLogin: o.tradeNo === '' ? null : o.payerLogin,
    storeId: STORE_ID,
    reflect: o.reflect || null,
    paymentList: o.tradeNo === '' ? [] : [{ type: o.payway === '3' ? 'WALLET_WEIXIN' : 'WALLET_ALIPAY', amountTotal: String(o.totalCents) }],
  };
}

function mustOrder(gw: SandboxGateway, ref: string): SandboxOrder {
  const o = gw.getOrder(ref);
  if (!o) throw new Error(`no sandbox order ${ref}`);
  return o;
}

function okValue<T>(r: CallResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.value;
}

describe('every endpoint against the sandbox', () => {
  it('activate → check-in rotation → pay → query → revoke → repeat revoke → cancel → refund', async () => {
    const gw = await gateway();
    const upay = client(gw);
    const vendor: Signer = { sn: gw.vendor.vendorSn, key: gw.vendor.vendorKey };

    // --- activate (vendor-signed)
    const activated = await upay.activate(vendor, { app_id: gw.vendor.appId, code: '10000001', device_id: 'POS-01', name: '一号收银台' });
    expectTypeOf(activated).toEqualTypeOf<CallResult<TerminalCredentials>>();
    const creds = okValue(activated);
    const t0 = gw.terminal(creds.terminalSn);
    expect(t0).toBeDefined();
    expect(creds).toEqual({
      terminalSn: t0?.terminalSn,
      terminalKey: t0?.terminalKey,
      merchantSn: '1680001234567',
      merchantName: '收钱吧沙箱商户',
      storeSn: '1580001234567',
      storeName: '沙箱一号店',
    });
    expect(creds.terminalSn).toMatch(/^100\d{11}$/);
    expect(gw.effects('activate', creds.terminalSn)).toBe(1);
    expect(gw.activationCodes()).not.toContain('10000001');
    expect(gw.log().at(-1)).toMatchObject({ endpoint: 'activate', authSn: gw.vendor.vendorSn, resultCode: '200' });
    // Single use: a second activation with the same code is a top-level INVALID_PARAMS.
    expect(await upay.activate(vendor, { app_id: gw.vendor.appId, code: '10000001', device_id: 'POS-02' })).toEqual({
      ok: false,
      kind: 'envelope',
      resultCode: '400',
      errorCode: 'INVALID_PARAMS',
      errorMessage: '激活码已被使用',
    });

    // --- check-in: K0 → K1; K1 and K0 both sign
    const sn = creds.terminalSn;
    const k0 = creds.terminalKey;
    const c1 = okValue(await upay.checkin({ sn, key: k0 }, { device_id: 'POS-01' }));
    const k1 = c1.terminalKey;
    expect(c1).toEqual({ terminalSn: sn, terminalKey: gw.terminal(sn)?.terminalKey, merchantSn: null, merchantName: null, storeSn: null, storeName: null });
    expect(k1).toMatch(/^[0-9a-f]{32}$/);
    expect(k1).not.toBe(k0);
    const notExists = { resultCode: 'FAIL', errorCode: 'UPAY_ORDER_NOT_EXISTS', errorMessage: '订单不存在', order: null };
    expect(okValue(await upay.query({ sn, key: k1 }, { client_sn: 'NONE-1' }))).toEqual(notExists); // new key works
    expect(okValue(await upay.query({ sn, key: k0 }, { client_sn: 'NONE-2' }))).toEqual(notExists); // previous key still works
    // K1 → K2: now K0 is two rotations old and refused at the envelope level.
    const k2 = okValue(await upay.checkin({ sn, key: k1 }, { device_id: 'POS-01', os_info: 'Windows 11' })).terminalKey;
    expect(gw.effects('checkin', sn)).toBe(2);
    expect(await upay.query({ sn, key: k0 }, { client_sn: 'NONE-3' })).toEqual({
      ok: false,
      kind: 'envelope',
      resultCode: '400',
      errorCode: 'ILLEGAL_SIGN',
      errorMessage: '签名错误',
    });
    expect(okValue(await upay.query({ sn, key: k1 }, { client_sn: 'NONE-4' }))).toEqual(notExists);
    const me: Signer = { sn, key: k2 };

    // --- pay with a numeric barcode
    const paid = await upay.pay(me, { client_sn: 'POS01-0001', total_amount: '2580', dynamic_id: BARCODE, subject: '披萨', operator: '张三' });
    expectTypeOf(paid).toEqualTypeOf<CallResult<OrderResult>>();
    const order = mustOrder(gw, 'POS01-0001');
    expect(order).toMatchObject({ orderStatus: 'PAID', totalCents: 2580, payway: '3', paywayName: '微信', finishTime: MORNING });
    expect(okValue(paid)).toEqual({ resultCode: 'PAY_SUCCESS', errorCode: null, errorMessage: null, order: snapshotOf(order) });
    expect(gw.effects('pay', order.sn)).toBe(1);

    // --- query by sn and by client_sn: the same snapshot
    const bySn = okValue(await upay.query(me, { sn: order.sn }));
    const byClientSn = okValue(await upay.query(me, { client_sn: 'POS01-0001' }));
    expect(bySn).toEqual({ resultCode: 'SUCCESS', errorCode: null, errorMessage: null, order: snapshotOf(order) });
    expect(byClientSn).toEqual(bySn);
    expect(gw.log().slice(-2).map((e) => e.body)).toEqual([
      { terminal_sn: sn, sn: order.sn },
      { terminal_sn: sn, client_sn: 'POS01-0001' },
    ]);

    // --- revoke (order under biz_response.data)
    const revoked = okValue(await upay.revoke(me, { sn: order.sn }));
    const voided = mustOrder(gw, order.sn);
    expect(voided).toMatchObject({ orderStatus: 'CANCELED', netCents: 0 });
    expect(revoked).toEqual({ resultCode: 'CANCEL_SUCCESS', errorCode: null, errorMessage: null, order: snapshotOf(voided) });
    expect(revoked.order).toMatchObject({ orderStatus: 'CANCELED', netAmount: '0', totalAmount: '2580', finishTime: String(MORNING) });
    expect(gw.effects('revoke', order.sn)).toBe(1);

    // --- repeat revoke: FAIL + UPAY_CANCEL_ORDER_NOOP, verbatim, nothing applied
    expect(okValue(await upay.revoke(me, { client_sn: 'POS01-0001' }))).toEqual({
      resultCode: 'FAIL',
      errorCode: 'UPAY_CANCEL_ORDER_NOOP',
      errorMessage: `订单${order.sn}已撤单，无需重复操作`,
      order: null,
    });
    expect(gw.effects('revoke', order.sn)).toBe(1);

    // --- cancel (a second payment)
    okValue(await upay.pay(me, { client_sn: 'POS01-0002', total_amount: '1000', dynamic_id: '28' + BARCODE.slice(2), subject: '可乐', operator: '张三' }));
    const second = mustOrder(gw, 'POS01-0002');
    expect(second).toMatchObject({ payway: '1', paywayName: '支付宝' });
    const canceled = okValue(await upay.cancel(me, { client_sn: 'POS01-0002' }));
    expect(canceled).toEqual({ resultCode: 'CANCEL_SUCCESS', errorCode: null, errorMessage: null, order: snapshotOf(mustOrder(gw, second.sn)) });
    expect(canceled.order?.orderStatus).toBe('CANCELED');
    expect(gw.effects('cancel', second.sn)).toBe(1);
    expect(gw.effects('revoke', second.sn)).toBe(0);

    // --- refund: partial, idempotent by refund_request_no
    okValue(await upay.pay(me, { client_sn: 'POS01-0003', total_amount: '5000', dynamic_id: BARCODE, subject: '套餐', operator: '李四' }));
    const third = mustOrder(gw, 'POS01-0003');
    const r1 = okValue(await upay.refund(me, { sn: third.sn, refund_request_no: 'RF-0003-1', refund_amount: '1200', operator: '李四' }));
    const afterRefund = mustOrder(gw, third.sn);
    expect(afterRefund).toMatchObject({ orderStatus: 'PARTIAL_REFUNDED', netCents: 3800, refundedCents: 1200 });
    expect(r1).toEqual({ resultCode: 'REFUND_SUCCESS', errorCode: null, errorMessage: null, order: snapshotOf(afterRefund) });
    // The retry with the same refund_request_no (even another amount) refunds nothing more: UPAY_REFUND_ORDER_NOOP.
    const retry = okValue(await upay.refund(me, { sn: third.sn, refund_request_no: 'RF-0003-1', refund_amount: '999', operator: '李四' }));
    expect(retry).toEqual({ resultCode: 'FAIL', errorCode: 'UPAY_REFUND_ORDER_NOOP', errorMessage: '无效操作，本次退款退款已经完成了', order: null });
    expect(gw.effects('refund', third.sn)).toBe(1);
    expect(mustOrder(gw, third.sn)).toMatchObject({ netCents: 3800, refunds: [{ refundRequestNo: 'RF-0003-1', refundCents: 1200 }] });
    // A new request number above what is left is refused verbatim.
    expect(okValue(await upay.refund(me, { client_sn: 'POS01-0003', refund_request_no: 'RF-0003-2', refund_amount: '3801', operator: '李四' }))).toEqual({
      resultCode: 'FAIL',
      errorCode: 'REFUNDABLE_AMOUNT_NOT_ENOUGH',
      errorMessage: '订单可退金额不足，剩余可退3800分',
      order: null,
    });
    // A partially refunded order cannot be revoked any more.
    expect(okValue(await upay.revoke(me, { sn: third.sn }))).toMatchObject({ resultCode: 'FAIL', errorCode: 'UPAY_CANCEL_INVALID_ORDER_STATE' });

    // Every request went out signed by the right party.
    expect(gw.log().every((e) => e.authSn === (e.endpoint === 'activate' ? gw.vendor.vendorSn : sn))).toBe(true);
  });

  it('revoke answers with the order flat in biz_response (revokeShape "flat") read the same', async () => {
    const flat = await gateway({ revokeShape: 'flat' });
    const t = flat.createTerminal();
    const o = flat.seedOrder({ terminalSn: t.terminalSn, totalCents: 4321, clientSn: 'FLAT-1', subject: '咖啡', operator: '王五' });
    const upay = client(flat);
    const r = okValue(await upay.revoke(signer(t), { sn: o.sn }));
    expect(r).toEqual({ resultCode: 'CANCEL_SUCCESS', errorCode: null, errorMessage: null, order: snapshotOf(mustOrder(flat, o.sn)) });
    expect(r.order).toMatchObject({ sn: o.sn, clientSn: 'FLAT-1', orderStatus: 'CANCELED', netAmount: '0', subject: '咖啡', operator: '王五' });
    // Repeat: still FAIL + NOOP, no order.
    expect(okValue(await upay.revoke(signer(t), { sn: o.sn }))).toMatchObject({ resultCode: 'FAIL', errorCode: 'UPAY_CANCEL_ORDER_NOOP', order: null });
    expect(flat.effects('revoke', o.sn)).toBe(1);
  });

  it('promotion order: ok result with CANCEL_ERROR, UPAY_TCP_ORDER_NOT_REFUNDABLE and the exact Chinese message', async () => {
    const gw = await gateway();
    const t = gw.createTerminal();
    const o = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 8800, promotion: true });
    const upay = client(gw);
    expect(await upay.revoke(signer(t), { sn: o.sn })).toEqual({
      ok: true,
      value: {
        resultCode: 'CANCEL_ERROR',
        errorCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE',
        errorMessage: `订单${o.sn}参与了活动并且无法撤销`,
        order: null,
      },
    });
    expect(gw.effects('revoke', o.sn)).toBe(0);
    expect(mustOrder(gw, o.sn).orderStatus).toBe('PAID');
  });

  it('query sends both references when given, and the gateway lets sn win', async () => {
    const gw = await gateway();
    const t = gw.createTerminal();
    const a = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100, clientSn: 'A' });
    gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 200, clientSn: 'B' });
    const upay = client(gw);
    const r = okValue(await upay.query(signer(t), { sn: a.sn, client_sn: 'B' }));
    expect(r.order).toEqual(snapshotOf(a));
    expect(gw.log().at(-1)?.body).toEqual({ terminal_sn: t.terminalSn, sn: a.sn, client_sn: 'B' });
  });

  it('other business answers stay ok with the code verbatim: invalid barcode, client_sn conflict, wrong day', async () => {
    const clock = new ManualClock(MORNING);
    const gw = await gateway({ clock });
    const t = gw.createTerminal();
    const upay = client(gw);
    const failed = okValue(await upay.pay(signer(t), { client_sn: 'BAD-1', total_amount: '100', dynamic_id: 'ABC123', subject: '水', operator: '张三' }));
    expect(failed).toEqual({ resultCode: 'PAY_FAIL', errorCode: 'INVALID_BARCODE', errorMessage: '条码错误', order: snapshotOf(mustOrder(gw, 'BAD-1')) });
    expect(failed.order).toMatchObject({ orderStatus: 'PAY_CANCELED', status: 'FAIL_CANCELED', tradeNo: null });
    expect(okValue(await upay.pay(signer(t), { client_sn: 'BAD-1', total_amount: '100', dynamic_id: BARCODE, subject: '水', operator: '张三' }))).toEqual({
      resultCode: 'FAIL',
      errorCode: 'CLIENT_SN_CONFLICT',
      errorMessage: 'client_sn在系统中已存在',
      order: null,
    });
    const o = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 500 });
    clock.advance(24 * HOUR);
    expect(okValue(await upay.revoke(signer(t), { sn: o.sn }))).toEqual({
      resultCode: 'FAIL',
      errorCode: 'UPAY_CANCEL_INVALID_ORDER_STATE',
      errorMessage: `订单${o.sn}不是当日交易，只能撤销当日的订单，请使用退款`,
      order: null,
    });
  });
});

describe('invalid requests are refused before any network call', () => {
  type Case = [name: string, call: (c: UpayClient, me: Signer, vendor: Signer) => Promise<CallResult<unknown>>, field: string];
  const pay = { client_sn: 'P-1', total_amount: '100', dynamic_id: BARCODE, subject: '水', operator: '张三' };
  const refund = { sn: '7890000000000001', refund_request_no: 'R1', refund_amount: '100', operator: '张三' };
  const long33 = 'C'.repeat(33);
  const cases: Case[] = [
    ['sn with 17 digits', (c, me) => c.query(me, { sn: '78900000000000012' }), 'sn'],
    ['sn with letters', (c, me) => c.revoke(me, { sn: '789000000000000A' }), 'sn'],
    ['client_sn of 33 chars (revoke)', (c, me) => c.revoke(me, { client_sn: long33 }), 'client_sn'],
    ['client_sn of 33 chars (pay)', (c, me) => c.pay(me, { ...pay, client_sn: long33 }), 'client_sn'],
    ['terminal_sn of 33 chars (signer sn)', (c, me) => c.query({ ...me, sn: '1'.repeat(33) }, { sn: '7890000000000001' }), 'terminal_sn'],
    ['terminal_sn of 33 chars on check-in', (c, me) => c.checkin({ ...me, sn: '1'.repeat(33) }, { device_id: 'POS-01' }), 'terminal_sn'],
    ['pay total_amount "0"', (c, me) => c.pay(me, { ...pay, total_amount: '0' }), 'total_amount'],
    ['pay total_amount "-1"', (c, me) => c.pay(me, { ...pay, total_amount: '-1' }), 'total_amount'],
    ['pay total_amount "1.5"', (c, me) => c.pay(me, { ...pay, total_amount: '1.5' }), 'total_amount'],
    ['pay total_amount "01"', (c, me) => c.pay(me, { ...pay, total_amount: '01' }), 'total_amount'],
    ['pay total_amount 100 (a number)', (c, me) => c.pay(me, { ...pay, total_amount: 100 as unknown as string }), 'total_amount'],
    ['refund refund_amount "0"', (c, me) => c.refund(me, { ...refund, refund_amount: '0' }), 'refund_amount'],
    ['refund refund_amount "-1"', (c, me) => c.refund(me, { ...refund, refund_amount: '-1' }), 'refund_amount'],
    ['refund refund_amount "1.5"', (c, me) => c.refund(me, { ...refund, refund_amount: '1.5' }), 'refund_amount'],
    ['refund refund_amount "01"', (c, me) => c.refund(me, { ...refund, refund_amount: '01' }), 'refund_amount'],
    ['refund refund_amount 100 (a number)', (c, me) => c.refund(me, { ...refund, refund_amount: 100 as unknown as string }), 'refund_amount'],
    ['pay without operator', (c, me) => c.pay(me, { ...pay, operator: undefined as unknown as string }), 'operator'],
    ['refund without operator', (c, me) => c.refund(me, { ...refund, operator: undefined as unknown as string }), 'operator'],
    ['query with neither sn nor client_sn', (c, me) => c.query(me, {}), 'sn'],
    ['revoke with neither sn nor client_sn', (c, me) => c.revoke(me, {}), 'sn'],
    ['cancel with neither sn nor client_sn', (c, me) => c.cancel(me, {}), 'sn'],
    ['refund with neither sn nor client_sn', (c, me) => c.refund(me, { ...refund, sn: undefined }), 'sn'],
    ['activate without device_id', (c, _me, v) => c.activate(v, { app_id: '2026112600000001', code: '10000001', device_id: '' }), 'device_id'],
    ['activate with a signer sn that cannot go in a header', (c, _me, v) => c.activate({ ...v, sn: '918 01234' }, { app_id: '2026112600000001', code: '10000001', device_id: 'POS' }), 'authorization'],
  ];

  it.each(cases)('%s → invalid_request naming the field, nothing on the wire', async (_name, call, field) => {
    const gw = await gateway();
    const t = gw.createTerminal();
    const upay = client(gw);
    const r = await call(upay, signer(t), { sn: gw.vendor.vendorSn, key: gw.vendor.vendorKey });
    expect(r).toEqual({ ok: false, kind: 'invalid_request', field, message: expect.any(String) });
    expect(gw.log()).toEqual([]);
    expect(gw.effects('*')).toBe(0);
  });

  it('a valid request through the same client does reach the gateway (control)', async () => {
    const gw = await gateway();
    const t = gw.createTerminal();
    const upay = client(gw);
    expect((await upay.query(signer(t), { sn: '7890000000000001' })).ok).toBe(true);
    expect(gw.log()).toHaveLength(1);
  });
});

interface DispatchSeen {
  path: string;
  headersTimeout: number | null | undefined;
  bodyTimeout: number | null | undefined;
}

/** An Agent that records each dispatch's timeouts and counts the sockets its custom connect function opens. */
interface Spy {
  agent: Agent;
  dispatched: DispatchSeen[];
  connections: () => number;
}

function spyAgent(options: Agent.Options = {}): Spy {
  const dispatched: DispatchSeen[] = [];
  let connections = 0;
  const base = buildConnector({});
  class SpyAgent extends Agent {
    override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      dispatched.push({ path: opts.path, headersTimeout: opts.headersTimeout, bodyTimeout: opts.bodyTimeout });
      return super.dispatch(opts, handler);
    }
  }
  const agent = new SpyAgent({
    ...options,
    connect: (opts, callback) => {
      connections += 1;
      base(opts, callback);
    },
  });
  cleanups.push(() => agent.close());
  return { agent, dispatched, connections: () => connections };
}

describe('timeouts', () => {
  it('defaults: 35 s for activation and money movement, 20 s for query and check-in, on the wire of every endpoint', async () => {
    expect(DEFAULT_TIMEOUTS_MS).toEqual({ activate: 35_000, pay: 35_000, precreate: 35_000, refund: 35_000, cancel: 35_000, revoke: 35_000, query: 20_000, checkin: 20_000 });
    const gw = await gateway();
    const t = gw.createTerminal();
    const o = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100 });
    const o2 = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100 });
    const spy = spyAgent();
    const upay = client(gw, { dispatcher: spy.agent });
    const me = signer(t);
    await upay.activate({ sn: gw.vendor.vendorSn, key: gw.vendor.vendorKey }, { app_id: gw.vendor.appId, code: '10000002', device_id: 'X' });
    await upay.query(me, { sn: o.sn });
    await upay.pay(me, { client_sn: 'T-1', total_amount: '1', dynamic_id: BARCODE, subject: 's', operator: 'o' });
    await upay.refund(me, { sn: o.sn, refund_request_no: 'R', refund_amount: '1', operator: 'o' });
    await upay.revoke(me, { sn: o2.sn });
    await upay.cancel(me, { sn: o2.sn });
    await upay.checkin(me, { device_id: 'X' });
    expect(spy.dispatched.map((d) => [d.path, d.headersTimeout, d.bodyTimeout])).toEqual([
      ['/terminal/activate', 35_000, 35_000],
      ['/upay/v2/query', 20_000, 20_000],
      ['/upay/v2/pay', 35_000, 35_000],
      ['/upay/v2/refund', 35_000, 35_000],
      ['/upay/v2/revoke', 35_000, 35_000],
      ['/upay/v2/cancel', 35_000, 35_000],
      ['/terminal/checkin', 20_000, 20_000],
    ]);
    expect(gw.log().map((e) => e.resultCode)).toEqual(['200', '200', '200', '200', '200', '200', '200']);
  });

  it('per-endpoint override: query gives up on a hang fast while revoke keeps its own budget', async () => {
    // undici checks headersTimeout on a ~0.5 s tick, so a 200 ms budget fires within ~1.2 s;
    // delays are chosen well clear of that.
    const gw = await gateway();
    const t = gw.createTerminal();
    const o = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100 });
    const spy = spyAgent();
    const upay = client(gw, { dispatcher: spy.agent, timeouts: { query: 200, revoke: 3_000 } });

    gw.inject('query', { kind: 'hang' });
    const started = Date.now();
    expect(await upay.query(signer(t), { sn: o.sn })).toEqual({ ok: false, kind: 'maybe_sent', reason: 'timeout', message: 'the gateway did not answer in time' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2_000);

    // The same 1.6 s delay, concurrently: beyond query's 200 ms, inside revoke's 3 s.
    gw.inject('query', { kind: 'delay', ms: 1_600 });
    gw.inject('revoke', { kind: 'delay', ms: 1_600 });
    const [q, r] = await Promise.all([upay.query(signer(t), { sn: o.sn }), upay.revoke(signer(t), { sn: o.sn })]);
    expect(q).toMatchObject({ ok: false, kind: 'maybe_sent', reason: 'timeout' });
    expect(r).toMatchObject({ ok: true, value: { resultCode: 'CANCEL_SUCCESS' } });
    // Endpoints not overridden keep their defaults.
    await upay.checkin(signer(t), { device_id: 'X' });
    expect(spy.dispatched.map((d) => [d.path, d.headersTimeout])).toEqual([
      ['/upay/v2/query', 200],
      ['/upay/v2/query', 200],
      ['/upay/v2/revoke', 3_000],
      ['/terminal/checkin', 20_000],
    ]);
  });

  it('timeoutMs overrides every endpoint', async () => {
    const gw = await gateway();
    const t = gw.createTerminal();
    const o = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100 });
    const spy = spyAgent();
    const upay = client(gw, { dispatcher: spy.agent, timeouts: { query: 5_000 }, timeoutMs: 250 });
    gw.inject('revoke', { kind: 'hang' });
    expect(await upay.revoke(signer(t), { sn: o.sn })).toMatchObject({ ok: false, kind: 'maybe_sent', reason: 'timeout' });
    await upay.query(signer(t), { sn: o.sn });
    expect(spy.dispatched.map((d) => d.headersTimeout)).toEqual([250, 250]);
    expect(gw.effects('revoke')).toBe(0);
  });
});

describe('timeout configuration', () => {
  // A missing config value must not turn every call into "maybe sent" (it once built AbortSignal.timeout(NaN)).
  it('an explicitly undefined per-endpoint timeout falls back to the default', async () => {
    const gw = await gateway();
    const t = gw.createTerminal();
    const upay = client(gw, { timeouts: { query: undefined } });
    const r = await upay.query(signer(t), { client_sn: 'X' });
    expect(gw.log()).toHaveLength(1);
    expect(r).toEqual({ ok: true, value: { resultCode: 'FAIL', errorCode: 'UPAY_ORDER_NOT_EXISTS', errorMessage: '订单不存在', order: null } });
  });
});

describe('injectable dispatcher', () => {
  it('requests go through a caller-supplied Agent (custom connect function counts sockets)', async () => {
    const gw = await gateway();
    const t = gw.createTerminal();
    // connections: 1 makes the Agent use one keep-alive Client per origin, so the count is exact.
    const spy = spyAgent({ connections: 1 });
    const upay = client(gw, { dispatcher: spy.agent });
    for (let i = 0; i < 3; i++) expect((await upay.query(signer(t), { client_sn: `N-${i}` })).ok).toBe(true);
    expect(spy.dispatched).toHaveLength(3);
    expect(spy.connections()).toBe(1); // keep-alive: one socket, three requests
    expect(gw.log()).toHaveLength(3);
    // The client does not own an injected dispatcher: close() leaves it usable.
    await upay.close();
    expect(spy.agent.closed).toBe(false);
    const again = client(gw, { dispatcher: spy.agent });
    expect((await again.query(signer(t), { client_sn: 'N-9' })).ok).toBe(true);
    expect(spy.dispatched).toHaveLength(4);
  });

  it('requests go through a ProxyAgent to a loopback CONNECT proxy', async () => {
    const gw = await gateway();
    const t = gw.createTerminal();
    const o = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100 });
    const proxy = await connectProxy();
    const agent = new ProxyAgent({ uri: proxy.url });
    cleanups.push(() => agent.close());
    const upay = client(gw, { dispatcher: agent });
    expect(okValue(await upay.query(signer(t), { sn: o.sn })).order).toEqual(snapshotOf(o));
    expect(okValue(await upay.revoke(signer(t), { sn: o.sn })).resultCode).toBe('CANCEL_SUCCESS');
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`127.0.0.1:${gw.port}`]));
    expect(gw.log().map((e) => e.endpoint)).toEqual(['query', 'revoke']);
  });
});

/** A minimal HTTP CONNECT proxy on 127.0.0.1 that only tunnels to 127.0.0.1. */
async function connectProxy(): Promise<{ url: string; tunnels: string[] }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    const target = req.url ?? '';
    const m = /^127\.0\.0\.1:(\d+)$/.exec(target);
    if (!m) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    tunnels.push(target);
    const upstream = netConnect(Number(m[1]), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, tunnels };
}

// Compile-time: no method's result is `any`.
expectTypeOf<ReturnType<UpayClient['revoke']>>().toEqualTypeOf<Promise<CallResult<OrderResult>>>();
expectTypeOf<ReturnType<UpayClient['checkin']>>().toEqualTypeOf<Promise<CallResult<TerminalCredentials>>>();
expectTypeOf<Endpoint>().toEqualTypeOf<'activate' | 'checkin' | 'query' | 'revoke' | 'cancel' | 'refund' | 'pay' | 'precreate'>();
