/**
 * How the Upay client reads odd gateway answers. A tiny node:http server on
 * 127.0.0.1:0 answers each call with a canned status, content type and body;
 * the client must turn every one into a typed CallResult (exact shapes,
 * toStrictEqual), never throw, and keep unknown codes verbatim. Also checks
 * what the client puts on the wire (path, headers, signature over the exact bytes).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { interpretBody, UpayClient, type Signer } from '../../main/upay/client';
import type { CallResult, OrderResult, OrderSnapshot, TerminalCredentials } from '../../main/upay/result';
import { sign } from '../../main/upay/sign';

interface Canned {
  status: number;
  type: string;
  body: string;
}

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let upay: UpayClient;
let next: Canned = { status: 200, type: 'application/json', body: '{}' };
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const body = Buffer.from(next.body, 'utf8');
      res.writeHead(next.status, { 'content-type': next.type, 'content-length': body.length });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  upay = new UpayClient({ apiDomain: `http://127.0.0.1:${port}`, timeoutMs: 5_000 });
});

afterAll(async () => {
  await upay.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
});

// The official docs' example key and terminal (protocol notes §1).
const ME: Signer = { sn: '10298371039', key: '68d499beda5f72116592f5c527465656' };
const SN = '7894259244061958';

const WIRE_ORDER = {
  terminal_sn: '10298371039',
  sn: SN,
  client_sn: 'MEX202605220001',
  trade_no: '4200001234202605221234567890',
  status: 'SUCCESS',
  order_status: 'CANCELED',
  payway: '3',
  payway_name: '微信',
  sub_payway: '1',
  total_amount: '2580',
  net_amount: '0',
  subject: '披萨',
  finish_time: '1779415200000',
  channel_finish_time: '1779415200123',
  operator: '张三',
};

const SNAPSHOT: OrderSnapshot = {
  terminalSn: '10298371039',
  sn: SN,
  clientSn: 'MEX202605220001',
  tradeNo: '4200001234202605221234567890',
  status: 'SUCCESS',
  orderStatus: 'CANCELED',
  payway: '3',
  paywayName: '微信',
  totalAmount: '2580',
  netAmount: '0',
  subject: '披萨',
  finishTime: '1779415200000',
  channelFinishTime: '1779415200123',
  operator: '张三',
  ctime: null,
  subPayway: '1',
  clientTsn: null,
  payerUid: null,
  payerLogin: null,
  storeId: null,
  reflect: null,
  paymentList: null,
};

const json = (value: unknown, status = 200): Canned => ({ status, type: 'application/json;charset=UTF-8', body: JSON.stringify(value) });
const ok200 = (biz: unknown, status = 200): Canned => json({ result_code: '200', biz_response: biz }, status);

async function revokeWith(answer: Canned): Promise<CallResult<OrderResult>> {
  next = answer;
  const r = await upay.revoke(ME, { sn: SN });
  expect(seen).toHaveLength(1);
  return r;
}

async function checkinWith(answer: Canned): Promise<CallResult<TerminalCredentials>> {
  next = answer;
  return upay.checkin(ME, { device_id: 'POS-01' });
}

const malformed = (httpStatus: number, message: string) => ({ ok: false, kind: 'maybe_sent', reason: 'malformed', httpStatus, message });
const notEnvelope = malformed(200, 'the answer is not a Upay envelope');
const badBiz = malformed(200, 'biz_response is missing or malformed');

describe('what goes on the wire', () => {
  it('POSTs JSON to the endpoint path, signed over exactly the bytes sent', async () => {
    next = ok200({ result_code: 'FAIL', error_code: 'UPAY_ORDER_NOT_EXISTS', error_message: '订单不存在' });
    await upay.query(ME, { client_sn: 'MEX202605220001' });
    const req = seen[0];
    expect(req).toBeDefined();
    if (!req) return;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/upay/v2/query');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toStrictEqual({ client_sn: 'MEX202605220001', terminal_sn: '10298371039' });
    expect(req.headers.authorization).toBe(`10298371039 ${sign(req.body, ME.key)}`);
    // With the fields in the docs' order, the docs' test vector comes out.
    expect(sign('{"terminal_sn":"10298371039","client_sn":"MEX202605220001"}', ME.key)).toBe('6f019623b51f46d9ece0c3404643a3b8');
  });

  it('signs UTF-8 bytes (Chinese text) and sends only the fields it validated; an unknown field is refused, not dropped', async () => {
    next = ok200({ result_code: 'PAY_SUCCESS', data: WIRE_ORDER });
    const base = { client_sn: 'MEX1', total_amount: '2580', dynamic_id: '134567890123456789', subject: '披萨', operator: '张三' };
    const junk = await upay.pay(ME, { ...base, junk: 'x' } as Parameters<UpayClient['pay']>[1]);
    expect(junk).toMatchObject({ ok: false, kind: 'invalid_request' });
    expect(seen).toHaveLength(0);
    await upay.pay(ME, base);
    const req = seen[0];
    if (!req) throw new Error('nothing sent');
    expect(JSON.parse(req.body)).toStrictEqual({ terminal_sn: '10298371039', client_sn: 'MEX1', total_amount: '2580', dynamic_id: '134567890123456789', subject: '披萨', operator: '张三' });
    expect(req.headers.authorization).toBe(`10298371039 ${sign(Buffer.from(req.body, 'utf8'), ME.key)}`);
  });
});

describe('answers that are not a Upay envelope', () => {
  const cases: [string, Canned, unknown][] = [
    ['plain text at HTTP 200', { status: 200, type: 'text/plain', body: 'OK' }, malformed(200, 'HTTP 200: the answer is not JSON')],
    ['empty body at HTTP 200', { status: 200, type: 'application/json', body: '' }, malformed(200, 'HTTP 200: the answer is not JSON')],
    ['truncated JSON', { status: 200, type: 'application/json', body: '{"result_code":"200","biz_res' }, malformed(200, 'HTTP 200: the answer is not JSON')],
    ['HTML at HTTP 502', { status: 502, type: 'text/html', body: '<html><body>502 Bad Gateway</body></html>' }, { ok: false, kind: 'maybe_sent', reason: 'http_status', httpStatus: 502, message: 'HTTP 502 without a JSON body' }],
    ['HTML at HTTP 404', { status: 404, type: 'text/html', body: '<html>Not Found</html>' }, malformed(404, 'HTTP 404: the answer is not JSON')],
    ['a JSON array', json([{ result_code: '200', biz_response: { result_code: 'CANCEL_SUCCESS' } }]), notEnvelope],
    ['JSON null', json(null), notEnvelope],
    ['a JSON string', json('200'), notEnvelope],
    ['a JSON number', json(200), notEnvelope],
    ['an envelope without result_code', json({ biz_response: { result_code: 'CANCEL_SUCCESS', data: WIRE_ORDER } }), notEnvelope],
    ['result_code as a number', json({ result_code: 200, biz_response: { result_code: 'CANCEL_SUCCESS' } }), notEnvelope],
    ['result_code ""', json({ result_code: '', biz_response: { result_code: 'CANCEL_SUCCESS' } }), notEnvelope],
    ['error_code as a number', json({ result_code: '400', error_code: 400 }), notEnvelope],
    ['non-envelope JSON at HTTP 500', json({ error: 'internal' }, 500), { ok: false, kind: 'maybe_sent', reason: 'http_status', httpStatus: 500, message: 'HTTP 500 without a Upay envelope' }],
  ];
  it.each(cases)('%s → maybe_sent', async (_name, answer, expected) => {
    expect(await revokeWith(answer)).toStrictEqual(expected);
  });
});

describe('top-level error envelopes, whatever the HTTP status', () => {
  const cases: [string, Canned, unknown][] = [
    ['400 with HTTP 400', json({ result_code: '400', error_code: 'INVALID_PARAMS', error_message: '参数错误' }, 400), { ok: false, kind: 'envelope', resultCode: '400', errorCode: 'INVALID_PARAMS', errorMessage: '参数错误' }],
    ['500 with HTTP 500', json({ result_code: '500', error_code: 'UNKNOWN_SYSTEM_ERROR', error_message: '系统错误' }, 500), { ok: false, kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR', errorMessage: '系统错误' }],
    ['400 ILLEGAL_SIGN with HTTP 200', json({ result_code: '400', error_code: 'ILLEGAL_SIGN', error_message: '签名错误' }), { ok: false, kind: 'envelope', resultCode: '400', errorCode: 'ILLEGAL_SIGN', errorMessage: '签名错误' }],
    ['500 MAINTENANCE_INPROGRESS with HTTP 503', json({ result_code: '500', error_code: 'MAINTENANCE_INPROGRESS', error_message: '系统维护中' }, 503), { ok: false, kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS', errorMessage: '系统维护中' }],
    ['the other spelling INVALID_PARAMETER', json({ result_code: '400', error_code: 'INVALID_PARAMETER', error_message: '' }), { ok: false, kind: 'envelope', resultCode: '400', errorCode: 'INVALID_PARAMETER', errorMessage: null }],
    ['"" code and message read as absent', json({ result_code: '400', error_code: '', error_message: '' }), { ok: false, kind: 'envelope', resultCode: '400', errorCode: 'UNKNOWN', errorMessage: null }],
    ['null code and message read as absent', json({ result_code: '500', error_code: null, error_message: null }, 500), { ok: false, kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN', errorMessage: null }],
    ['unknown result and error codes kept verbatim', json({ result_code: '429', error_code: 'RATE_LIMITED', error_message: '请求过于频繁' }), { ok: false, kind: 'envelope', resultCode: '429', errorCode: 'RATE_LIMITED', errorMessage: '请求过于频繁' }],
    ['a stray biz_response beside a 400 is ignored', json({ result_code: '400', error_code: 'INVALID_TERMINAL', error_message: '终端无效', biz_response: { result_code: 'CANCEL_SUCCESS' } }), { ok: false, kind: 'envelope', resultCode: '400', errorCode: 'INVALID_TERMINAL', errorMessage: '终端无效' }],
  ];
  it.each(cases)('%s → envelope', async (_name, answer, expected) => {
    expect(await revokeWith(answer)).toStrictEqual(expected);
  });
});

describe('result_code 200 with a missing or malformed biz_response', () => {
  const cases: [string, Canned][] = [
    ['no biz_response', json({ result_code: '200' })],
    ['biz_response null', json({ result_code: '200', biz_response: null })],
    ['biz_response a string', ok200('CANCEL_SUCCESS')],
    ['biz_response an array', ok200([{ result_code: 'CANCEL_SUCCESS' }])],
    ['biz result_code missing', ok200({ error_code: 'X', data: WIRE_ORDER })],
    ['biz result_code ""', ok200({ result_code: '', data: WIRE_ORDER })],
    ['biz result_code a number', ok200({ result_code: 200, data: WIRE_ORDER })],
    ['a number where a string is expected (data.total_amount)', ok200({ result_code: 'CANCEL_SUCCESS', data: { ...WIRE_ORDER, total_amount: 2580 } })],
    ['a number where a string is expected (flat sn)', ok200({ result_code: 'CANCEL_SUCCESS', ...WIRE_ORDER, sn: 7894259244061958 })],
    ['error_code an object', ok200({ result_code: 'FAIL', error_code: { code: 'X' } })],
    ['data an array', ok200({ result_code: 'CANCEL_SUCCESS', data: [WIRE_ORDER] })],
    ['data a number', ok200({ result_code: 'CANCEL_SUCCESS', data: 1 })],
  ];
  it.each(cases)('%s → maybe_sent/malformed', async (_name, answer) => {
    expect(await revokeWith(answer)).toStrictEqual(badBiz);
  });

  it('the same at HTTP 500 keeps the status', async () => {
    expect(await revokeWith(json({ result_code: '200' }, 500))).toStrictEqual(malformed(500, 'biz_response is missing or malformed'));
  });
});

describe('order answers', () => {
  const success = (order: OrderSnapshot | null, resultCode = 'CANCEL_SUCCESS') => ({ ok: true, value: { resultCode, errorCode: null, errorMessage: null, order } });

  it('order under data and order flat in biz_response read the same', async () => {
    const nested = await revokeWith(ok200({ result_code: 'CANCEL_SUCCESS', data: WIRE_ORDER }));
    seen.length = 0;
    const flat = await revokeWith(ok200({ result_code: 'CANCEL_SUCCESS', ...WIRE_ORDER }));
    expect(nested).toStrictEqual(success(SNAPSHOT));
    expect(flat).toStrictEqual(nested);
  });

  it('"" fields read as absent: error_code "" on success → null, empty order fields → null', async () => {
    const r = await revokeWith(ok200({ result_code: 'CANCEL_SUCCESS', error_code: '', error_message: '', data: { ...WIRE_ORDER, trade_no: '', payway_name: '', channel_finish_time: '' } }));
    expect(r).toStrictEqual(success({ ...SNAPSHOT, tradeNo: null, paywayName: null, channelFinishTime: null }));
  });

  it('null fields read as absent too', async () => {
    const r = await revokeWith(ok200({ result_code: 'CANCEL_SUCCESS', error_code: null, data: { ...WIRE_ORDER, operator: null } }));
    expect(r).toStrictEqual(success({ ...SNAPSHOT, operator: null }));
  });

  it('data null with nothing flat → order null; data null or "" with flat fields → the flat order', async () => {
    expect(await revokeWith(ok200({ result_code: 'CANCEL_ERROR', error_code: 'UPAY_TCP_ORDER_NOT_REFUNDABLE', error_message: `订单${SN}参与了活动并且无法撤销`, data: null }))).toStrictEqual({
      ok: true,
      value: { resultCode: 'CANCEL_ERROR', errorCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE', errorMessage: `订单${SN}参与了活动并且无法撤销`, order: null },
    });
    seen.length = 0;
    expect(await revokeWith(ok200({ result_code: 'CANCEL_SUCCESS', ...WIRE_ORDER, data: null }))).toStrictEqual(success(SNAPSHOT));
    seen.length = 0;
    expect(await revokeWith(ok200({ result_code: 'CANCEL_SUCCESS', ...WIRE_ORDER, data: '' }))).toStrictEqual(success(SNAPSHOT));
  });

  // `data` wins only when it carries an order; an empty one beside flat fields must not hide them.
  it('an empty data object beside flat order fields still yields the flat order', async () => {
    expect(await revokeWith(ok200({ result_code: 'CANCEL_SUCCESS', ...WIRE_ORDER, data: {} }))).toStrictEqual(success(SNAPSHOT));
  });

  it('a partial order (only an order_status) is still an order; every other field null', async () => {
    const r = await revokeWith(ok200({ result_code: 'CANCEL_IN_PROGRESS', data: { order_status: 'CANCEL_INPROGRESS' } }));
    const empty = Object.fromEntries(Object.keys(SNAPSHOT).map((k) => [k, null])) as unknown as OrderSnapshot;
    expect(r).toStrictEqual(success({ ...empty, orderStatus: 'CANCEL_INPROGRESS' }, 'CANCEL_IN_PROGRESS'));
  });

  it('unknown biz result codes, error codes and order statuses are kept verbatim', async () => {
    const r = await revokeWith(ok200({ result_code: 'CANCEL_PENDING_REVIEW', error_code: 'UPAY_SOMETHING_NEW', error_message: '新的错误', data: { ...WIRE_ORDER, order_status: 'FROZEN', status: 'FAIL_PROTOCOL_9', payway: '999' } }));
    expect(r).toStrictEqual({
      ok: true,
      value: { resultCode: 'CANCEL_PENDING_REVIEW', errorCode: 'UPAY_SOMETHING_NEW', errorMessage: '新的错误', order: { ...SNAPSHOT, orderStatus: 'FROZEN', status: 'FAIL_PROTOCOL_9', payway: '999' } },
    });
  });

  it('unknown extra fields (anywhere) do not leak into the result', async () => {
    const r = await revokeWith({ ...json({ result_code: '200', trace_id: 'abc', biz_response: { result_code: 'CANCEL_SUCCESS', extra: { a: 1 }, data: { ...WIRE_ORDER, refund_amount: '1', reflect: [1, 2], sub_payway: '2' } } }) });
    expect(r).toStrictEqual(success({ ...SNAPSHOT, reflect: '[1,2]', subPayway: '2' }));
  });

  it('the seed example of the protocol notes', async () => {
    const r = await revokeWith({
      status: 200,
      type: 'application/json',
      body: '{"result_code": "200", "biz_response": {"result_code": "CANCEL_ERROR", "error_code": "UPAY_TCP_ORDER_NOT_REFUNDABLE", "error_message": "订单7894259244061958参与了活动并且无法撤销"}}',
    });
    expect(r).toStrictEqual({
      ok: true,
      value: { resultCode: 'CANCEL_ERROR', errorCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE', errorMessage: '订单7894259244061958参与了活动并且无法撤销', order: null },
    });
  });

  it('query, cancel, refund and pay read answers the same way', async () => {
    next = ok200({ result_code: 'SUCCESS', data: { ...WIRE_ORDER, order_status: 'PAID', net_amount: '2580' } });
    const expected = { ok: true, value: { resultCode: 'SUCCESS', errorCode: null, errorMessage: null, order: { ...SNAPSHOT, orderStatus: 'PAID', netAmount: '2580' } } };
    expect(await upay.query(ME, { sn: SN })).toStrictEqual(expected);
    next = ok200({ result_code: 'FAIL', error_code: 'UPAY_CANCEL_ORDER_NOOP', error_message: `订单${SN}已撤单，无需重复操作` });
    expect(await upay.cancel(ME, { sn: SN })).toStrictEqual({ ok: true, value: { resultCode: 'FAIL', errorCode: 'UPAY_CANCEL_ORDER_NOOP', errorMessage: `订单${SN}已撤单，无需重复操作`, order: null } });
    next = ok200({ result_code: 'REFUND_SUCCESS', data: { ...WIRE_ORDER, order_status: 'PARTIAL_REFUNDED', net_amount: '2000', refund_request_no: 'R1', refund_amount: '580' } });
    expect(await upay.refund(ME, { sn: SN, refund_request_no: 'R1', refund_amount: '580', operator: '张三' })).toStrictEqual({
      ok: true,
      value: { resultCode: 'REFUND_SUCCESS', errorCode: null, errorMessage: null, order: { ...SNAPSHOT, orderStatus: 'PARTIAL_REFUNDED', netAmount: '2000' } },
    });
    next = ok200({ result_code: 'PAY_IN_PROGRESS', data: { ...WIRE_ORDER, order_status: 'CREATED', status: 'IN_PROG', trade_no: '' } });
    expect(await upay.pay(ME, { client_sn: 'MEX1', total_amount: '2580', dynamic_id: '134567890123456789', subject: '披萨', operator: '张三' })).toStrictEqual({
      ok: true,
      value: { resultCode: 'PAY_IN_PROGRESS', errorCode: null, errorMessage: null, order: { ...SNAPSHOT, orderStatus: 'CREATED', status: 'IN_PROG', tradeNo: null } },
    });
    expect(seen.map((s) => s.path)).toEqual(['/upay/v2/query', '/upay/v2/cancel', '/upay/v2/refund', '/upay/v2/pay']);
  });
});

describe('terminal answers (activate / check-in)', () => {
  it('reads the credentials, "" optional fields as null', async () => {
    const r = await checkinWith(ok200({ terminal_sn: '10298371039', terminal_key: 'a'.repeat(32), merchant_sn: '', merchant_name: '', store_sn: null }));
    expect(r).toStrictEqual({
      ok: true,
      value: { terminalSn: '10298371039', terminalKey: 'a'.repeat(32), merchantSn: null, merchantName: null, storeSn: null, storeName: null },
    });
  });

  it('activation answers with merchant and store', async () => {
    next = ok200({ terminal_sn: '10012345678901', terminal_key: 'b'.repeat(32), merchant_sn: '1680001234567', merchant_name: '收钱吧商户', store_sn: '1580001234567', store_name: '一号店', extra: 'x' });
    const r = await upay.activate({ sn: '91801234', key: 'k'.repeat(32) }, { app_id: '2026112600000001', code: '10000001', device_id: 'POS-01' });
    expect(r).toStrictEqual({
      ok: true,
      value: { terminalSn: '10012345678901', terminalKey: 'b'.repeat(32), merchantSn: '1680001234567', merchantName: '收钱吧商户', storeSn: '1580001234567', storeName: '一号店' },
    });
    expect(seen[0]?.path).toBe('/terminal/activate');
    expect(seen[0]?.headers.authorization).toBe(`91801234 ${sign(seen[0]?.body ?? '', 'k'.repeat(32))}`);
  });

  const bad: [string, unknown][] = [
    ['terminal_key missing', { terminal_sn: '10298371039' }],
    ['terminal_key ""', { terminal_sn: '10298371039', terminal_key: '' }],
    ['terminal_key a number', { terminal_sn: '10298371039', terminal_key: 1234 }],
    ['terminal_sn missing', { terminal_key: 'a'.repeat(32) }],
    ['terminal_sn over 32 characters', { terminal_sn: '1'.repeat(33), terminal_key: 'a'.repeat(32) }],
    ['an order answer instead', { result_code: 'SUCCESS', data: WIRE_ORDER }],
  ];
  it.each(bad)('%s → maybe_sent/malformed', async (_name, biz) => {
    expect(await checkinWith(ok200(biz))).toStrictEqual(badBiz);
  });
});

describe('interpretBody directly', () => {
  it('never throws, whatever the input', () => {
    const parse = (b: unknown) => (typeof b === 'object' && b !== null && 'x' in b ? 'parsed' : undefined);
    const inputs: [number, string][] = [
      [200, '{"result_code":"200","biz_response":{"x":1}}'],
      [200, '{"result_code":"200","biz_response":{}}'],
      [0, ''],
      [999, '\u0000\uFFFF'],
      [200, '{"__proto__":{"result_code":"200"}}'],
      [200, '{"result_code":"200","biz_response":{"x":1},"result_code":"500"}'],
    ];
    const results = inputs.map(([status, text]) => interpretBody(status, text, parse));
    expect(results).toStrictEqual([
      { ok: true, value: 'parsed' },
      malformed(200, 'biz_response is missing or malformed'),
      malformed(0, 'HTTP 0: the answer is not JSON'),
      { ok: false, kind: 'maybe_sent', reason: 'http_status', httpStatus: 999, message: 'HTTP 999 without a JSON body' },
      notEnvelope,
      { ok: false, kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN', errorMessage: null },
    ]);
  });
});

// Compile-time: the results are typed all the way down, no `any`.
expectTypeOf<Awaited<ReturnType<UpayClient['query']>>>().toEqualTypeOf<CallResult<OrderResult>>();
expectTypeOf<Awaited<ReturnType<UpayClient['activate']>>>().toEqualTypeOf<CallResult<TerminalCredentials>>();
expectTypeOf<OrderResult['order']>().toEqualTypeOf<OrderSnapshot | null>();
expectTypeOf<OrderResult['resultCode']>().not.toBeAny();
expectTypeOf<ReturnType<typeof interpretBody<number>>>().toEqualTypeOf<CallResult<number>>();
