/**
 * `upay-pos pay`, `pay query`, `queue list|drain` with payments and `report
 * day --json`, as the contract states them: the built bin in a child
 * process with --json against an in-process sandbox over HTTP (its request
 * log proves that invalid input sends nothing, and counts pay requests and
 * cancels per client_sn).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, cliHarness, closeCliHarness, closedPort, describeRun, oneJson, runCli } from '../support/cli-run';
import type { Harness } from '../support/harness';

let h: Harness;
let home: string;
let g: string[];

beforeAll(async () => {
  ({ h, home, g } = await cliHarness('upay-pos-pay-cli-home-'));
}, 180_000);

afterAll(() => closeCliHarness(h, home));

interface PayDoc {
  outcome: string;
  order: { sn: string; client_sn: string; total_amount: string; order_status: string } | null;
  payment: { id: number; clientSn: string; amountCents: number; state: string; operatorName: string; moneyReturned: boolean };
  qrCode: string | null;
  error: { code: string; message: string; messageZh: string } | null;
  receipt: { lines: string[] } | null;
}

async function json<T>(args: string[], exit: number): Promise<T> {
  const run = await runCli([...args, '--json'], { env: cliEnv({}, home), timeoutMs: 120_000 });
  expect(run.code, describeRun(run)).toBe(exit);
  return oneJson<T>(run);
}

const BARCODE = '134567890123456789';

describe('upay-pos pay: invalid input → exit 2 and no gateway call', () => {
  const bad: string[][] = [
    ['--amount', '0', '--barcode', BARCODE],
    ['--amount', '-1', '--barcode', BARCODE],
    ['--amount', '1.234', '--barcode', BARCODE],
    ['--amount', 'abc', '--barcode', BARCODE],
    ['--amount', '1e3', '--barcode', BARCODE],
    ['--amount', '100000000.00', '--barcode', BARCODE],
    ['--barcode', BARCODE],
    ['--amount', '1.00'],
    ['--amount', '1.00', '--barcode', '123456789'],
    ['--amount', '1.00', '--barcode', '1'.repeat(33)],
    ['--amount', '1.00', '--barcode', '13456789012345678a'],
    ['--amount', '1.00', '--barcode', BARCODE, '--qr', '--payway', 'wechat'],
    ['--amount', '1.00', '--qr'],
    ['--amount', '1.00', '--qr', '--payway', 'bitcoin'],
    ['--amount', '1.00', '--barcode', BARCODE, '--subject', 'x'.repeat(65)],
    ['--amount', '1.00', '--barcode', BARCODE, '--wait', 'soon'],
  ];
  for (const args of bad) {
    it(JSON.stringify(args), async () => {
      h.sandbox.gateway.clearLog();
      const doc = await json<{ error: { code: string } }>([...g, 'pay', ...args], 2);
      expect(['INVALID_INPUT', 'USAGE']).toContain(doc.error.code);
      expect(h.sandbox.gateway.log()).toHaveLength(0);
    });
  }
});

describe('upay-pos pay', () => {
  it('barcode → paid (exit 0): the contract JSON, clientSn is what the gateway got, 收款凭证', async () => {
    h.sandbox.gateway.clearLog();
    const doc = await json<PayDoc>([...g, 'pay', '--amount', '12.34', '--barcode', BARCODE, '--subject', '咖啡', '--operator', '王五'], 0);
    expect(Object.keys(doc).sort()).toEqual(['error', 'order', 'outcome', 'payment', 'qrCode', 'receipt']);
    expect(doc).toMatchObject({ outcome: 'paid', error: null, qrCode: null, payment: { amountCents: 1234, state: 'paid', operatorName: '王五' } });
    const sent = h.sandbox.gateway.log().filter((e) => e.endpoint === 'pay');
    expect(sent).toHaveLength(1);
    expect((sent[0]!.body as Record<string, string>).client_sn).toBe(doc.payment.clientSn);
    expect((sent[0]!.body as Record<string, string>).total_amount).toBe('1234');
    expect(doc.order).toMatchObject({ client_sn: doc.payment.clientSn, total_amount: '1234', order_status: 'PAID' });
    expect(doc.order!.sn).toMatch(/^\d{16}$/);
    expect(doc.receipt!.lines.join('\n')).toContain('收款凭证');
  });

  it('PAY_FAIL → failed (exit 3), no money taken, no cancel', async () => {
    h.sandbox.gateway.inject('pay', { kind: 'pay_fail', errorCode: 'INSUFFICIENT_FUND' });
    const doc = await json<PayDoc>([...g, 'pay', '--amount', '5', '--barcode', BARCODE], 3);
    expect(doc).toMatchObject({ outcome: 'failed', error: { code: 'PAY_FAILED' }, receipt: null });
    expect(doc.error!.messageZh).toContain('未收款（钱款未扣）');
    const n = h.sandbox.gateway.counters(doc.payment.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, taken: n.moneyTaken }).toEqual({ pay: 1, cancel: 0, taken: false });
  });

  it('PAY_IN_PROGRESS → queried → paid (exit 0), one pay request', async () => {
    h.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 1 });
    const doc = await json<PayDoc>([...g, 'pay', '--amount', '6', '--barcode', BARCODE], 0);
    expect(doc.outcome).toBe('paid');
    const n = h.sandbox.gateway.counters(doc.payment.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, taken: n.moneyTaken }).toEqual({ pay: 1, cancel: 0, taken: true });
    expect(n.query).toBeGreaterThanOrEqual(2);
  });

  it('PAY_FAIL_ERROR → reversed → canceled (exit 3)', async () => {
    h.sandbox.gateway.inject('pay', { kind: 'pay_fail_error' });
    const doc = await json<PayDoc>([...g, 'pay', '--amount', '7', '--barcode', BARCODE], 3);
    expect(doc).toMatchObject({ outcome: 'canceled', payment: { state: 'canceled', moneyReturned: false } });
    const n = h.sandbox.gateway.counters(doc.payment.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, status: n.orderStatus }).toEqual({ pay: 1, cancel: 1, status: 'CANCELED' });
  });

  it('gateway unreachable → failed at once (exit 3); queue drain never sends it', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const common = ['--data-dir', h.dataDir, '--printer', 'none'];
    const doc = await json<PayDoc>(['pay', '--amount', '8', '--barcode', BARCODE, '--api-domain', down, ...common], 3);
    expect(doc).toMatchObject({ outcome: 'failed', order: null, error: { code: 'NOT_SENT' } });
    const drained = await json<{ payments: unknown[] }>([...g, 'queue', 'drain', '--timeout', '5'], 0);
    expect(drained.payments).toEqual([]);
    expect(h.sandbox.gateway.counters(doc.payment.clientSn).pay).toBe(0);
  });

  it('answer lost, --wait 0 → pending (exit 4); queue list shows it; queue drain resolves it (exit 0); pay query --id answers paid', async () => {
    h.sandbox.gateway.inject('pay', { kind: 'drop_after' });
    const doc = await json<PayDoc>([...g, 'pay', '--amount', '9', '--barcode', BARCODE, '--wait', '0', '--timeout-ms', '2000'], 4);
    expect(doc.outcome).toBe('pending');
    const list = await json<{ payments: Array<{ clientSn: string; state: string }> }>([...g, 'queue', 'list'], 0);
    expect(list.payments).toEqual([expect.objectContaining({ clientSn: doc.payment.clientSn, state: 'pending' })]);
    await json([...g, 'queue', 'drain', '--timeout', '60'], 0);
    const q = await json<PayDoc>([...g, 'pay', 'query', '--id', String(doc.payment.id)], 0);
    expect(q).toMatchObject({ outcome: 'paid', payment: { clientSn: doc.payment.clientSn } });
    const n = h.sandbox.gateway.counters(doc.payment.clientSn);
    expect({ pay: n.pay, cancel: n.cancel }).toEqual({ pay: 1, cancel: 0 });
  });

  it('--qr → awaiting_customer (exit 4) with the gateway qr_code; the customer pays; pay query --client-sn → paid (exit 0)', async () => {
    h.sandbox.gateway.clearLog();
    const doc = await json<PayDoc>([...g, 'pay', '--amount', '3.00', '--qr', '--payway', 'alipay'], 4);
    expect(doc.outcome).toBe('awaiting_customer');
    const answer = h.sandbox.gateway.getOrder(doc.payment.clientSn)!;
    expect(doc.qrCode).toBe(`https://qr.alipay.com/sandbox${answer.sn}`);
    const res = await fetch(`${h.sandbox.gateway.url}/sandbox/customer-pay`, { method: 'POST', body: JSON.stringify({ client_sn: doc.payment.clientSn }) });
    expect(res.status).toBe(200);
    const q = await json<PayDoc>([...g, 'pay', 'query', '--client-sn', doc.payment.clientSn], 0);
    expect(q).toMatchObject({ outcome: 'paid', order: { sn: answer.sn, order_status: 'PAID' } });
    const counters = (await (await fetch(`${h.sandbox.gateway.url}/sandbox/counters?client_sn=${doc.payment.clientSn}`)).json()) as Record<string, unknown>;
    expect(counters).toMatchObject({ precreate: 1, pay: 0, cancel: 0, moneyTaken: true });
  });

  it('report day --json lists the day payments with their total in cents', async () => {
    const doc = await json<{ payments: { cents: number }; counterPayments: { taken: { count: number; cents: number }; netCents: number; list: Array<{ clientSn: string }>; open: unknown[] } }>(
      [...g, 'report', 'day'],
      0,
    );
    expect(doc.counterPayments.taken.count).toBeGreaterThanOrEqual(3);
    expect(doc.counterPayments.taken.cents).toBe(1234 + 600 + 900 + 300);
    expect(doc.counterPayments.netCents).toBe(doc.counterPayments.taken.cents);
    expect(doc.payments.cents).toBeGreaterThanOrEqual(doc.counterPayments.taken.cents);
    expect(doc.counterPayments.open).toEqual([]);
  });
});
