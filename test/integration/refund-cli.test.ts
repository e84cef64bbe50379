/**
 * `upay-pos refund`, `refund query`, `queue list|drain` with refunds, and
 * `report day`, as store IT run them: the built bin in a child process with
 * --json, against an in-process sandbox over HTTP (its request log proves
 * that invalid input sends nothing).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { businessDay } from '../../main/common/time';
import { cliEnv, cliHarness, closeCliHarness, closedPort, describeRun, oneJson, runCli } from '../support/cli-run';
import type { Harness } from '../support/harness';

let h: Harness;
let home: string;
let g: string[];

beforeAll(async () => {
  ({ h, home, g } = await cliHarness('upay-pos-refund-cli-home-'));
}, 180_000);

afterAll(() => closeCliHarness(h, home));

interface RefundDoc {
  outcome: string;
  order: { sn: string; netCents: number; status: string } | null;
  refund: { id: number; requestNo: string; amountCents: number; state: string; operatorName: string } | null;
  error: { code: string; message: string; messageZh: string } | null;
  receipt: { lines: string[] } | null;
}

async function json<T>(args: string[], exit: number): Promise<T> {
  const run = await runCli([...args, '--json'], { env: cliEnv({}, home) });
  expect(run.code, describeRun(run)).toBe(exit);
  return oneJson<T>(run);
}

describe('upay-pos refund', () => {
  for (const bad of [['--amount', '12.345'], ['--amount', 'abc'], ['--amount', '0'], ['--amount', '-1'], ['--amount', '1e3'], ['--amount', '1.00', '--full'], []]) {
    it(`invalid amount ${JSON.stringify(bad)} → exit 2, no call`, async () => {
      const o = h.paidOrder({ totalCents: 1000 });
      h.sandbox.gateway.clearLog();
      const doc = await json<{ error: { code: string } }>([...g, 'refund', '--sn', o.sn, ...bad], 2);
      expect(['INVALID_INPUT', 'USAGE']).toContain(doc.error.code);
      expect(h.sandbox.gateway.log()).toHaveLength(0);
    });
  }

  it('partial refund → exit 0, the contract JSON, a 退款凭证; past the net amount → exit 3 with no call; --full takes the rest', async () => {
    const o = h.paidOrder({ totalCents: 1000 });
    const doc = await json<RefundDoc>([...g, 'refund', '--sn', o.sn, '--amount', '3.5', '--operator', '王五'], 0);
    expect(Object.keys(doc).sort()).toEqual(['error', 'order', 'outcome', 'receipt', 'refund']);
    expect(doc).toMatchObject({ outcome: 'refunded', error: null, order: { sn: o.sn, netCents: 650, status: 'PARTIAL_REFUNDED' } });
    expect(doc.refund).toMatchObject({ amountCents: 350, state: 'refunded', operatorName: '王五', requestNo: expect.stringMatching(/^\d{20}$/) });
    expect(doc.receipt!.lines.join('\n')).toContain('退款凭证');
    h.sandbox.gateway.clearLog();
    const tooMuch = await json<RefundDoc>([...g, 'refund', '--client-sn', o.clientSn, '--amount', '6.51'], 3);
    expect(tooMuch).toMatchObject({ outcome: 'rejected', refund: null, error: { code: 'REFUND_AMOUNT_TOO_HIGH' } });
    expect(h.sandbox.gateway.log()).toHaveLength(0);
    const rest = await json<RefundDoc>([...g, 'refund', '--sn', o.sn, '--full'], 0);
    expect(rest.refund!.amountCents).toBe(650);
    expect(rest.order).toMatchObject({ netCents: 0, status: 'REFUNDED' });
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(2);
  });

  it('gateway down → queued (exit 4); queue list shows it; queue drain sends it (exit 0); refund query --id answers', async () => {
    const o = h.paidOrder({ totalCents: 800 });
    const down = `http://127.0.0.1:${await closedPort()}`;
    const common = ['--data-dir', h.dataDir, '--printer', 'none'];
    const queued = await json<RefundDoc>(['refund', '--sn', o.sn, '--full', '--api-domain', down, ...common], 4);
    expect(queued).toMatchObject({ outcome: 'queued', refund: { state: 'queued', amountCents: 800 }, error: { code: 'QUEUED' } });
    const list = await json<{ refunds: Array<{ orderSn: string; state: string }> }>(['queue', 'list', ...common], 0);
    expect(list.refunds).toEqual([expect.objectContaining({ orderSn: o.sn, state: 'queued' })]);
    const drained = await json<{ refundsAfter: { queued: number }; refunds: unknown[] }>(['queue', 'drain', '--timeout', '30', '--api-domain', h.sandbox.gateway.url, ...common], 0);
    expect(drained.refunds).toEqual([]);
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(1);
    const q = await json<RefundDoc>([...g, 'refund', 'query', '--id', String(queued.refund!.id)], 0);
    expect(q).toMatchObject({ outcome: 'refunded', refund: { id: queued.refund!.id, requestNo: queued.refund!.requestNo } });
    await json<{ error: { code: string } }>([...g, 'refund', 'query', '--id', 'x'], 2);
  });
});

describe('upay-pos report day', () => {
  it('--json: the totals reconcile; --csv: integer cents per line; a bad --day is exit 2', async () => {
    const doc = await json<{ day: string; reconciled: boolean; payments: { count: number; cents: number }; refunds: { cents: number }; netCents: number }>(
      [...g, 'report', 'day'],
      0,
    );
    expect(doc.day).toBe(businessDay(Date.now()));
    expect(doc.reconciled).toBe(true);
    expect(doc.refunds.cents).toBe(350 + 650 + 800);
    expect(doc.netCents).toBe(doc.payments.cents - doc.refunds.cents);
    const run = await runCli([...g, 'report', 'day', '--csv'], { env: cliEnv({}, home) });
    expect(run.code, describeRun(run)).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('section,key,name,count,cents,yuan');
    expect(lines).toContain(`total,refunds,,3,1800,18.00`);
    await json<{ error: { code: string } }>([...g, 'report', 'day', '--day', '2026-13-40'], 2);
    expect(fs.existsSync(path.join(h.dataDir, 'upay-pos.db'))).toBe(true);
  });
});
