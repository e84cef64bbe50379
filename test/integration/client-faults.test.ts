/**
 * The client's typed outcome for every sandbox fault, over real loopback HTTP
 * (table-driven), with the sandbox's effect ledger and a follow-up query
 * confirming whether the request was applied: "not_sent" means certainly not
 * applied, "maybe_sent" means it may have been, and only a query decides.
 * Also: a closed port (refused), name resolution failure and connect timeout
 * (through an injected Agent whose lookup never leaves the process, and as
 * synthetic errors), and the transport-error classification table.
 */
import { createServer } from 'node:net';
import { Agent } from 'undici';
import { describe, expect, it, type TestContext } from 'vitest';
import { createSandboxGateway, type Fault, type SandboxEndpoint, type SandboxGateway, type SandboxOrder, type SandboxTerminal } from '../../main/sandbox/gateway';
import { transportFailure, UpayClient, type Signer, type UpayClientOptions } from '../../main/upay/client';
import type { CallFailure, CallResult, OrderResult } from '../../main/upay/result';
import { businessDayStart, ManualClock } from '../../main/common/time';

/** 2026-05-22 10:00 in UTC+8. */
const MORNING = businessDayStart('2026-05-22') + 10 * 60 * 60 * 1000;
const BARCODE = '134567890123456789';

interface Ctx {
  gw: SandboxGateway;
  upay: UpayClient;
  me: Signer;
  order: SandboxOrder;
}

async function setup(ctx: TestContext, clientOptions: Omit<UpayClientOptions, 'apiDomain'> = {}): Promise<Ctx> {
  const gw = await createSandboxGateway({ clock: new ManualClock(MORNING), seed: 11 });
  const upay = new UpayClient({ apiDomain: gw.url, ...clientOptions });
  ctx.onTestFinished(async () => {
    await upay.close();
    await gw.close();
  });
  const t: SandboxTerminal = gw.createTerminal('POS-01');
  const order = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 2580, clientSn: 'ORDER-1' });
  return { gw, upay, me: { sn: t.terminalSn, key: t.terminalKey }, order };
}

const reset = { ok: false, kind: 'maybe_sent', reason: 'reset', message: expect.stringMatching(/^the connection broke before the answer was complete \(.+\)$/) };
const timeout = { ok: false, kind: 'maybe_sent', reason: 'timeout', message: 'the gateway did not answer in time' };

interface Row {
  name: string;
  endpoint: SandboxEndpoint;
  fault: Fault;
  client?: Omit<UpayClientOptions, 'apiDomain'>;
  /** Exact expected CallResult (toEqual), given the seeded order. */
  expected: (o: SandboxOrder) => CallResult<unknown> | Record<string, unknown>;
  /** Effects the gateway applied for the seeded order on `endpoint`. */
  effects: 0 | 1;
  /** order_status a follow-up query reports (the truth), or 'absent' for a pay that never created the order. */
  after: string;
}

/** Sends the row's request: revoke/cancel/refund of the seeded order, or a new pay. */
function send(c: Ctx, endpoint: SandboxEndpoint): Promise<CallResult<unknown>> {
  switch (endpoint) {
    case 'revoke':
      return c.upay.revoke(c.me, { sn: c.order.sn });
    case 'cancel':
      return c.upay.cancel(c.me, { client_sn: c.order.clientSn });
    case 'refund':
      return c.upay.refund(c.me, { sn: c.order.sn, refund_request_no: 'RF-1', refund_amount: '580', operator: '张三' });
    case 'pay':
      return c.upay.pay(c.me, { client_sn: 'NEW-1', total_amount: '990', dynamic_id: BARCODE, subject: '面包', operator: '张三' });
    case 'checkin':
      return c.upay.checkin(c.me, { device_id: 'POS-01' });
    default:
      throw new Error(`no sender for ${endpoint}`);
  }
}

const revokeOk = (resultCode: string, orderStatus: string, extra: Record<string, unknown> = {}) => (o: SandboxOrder) => ({
  ok: true,
  value: {
    resultCode,
    errorCode: null,
    errorMessage: null,
    order: expect.objectContaining({ sn: o.sn, clientSn: o.clientSn, orderStatus, totalAmount: '2580', ...extra }),
  },
});

const rows: Row[] = [
  // delay: applied at once; the answer comes late.
  { name: 'delay 1.5 s > timeoutMs 200 → maybe_sent/timeout, applied', endpoint: 'revoke', fault: { kind: 'delay', ms: 1_500 }, client: { timeoutMs: 200 }, expected: () => timeout, effects: 1, after: 'CANCELED' },
  { name: 'delay 100 ms < timeoutMs 3 s → ok', endpoint: 'revoke', fault: { kind: 'delay', ms: 100 }, client: { timeoutMs: 3_000 }, expected: revokeOk('CANCEL_SUCCESS', 'CANCELED', { netAmount: '0' }), effects: 1, after: 'CANCELED' },
  // Connection faults: indistinguishable on the client side, so both are "maybe sent".
  { name: 'drop_before → maybe_sent/reset, not applied', endpoint: 'revoke', fault: { kind: 'drop_before' }, expected: () => reset, effects: 0, after: 'PAID' },
  { name: 'drop_after → maybe_sent/reset, applied', endpoint: 'revoke', fault: { kind: 'drop_after' }, expected: () => reset, effects: 1, after: 'CANCELED' },
  { name: 'hang with timeoutMs 300 → maybe_sent/timeout, not applied', endpoint: 'revoke', fault: { kind: 'hang' }, client: { timeoutMs: 300 }, expected: () => timeout, effects: 0, after: 'PAID' },
  { name: 'reset_mid_body → maybe_sent/reset, applied', endpoint: 'revoke', fault: { kind: 'reset_mid_body' }, expected: () => reset, effects: 1, after: 'CANCELED' },
  {
    name: 'http500_html → maybe_sent/http_status 500, not applied',
    endpoint: 'revoke',
    fault: { kind: 'http500_html' },
    expected: () => ({ ok: false, kind: 'maybe_sent', reason: 'http_status', httpStatus: 500, message: 'HTTP 500 without a JSON body' }),
    effects: 0,
    after: 'PAID',
  },
  {
    name: 'malformed_json → maybe_sent/malformed, applied',
    endpoint: 'revoke',
    fault: { kind: 'malformed_json' },
    expected: () => ({ ok: false, kind: 'maybe_sent', reason: 'malformed', httpStatus: 200, message: 'HTTP 200: the answer is not JSON' }),
    effects: 1,
    after: 'CANCELED',
  },
  // Business faults of a void: ok results, code verbatim; the query decides.
  {
    name: 'cancel_in_progress → ok CANCEL_IN_PROGRESS with the order CANCEL_INPROGRESS',
    endpoint: 'revoke',
    fault: { kind: 'cancel_in_progress', queries: 1 },
    expected: revokeOk('CANCEL_IN_PROGRESS', 'CANCEL_INPROGRESS', { status: 'IN_PROG' }),
    effects: 1,
    after: 'CANCEL_INPROGRESS',
  },
  {
    name: 'cancel_error_no_code (canceled) → ok CANCEL_ERROR, errorCode null, applied',
    endpoint: 'revoke',
    fault: { kind: 'cancel_error_no_code', outcome: 'canceled' },
    expected: () => ({ ok: true, value: { resultCode: 'CANCEL_ERROR', errorCode: null, errorMessage: '撤单失败，请查询订单状态', order: null } }),
    effects: 1,
    after: 'CANCELED',
  },
  {
    name: 'cancel_error_no_code (untouched) → ok CANCEL_ERROR, errorCode null, not applied',
    endpoint: 'revoke',
    fault: { kind: 'cancel_error_no_code', outcome: 'untouched' },
    expected: () => ({ ok: true, value: { resultCode: 'CANCEL_ERROR', errorCode: null, errorMessage: '撤单失败，请查询订单状态', order: null } }),
    effects: 0,
    after: 'PAID',
  },
  // Top-level envelopes: nothing applied.
  {
    name: 'envelope 500 UNKNOWN_SYSTEM_ERROR → envelope',
    endpoint: 'revoke',
    fault: { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' },
    expected: () => ({ ok: false, kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR', errorMessage: '系统错误' }),
    effects: 0,
    after: 'PAID',
  },
  {
    name: 'envelope 500 MAINTENANCE_INPROGRESS → envelope',
    endpoint: 'revoke',
    fault: { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' },
    expected: () => ({ ok: false, kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS', errorMessage: '系统维护中，请稍后再试' }),
    effects: 0,
    after: 'PAID',
  },
  {
    name: 'envelope 400 ILLEGAL_SIGN → envelope',
    endpoint: 'revoke',
    fault: { kind: 'envelope', resultCode: '400', errorCode: 'ILLEGAL_SIGN', errorMessage: '签名错误' },
    expected: () => ({ ok: false, kind: 'envelope', resultCode: '400', errorCode: 'ILLEGAL_SIGN', errorMessage: '签名错误' }),
    effects: 0,
    after: 'PAID',
  },
  // The same classification on the other money endpoints.
  { name: 'cancel with malformed_json → maybe_sent/malformed, applied', endpoint: 'cancel', fault: { kind: 'malformed_json' }, expected: () => ({ ok: false, kind: 'maybe_sent', reason: 'malformed', httpStatus: 200, message: 'HTTP 200: the answer is not JSON' }), effects: 1, after: 'CANCELED' },
  { name: 'cancel with cancel_in_progress → ok CANCEL_IN_PROGRESS', endpoint: 'cancel', fault: { kind: 'cancel_in_progress', queries: 0 }, expected: revokeOk('CANCEL_IN_PROGRESS', 'CANCEL_INPROGRESS'), effects: 1, after: 'CANCELED' },
  { name: 'refund with reset_mid_body → maybe_sent/reset, applied', endpoint: 'refund', fault: { kind: 'reset_mid_body' }, expected: () => reset, effects: 1, after: 'PARTIAL_REFUNDED' },
  { name: 'refund with hang (timeoutMs 300) → maybe_sent/timeout, not applied', endpoint: 'refund', fault: { kind: 'hang' }, client: { timeoutMs: 300 }, expected: () => timeout, effects: 0, after: 'PAID' },
  { name: 'pay with drop_after → maybe_sent/reset, order created', endpoint: 'pay', fault: { kind: 'drop_after' }, expected: () => reset, effects: 1, after: 'PAID' },
  { name: 'pay with drop_before → maybe_sent/reset, no order', endpoint: 'pay', fault: { kind: 'drop_before' }, expected: () => reset, effects: 0, after: 'absent' },
  {
    name: 'pay with envelope 500 MAINTENANCE_INPROGRESS → envelope, no order',
    endpoint: 'pay',
    fault: { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' },
    expected: () => ({ ok: false, kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS', errorMessage: '系统维护中，请稍后再试' }),
    effects: 0,
    after: 'absent',
  },
];

describe.concurrent('fault matrix against the sandbox', () => {
  it.for(rows)('$name', async (row, ctx) => {
    const c = await setup(ctx, row.client);
    c.gw.inject(row.endpoint, row.fault);
    const started = Date.now();
    const result = await send(c, row.endpoint);
    ctx.expect(result).toEqual(row.expected(c.order));
    ctx.expect(Date.now() - started).toBeLessThan(3_000);
    ctx.expect(c.gw.pendingFaults()).toEqual([]);

    // The effect ledger says whether the gateway applied it...
    const ref = row.endpoint === 'pay' ? 'NEW-1' : c.order.sn;
    ctx.expect(c.gw.effects(row.endpoint, ref)).toBe(row.effects);
    ctx.expect(c.gw.effects('*')).toBe(row.effects);
    // ...and the client's own query (the truth) agrees.
    const q = await c.upay.query(c.me, { client_sn: row.endpoint === 'pay' ? 'NEW-1' : c.order.clientSn });
    if (!q.ok) throw new Error(`query failed: ${JSON.stringify(q)}`);
    if (row.after === 'absent') ctx.expect(q.value).toEqual({ resultCode: 'FAIL', errorCode: 'UPAY_ORDER_NOT_EXISTS', errorMessage: '订单不存在', order: null });
    else ctx.expect(q.value.order?.orderStatus).toBe(row.after);
  });
});

describe('recovery after uncertain outcomes', () => {
  it('cancel_in_progress: queries move the order to CANCELED after K polls', async (ctx) => {
    const c = await setup(ctx);
    c.gw.inject('revoke', { kind: 'cancel_in_progress', queries: 2 });
    const r = await c.upay.revoke(c.me, { sn: c.order.sn });
    expect(r.ok && r.value.resultCode).toBe('CANCEL_IN_PROGRESS');
    const statuses: (string | null | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const q: CallResult<OrderResult> = await c.upay.query(c.me, { sn: c.order.sn });
      statuses.push(q.ok ? q.value.order?.orderStatus : q.kind);
    }
    expect(statuses).toEqual(['CANCEL_INPROGRESS', 'CANCEL_INPROGRESS', 'CANCELED']);
    // A second revoke while in progress is refused verbatim, nothing applied twice.
    expect(c.gw.effects('revoke', c.order.sn) + c.gw.effects('cancel', c.order.sn)).toBe(1);
  });

  it('refund whose answer was lost: the retry with the same refund_request_no applies nothing more', async (ctx) => {
    const c = await setup(ctx);
    c.gw.inject('refund', { kind: 'drop_after' });
    expect(await c.upay.refund(c.me, { sn: c.order.sn, refund_request_no: 'RF-9', refund_amount: '580', operator: '张三' })).toEqual(reset);
    const retry = await c.upay.refund(c.me, { sn: c.order.sn, refund_request_no: 'RF-9', refund_amount: '580', operator: '张三' });
    expect(retry).toMatchObject({ ok: true, value: { resultCode: 'FAIL', errorCode: 'UPAY_REFUND_ORDER_NOOP' } });
    expect(c.gw.getOrder(c.order.sn)).toMatchObject({ orderStatus: 'PARTIAL_REFUNDED', netCents: 2000 });
    expect(c.gw.effects('refund', c.order.sn)).toBe(1);
  });

  it('check-in whose answer was lost: the key rotated, and a retry with the old key still works', async (ctx) => {
    const c = await setup(ctx);
    c.gw.inject('checkin', { kind: 'drop_after' });
    expect(await c.upay.checkin(c.me, { device_id: 'POS-01' })).toEqual(reset);
    expect(c.gw.effects('checkin', c.me.sn)).toBe(1);
    expect(c.gw.terminal(c.me.sn)?.terminalKey).not.toBe(c.me.key);
    const retry = await c.upay.checkin(c.me, { device_id: 'POS-01' });
    if (!retry.ok) throw new Error(JSON.stringify(retry));
    expect(retry.value.terminalKey).toBe(c.gw.terminal(c.me.sn)?.terminalKey);
    expect((await c.upay.query({ sn: c.me.sn, key: retry.value.terminalKey }, { sn: c.order.sn })).ok).toBe(true);
  });
});

describe('not sent: the connection never existed', () => {
  it('closed port → not_sent/refused; nothing reached the gateway', async () => {
    const gw = await createSandboxGateway({ clock: new ManualClock(MORNING) });
    const t = gw.createTerminal();
    const o = gw.seedOrder({ terminalSn: t.terminalSn, totalCents: 100 });
    const url = gw.url;
    await gw.close(); // the port is now closed
    const upay = new UpayClient({ apiDomain: url });
    try {
      expect(await upay.revoke({ sn: t.terminalSn, key: t.terminalKey }, { sn: o.sn })).toEqual({
        ok: false,
        kind: 'not_sent',
        reason: 'refused',
        message: 'the gateway refused the connection',
      });
    } finally {
      await upay.close();
    }
    expect(gw.log()).toEqual([]);
    expect(gw.effects('*')).toBe(0);
    expect(gw.getOrder(o.sn)?.orderStatus).toBe('PAID');
  });

  it('closed port of a plain server (listen, note the port, close) → not_sent/refused', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const upay = new UpayClient({ apiDomain: `http://127.0.0.1:${address.port}` });
    try {
      expect(await upay.query({ sn: '10012345678901', key: 'k' }, { client_sn: 'X' })).toMatchObject({ ok: false, kind: 'not_sent', reason: 'refused' });
    } finally {
      await upay.close();
    }
  });

  // A real lookup of a `.invalid` name would go to this machine's non-loopback
  // nameserver, so name resolution is failed inside the process: the injected
  // Agent's lookup answers ENOTFOUND (or never answers) without any traffic.
  it('host name that does not resolve → not_sent/dns (injected lookup, no DNS traffic)', async () => {
    const gw = await createSandboxGateway();
    const lookups: string[] = [];
    const agent = new Agent({
      connect: {
        lookup: (hostname, _options, callback) => {
          lookups.push(hostname);
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
          process.nextTick(() => callback(err, '', 4));
        },
      },
    });
    const upay = new UpayClient({ apiDomain: `https://upay.invalid:${gw.port}`, dispatcher: agent });
    try {
      expect(await upay.query({ sn: '10012345678901', key: 'k' }, { client_sn: 'X' })).toEqual({
        ok: false,
        kind: 'not_sent',
        reason: 'dns',
        message: 'the gateway host name could not be resolved',
      });
      expect(lookups).toEqual(['upay.invalid']);
      expect(gw.log()).toEqual([]);
    } finally {
      await upay.close();
      await agent.close();
      await gw.close();
    }
  });

  it('connect that never completes → not_sent/connect_timeout (injected Agent, connect timeout 200 ms)', async () => {
    const agent = new Agent({
      connect: {
        timeout: 200,
        lookup: () => {
          // never answers: the socket never connects
        },
      },
    });
    const upay = new UpayClient({ apiDomain: 'https://upay.invalid:443', dispatcher: agent });
    try {
      const started = Date.now();
      expect(await upay.revoke({ sn: '10012345678901', key: 'k' }, { client_sn: 'X' })).toEqual({
        ok: false,
        kind: 'not_sent',
        reason: 'connect_timeout',
        message: 'the connection to the gateway timed out',
      });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await upay.close();
      await agent.destroy();
    }
  });
});

describe('transportFailure classification (synthetic errors)', () => {
  const cases: [name: string, err: unknown, duringBody: boolean, expected: Partial<CallFailure>][] = [
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), false, { kind: 'not_sent', reason: 'refused' }],
    ['ENOTFOUND (DNS)', Object.assign(new Error('getaddrinfo ENOTFOUND upay.invalid'), { code: 'ENOTFOUND', hostname: 'upay.invalid' }), false, { kind: 'not_sent', reason: 'dns' }],
    ['ENOTFOUND as a cause (fetch-style wrapper)', new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }), false, { kind: 'not_sent', reason: 'dns' }],
    ['EAI_AGAIN (DNS)', { code: 'EAI_AGAIN' }, false, { kind: 'not_sent', reason: 'dns' }],
    ['UND_ERR_CONNECT_TIMEOUT', Object.assign(new Error('Connect Timeout Error'), { name: 'ConnectTimeoutError', code: 'UND_ERR_CONNECT_TIMEOUT' }), false, { kind: 'not_sent', reason: 'connect_timeout' }],
    ['ENETUNREACH', { code: 'ENETUNREACH' }, false, { kind: 'not_sent', reason: 'unreachable' }],
    ['EHOSTUNREACH', { code: 'EHOSTUNREACH' }, false, { kind: 'not_sent', reason: 'unreachable' }],
    ['UND_ERR_HEADERS_TIMEOUT', { name: 'HeadersTimeoutError', code: 'UND_ERR_HEADERS_TIMEOUT' }, false, { kind: 'maybe_sent', reason: 'timeout' }],
    ['UND_ERR_BODY_TIMEOUT during the body', { name: 'BodyTimeoutError', code: 'UND_ERR_BODY_TIMEOUT' }, true, { kind: 'maybe_sent', reason: 'timeout' }],
    ['AbortSignal.timeout reason (TimeoutError)', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), false, { kind: 'maybe_sent', reason: 'timeout' }],
    ['AbortError', new DOMException('This operation was aborted', 'AbortError'), false, { kind: 'maybe_sent', reason: 'aborted' }],
    ['ECONNRESET', { code: 'ECONNRESET' }, false, { kind: 'maybe_sent', reason: 'reset' }],
    ['UND_ERR_SOCKET (other side closed)', { name: 'SocketError', code: 'UND_ERR_SOCKET' }, false, { kind: 'maybe_sent', reason: 'reset' }],
    ['ECONNREFUSED while reading the body is never "not sent"', { code: 'ECONNREFUSED' }, true, { kind: 'maybe_sent', reason: 'reset' }],
    ['a thrown non-object', 'boom', false, { kind: 'maybe_sent', reason: 'reset' }],
  ];
  it.each(cases)('%s', (_name, err, duringBody, expected) => {
    const r = transportFailure(err, duringBody);
    expect(r).toEqual({ ok: false, ...expected, message: expect.any(String) });
  });

  // A dispatcher may reject with anything, even null: the call still ends in a typed result.
  it.each([null, undefined])('a dispatcher rejecting with %s still gives maybe_sent', (err) => {
    expect(transportFailure(err)).toEqual({ ok: false, kind: 'maybe_sent', reason: 'reset', message: expect.any(String) });
  });
});
