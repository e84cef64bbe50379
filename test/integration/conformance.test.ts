/**
 * Conformance with the vendor's documents and the way the vendor's clients
 * write requests. Request fixtures (test/fixtures/conformance/*.json) are
 * written by hand from the documents in the styles of the Python, Java, PHP
 * and C# clients: spaces after separators, `\uXXXX` escapes, escaped slashes,
 * the documents' own multi-line example; signed in upper or lower case; sent
 * byte for byte over a raw socket with `Authorization: sn sign` and
 * `Authorization:sn sign`. The sandbox must accept every one. Answer fixtures
 * (…/answers/*.json) are the documents' answers, parsed by the client.
 */
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxGateway, type SandboxGateway } from '../../main/sandbox/gateway';
import { UpayClient, type Signer } from '../../main/upay/client';
import type { CallResult } from '../../main/upay/result';
import { sign } from '../../main/upay/sign';
import { businessDayStart, ManualClock } from '../../main/common/time';

const DIR = path.join(__dirname, '..', 'fixtures', 'conformance');
const fixture = (name: string): string => fs.readFileSync(path.join(DIR, name), 'utf8');

interface RawAnswer {
  status: number;
  headers: string;
  json: { result_code: string; error_code?: string; biz_response?: Record<string, unknown> & { data?: Record<string, unknown> | null } };
}

/** One HTTP/1.1 request written byte for byte on a socket, as a non-Node client would. */
function rawPost(port: number, urlPath: string, body: Buffer, headerLines: string[]): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      try {
        resolve({ status: Number(head.split(' ')[1]), headers: head, json: JSON.parse(text.slice(split + 4)) as RawAnswer['json'] });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const head = [`POST ${urlPath} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...headerLines, `Content-Length: ${body.length}`, 'Connection: close', '', ''].join('\r\n');
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

type Style = { auth: 'space' | 'no-space'; signCase: 'upper' | 'lower'; type: string };
const PYTHON: Style = { auth: 'space', signCase: 'lower', type: 'application/json' };
const JAVA: Style = { auth: 'no-space', signCase: 'upper', type: 'application/json' };
const PHP: Style = { auth: 'no-space', signCase: 'lower', type: 'application/json;charset=utf-8' };
const CSHARP: Style = { auth: 'space', signCase: 'upper', type: 'application/json; charset=utf-8' };

describe('request fixtures in the vendor clients\' styles, accepted by the sandbox over HTTP', () => {
  const clock = new ManualClock(businessDayStart('2026-05-22') + 10 * 3_600_000);
  let gw: SandboxGateway;
  const vars: Record<string, string> = {};
  let terminal: Signer = { sn: '', key: '' };

  beforeAll(async () => {
    gw = await createSandboxGateway({ clock, strict: true });
    vars.app_id = gw.vendor.appId;
    vars.code = gw.activationCodes()[0]!;
  });
  afterAll(() => gw.close());

  async function send(file: string, urlPath: string, style: Style, signer: Signer): Promise<RawAnswer> {
    const body = Buffer.from(fixture(file).replace(/\{\{(\w+)\}\}/g, (_m, k: string) => vars[k] ?? ''), 'utf8');
    const digest = sign(body, signer.key);
    const signature = style.signCase === 'upper' ? digest.toUpperCase() : digest;
    const auth = style.auth === 'space' ? `Authorization: ${signer.sn} ${signature}` : `Authorization:${signer.sn} ${signature}`;
    const answer = await rawPost(gw.port, urlPath, body, [`Content-Type: ${style.type}`, auth]);
    expect(answer.status).toBe(200);
    expect(answer.json.result_code, JSON.stringify(answer.json)).toBe('200');
    return answer;
  }

  it('01 activate (Python: spaces, \\u escapes), vendor-signed', async () => {
    const r = await send('01-activate.python.json', '/terminal/activate', PYTHON, { sn: gw.vendor.vendorSn, key: gw.vendor.vendorKey });
    const biz = r.json.biz_response!;
    terminal = { sn: String(biz.terminal_sn), key: String(biz.terminal_key) };
    vars.terminal_sn = terminal.sn;
    expect(gw.terminal(terminal.sn)?.deviceId).toBe('POS-CONF-01');
    expect(gw.log().at(-1)?.body).toMatchObject({ name: '一号收银台' });
  });

  it('02 check-in (Java: compact, upper-case signature, Authorization:sn sign)', async () => {
    const r = await send('02-checkin.java.json', '/terminal/checkin', JAVA, terminal);
    terminal = { sn: terminal.sn, key: String(r.json.biz_response!.terminal_key) };
    expect(r.json.biz_response).toMatchObject({ merchant_sn: '', store_name: '' });
  });

  it('03 pay (Python)', async () => {
    const r = await send('03-pay.python.json', '/upay/v2/pay', PYTHON, terminal);
    expect(r.json.biz_response).toMatchObject({ result_code: 'PAY_SUCCESS', data: { subject: '披萨', operator: '张三', order_status: 'PAID' } });
    vars.sn = String(r.json.biz_response!.data!.sn);
  });

  it("04 pay (the documents' own example: tabs, newlines, extended, goods_details with numbers)", async () => {
    const r = await send('04-pay.docs-example.json', '/upay/v2/pay', CSHARP, terminal);
    expect(r.json.biz_response).toMatchObject({ result_code: 'PAY_SUCCESS', data: { payway: '1', reflect: '{"tips": "200"}' } });
  });

  it('05 pay (PHP: escaped slashes, a payway that overrides the barcode)', async () => {
    const r = await send('05-pay.php.json', '/upay/v2/pay', PHP, terminal);
    expect(r.json.biz_response).toMatchObject({ result_code: 'PAY_SUCCESS', data: { payway: '3', payway_name: '微信' } });
    expect(gw.log().at(-1)?.body).toMatchObject({ notify_url: 'https://pos.example/notify' });
  });

  it('06 query by client_sn (Python)', async () => {
    const r = await send('06-query.python.json', '/upay/v2/query', PYTHON, terminal);
    expect(r.json.biz_response).toMatchObject({ result_code: 'SUCCESS', data: { sn: vars.sn, order_status: 'PAID' } });
  });

  it('07 query with an unknown sn and a known client_sn (Java): found by client_sn', async () => {
    const r = await send('07-query-unknown-sn.java.json', '/upay/v2/query', JAVA, terminal);
    expect(r.json.biz_response).toMatchObject({ result_code: 'SUCCESS', data: { client_sn: 'CONF-0002' } });
  });

  it('08 refund (Java) and 09 query with refund_request_no (Python)', async () => {
    clock.advance(60_000);
    const r = await send('08-refund.java.json', '/upay/v2/refund', JAVA, terminal);
    expect(r.json.biz_response).toMatchObject({ result_code: 'REFUND_SUCCESS', data: { order_status: 'PARTIAL_REFUNDED', operator: '退款员', finish_time: String(clock.now()) } });
    const q = await send('09-query-refund.python.json', '/upay/v2/query', PYTHON, terminal);
    expect(q.json.biz_response!.data).toMatchObject({ net_amount: '2480', client_tsn: 'CONF-0001-01' });
  });

  it('10 revoke (Python) is refused for a refunded order; 11 cancel (C#) voids the PHP order', async () => {
    const revoke = await send('10-revoke.python.json', '/upay/v2/revoke', PYTHON, terminal);
    expect(revoke.json.biz_response).toMatchObject({ result_code: 'FAIL', error_code: 'UPAY_CANCEL_INVALID_ORDER_STATE', data: null });
    const cancel = await send('11-cancel.csharp.json', '/upay/v2/cancel', CSHARP, terminal);
    expect(cancel.json.biz_response).toMatchObject({ result_code: 'CANCEL_SUCCESS', data: { order_status: 'CANCELED', net_amount: '0' } });
  });

  it('the sandbox answers with Content-Type application/json', async () => {
    const r = await send('06-query.python.json', '/upay/v2/query', PYTHON, terminal);
    expect(r.headers).toMatch(/\r\ncontent-type: application\/json/i);
  });
});

describe("answer fixtures in the documents' shapes, parsed by the client", () => {
  let server: Server;
  let answer = '';
  let upay: UpayClient;
  const me: Signer = { sn: '10298371039', key: '68d499beda5f72116592f5c527465656' };
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
        res.end(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    upay = new UpayClient({ apiDomain: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` });
  });
  afterAll(async () => {
    await upay.close();
    await new Promise((r) => server.close(r));
  });

  const pay = () => upay.pay(me, { client_sn: 'C1', total_amount: '101', dynamic_id: '134567890123456789', subject: 's', operator: 'o' });
  const rows: Array<[string, () => Promise<CallResult<unknown>>, unknown]> = [
    ['pay-success.json', pay, { ok: true, value: { resultCode: 'PAY_SUCCESS', order: { orderStatus: 'PAID', ctime: '1492506701411', payerUid: 'oSTAxt7Rkjr7Jtk0vtf-cFWiHjcs', payerLogin: 'oyBevtwYm70JVPTFyGlvmKW3IO9U', clientTsn: 'w145206259311176', storeId: '100ed809-af9a-11e5-9ec3-00163e00625b', paymentList: [{ type: 'BANKCARD_DEBIT', amountTotal: '1' }, { type: 'DISCOUNT_CHANNEL_MCH', amountTotal: '100' }] } } }],
    // The documents' example has "total_amount " (with a space): read as absent, the rest kept.
    ['pay-in-progress.json', pay, { ok: true, value: { resultCode: 'PAY_IN_PROGRESS', order: { orderStatus: 'CREATED', status: 'IN_PROG', ctime: '2015-11-01 18:01:00', totalAmount: null, finishTime: null } } }],
    ['pay-fail-expired.json', pay, { ok: true, value: { resultCode: 'PAY_FAIL', errorCode: 'EXPIRED_BARCODE', errorMessage: '过期的支付条码', order: { orderStatus: 'PAY_CANCELED', tradeNo: null } } }],
    ['pay-invalid-params.json', pay, { ok: false, kind: 'envelope', resultCode: '400', errorCode: 'INVALID_PARAMS', errorMessage: 'total_amount金额为整数，长度不超过10位，以分为单位' }],
    ['query-success.json', () => upay.query(me, { sn: '7895259867120667' }), { ok: true, value: { resultCode: 'SUCCESS', order: { sn: '7895259867120667', orderStatus: 'PAID', netAmount: '0', storeId: 'test', finishTime: null, ctime: '1498446309605' } } }],
    ['query-fail-null-data.json', () => upay.query(me, { sn: '1' }), { ok: true, value: { resultCode: 'FAIL', errorCode: 'UPAY_ORDER_NOT_EXISTS', errorMessage: '订单不存在', order: null } }],
    ['refund-success.json', () => upay.refund(me, { sn: '7894259244067218', refund_request_no: '1', refund_amount: '1', operator: 'o' }), { ok: true, value: { resultCode: 'REFUND_SUCCESS', order: { orderStatus: 'REFUNDED', finishTime: '1449563206776', channelFinishTime: '1449563206632' } } }],
    ['refund-fail.json', () => upay.refund(me, { sn: '1', refund_request_no: '1', refund_amount: '1', operator: 'o' }), { ok: true, value: { resultCode: 'FAIL', errorCode: 'UPAY_REFUND_INVALID_ORDER_STATE', order: null } }],
    ['cancel-success.json', () => upay.cancel(me, { sn: '7894259244064831' }), { ok: true, value: { resultCode: 'CANCEL_SUCCESS', order: { orderStatus: 'CANCELED', storeId: '49', netAmount: '0' } } }],
    ['cancel-error.json', () => upay.revoke(me, { sn: '7894259244061958' }), { ok: true, value: { resultCode: 'CANCEL_ERROR', errorCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE', order: null } }],
    ['activate.json', () => upay.activate(me, { app_id: 'a', code: 'c', device_id: 'd' }), { ok: true, value: { terminalSn: '10298371039', merchantSn: null } }],
    ['checkin-empty-merchant.json', () => upay.checkin(me, { device_id: 'd' }), { ok: true, value: { terminalSn: '10298371039', merchantSn: null, merchantName: null, storeSn: null, storeName: null } }],
  ];
  it.each(rows)('%s', async (file, call, expected) => {
    answer = fixture(path.join('answers', file));
    expect(await call()).toMatchObject(expected as object);
  });
});
