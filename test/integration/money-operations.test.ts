/**
 * One truth for every money operation, against the sandbox over real HTTP
 * and a real SQLite file: one open operation per order across kinds and
 * processes (the lock is SQLite's), any answer about an order settles what is
 * open on it, a refund is judged by its own refund_request_no, every kind is
 * re-checked by itself, and retention never deletes money.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { newRequestNo } from '../../main/operations/refund/engine';
import { databaseOf } from '../../main/runtime';
import { UpayClient } from '../../main/upay/client';
import { cliEnv, ensureCliBuilt, oneJson, removeCliSnapshot, runCli } from '../support/cli-run';
import { createHarness, FAST_TIMING, tempDir, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const WHO: Accountable = { operatorId: null, operatorName: '收银员', approverId: null, approverName: null };

function calls(harness: Harness, endpoint: string, sn: string): Array<Record<string, string>> {
  return harness.sandbox.gateway
    .log()
    .filter((e) => e.endpoint === endpoint && (e.body as Record<string, string> | null)?.sn === sn)
    .map((e) => e.body as Record<string, string>);
}

function lockRows(harness: Harness): Array<{ kind: string; op_id: number }> {
  return databaseOf(harness.rt).prepare('SELECT kind, op_id FROM open_operations ORDER BY kind DESC, op_id').all() as Array<{ kind: string; op_id: number }>;
}

describe('one open money operation per order, across kinds', () => {
  it('a refund asked while a revoke of the order is pending is refused locally, naming the revoke; and the other way round', async () => {
    h = await createHarness({ runtime: { timing: { ...FAST_TIMING, pendingWindowMs: 60_000 } } });
    const a = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('revoke', { kind: 'cancel_in_progress', queries: 100_000 }, 1);
    const revoke = await h.rt.revokes.request({ sn: a.sn }, '收银员', 'test');
    expect(revoke.state).toBe('pending');
    await expect(h.rt.refunds.request({ sn: a.sn }, 'full', WHO, 'test')).rejects.toMatchObject({
      code: 'OPERATION_OPEN',
      messageZh: expect.stringContaining('撤销'),
      messageEn: expect.stringContaining(`open revoke (#${revoke.id}`),
      details: { openKind: 'revoke', openId: revoke.id },
    });
    expect(calls(h, 'refund', a.sn)).toHaveLength(0);

    const b = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('refund', { kind: 'refund_in_progress', queries: 100_000 }, 1);
    const refund = await h.rt.refunds.request({ sn: b.sn }, 300, WHO, 'test');
    expect(refund.state).toBe('pending');
    await expect(h.rt.revokes.request({ sn: b.sn }, '收银员', 'test')).rejects.toMatchObject({
      code: 'OPERATION_OPEN',
      messageZh: expect.stringContaining('退款'),
      details: { openKind: 'refund', openId: refund.id },
    });
    expect(calls(h, 'revoke', b.sn)).toHaveLength(0);
    expect(lockRows(h)).toEqual([
      { kind: 'revoke', op_id: revoke.id },
      { kind: 'refund', op_id: refund.id },
    ]);
  });

  it('the lock is SQLite\'s: a second open row inserted behind the engines\' back fails inside the database', async () => {
    h = await createHarness();
    const o = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('revoke', { kind: 'cancel_in_progress', queries: 100_000 }, 1);
    await h.rt.revokes.request({ sn: o.sn }, '收银员', 'test');
    const db = databaseOf(h.rt);
    expect(() =>
      db
        .prepare(
          "INSERT INTO refunds (order_sn, client_sn, request_no, amount_cents, net_before_cents, state, operator, requested_at, updated_at) VALUES (?, ?, 'R1', 1, 1000, 'queued', 'x', 0, 0)",
        )
        .run(o.sn, o.clientSn),
    ).toThrow(/open_operations\.order_client_sn/);
    // A final row takes no lock.
    db.prepare(
      "INSERT INTO refunds (order_sn, client_sn, request_no, amount_cents, net_before_cents, state, operator, requested_at, updated_at) VALUES (?, ?, 'R2', 1, 1000, 'rejected', 'x', 0, 0)",
    ).run(o.sn, o.clientSn);
  });
});

describe('one open money operation per order, two processes', () => {
  let root: string;
  beforeAll(() => {
    ensureCliBuilt();
    root = tempDir('upay-pos-lock-');
  }, 180_000);
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    removeCliSnapshot();
  });

  it('the app holds a pending revoke and a pending refund; the CLI (another process) is refused both ways with the open operation named', async () => {
    const dataDir = path.join(root, 'store');
    h = await createHarness({ runtime: { dataDir, timing: { ...FAST_TIMING, pendingWindowMs: 60_000 } } });
    const a = h.paidOrder({ totalCents: 1000 });
    const b = h.paidOrder({ totalCents: 2000 });
    h.sandbox.gateway.inject('revoke', { kind: 'cancel_in_progress', queries: 100_000 }, 1);
    h.sandbox.gateway.inject('refund', { kind: 'refund_in_progress', queries: 100_000 }, 1);
    const revoke = await h.rt.revokes.request({ sn: a.sn }, '收银员', 'app');
    const refund = await h.rt.refunds.request({ sn: b.sn }, 500, WHO, 'app');
    expect([revoke.state, refund.state]).toEqual(['pending', 'pending']);
    const cli = (args: string[]) =>
      runCli([...args, '--json', '--data-dir', dataDir, '--api-domain', h!.sandbox.gateway.url, '--printer', 'none'], { env: cliEnv({}, root), timeoutMs: 60_000 });
    const [refundRun, revokeRun] = await Promise.all([cli(['refund', '--sn', a.sn, '--full', '--operator', 'it']), cli(['revoke', '--sn', b.sn, '--operator', 'it'])]);
    const refused = oneJson<{ error: { code: string; messageZh: string; details: { openKind: string; openId: number } } }>(refundRun);
    expect(refused.error).toMatchObject({ code: 'OPERATION_OPEN', details: { openKind: 'revoke', openId: revoke.id } });
    expect(refused.error.messageZh).toContain('撤销');
    const refused2 = oneJson<{ error: { code: string; details: { openKind: string; openId: number } } }>(revokeRun);
    expect(refused2.error).toMatchObject({ code: 'OPERATION_OPEN', details: { openKind: 'refund', openId: refund.id } });
    expect(calls(h, 'refund', a.sn)).toHaveLength(0);
    expect(calls(h, 'revoke', b.sn)).toHaveLength(0);
  }, 120_000);
});

describe('any answer about an order settles what is open on it', () => {
  it('a void that happened but whose answer was lost (needs_attention): the refund is refused naming it while the gateway is unsure, then its answer settles it and the order reads one status', async () => {
    h = await createHarness({ runtime: { timeoutMs: 400, timing: FAST_TIMING } });
    const o = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'http500_html' }, 1000);
    const first = await h.rt.revokes.request({ sn: o.sn }, '收银员', 'test');
    expect(first.state).toBe('pending');
    await until(() => h!.rt.revokes.get(first.id)!.state === 'needs_attention', 10_000);
    expect(h.sandbox.gateway.getOrder(o.sn)!.orderStatus).toBe('CANCELED');

    // While nobody can tell, a refund is refused (money may already be back with the customer).
    await expect(h.rt.refunds.request({ sn: o.sn }, 'full', WHO, 'test')).rejects.toMatchObject({ code: 'OPERATION_OPEN', details: { openKind: 'revoke', openState: 'needs_attention' } });
    expect(calls(h, 'refund', o.sn)).toHaveLength(0);

    // The gateway answers again: asking for a refund asks about the open revoke first, and CANCELED settles it.
    h.sandbox.gateway.clearFaults();
    await expect(h.rt.refunds.request({ sn: o.sn }, 'full', WHO, 'test')).rejects.toMatchObject({ code: 'REFUND_NOT_REFUNDABLE_STATE' });
    expect(h.rt.revokes.get(first.id)!.state).toBe('revoked');
    expect(h.rt.orders.get(o.sn)).toMatchObject({ status: 'CANCELED', netCents: 0 });
    expect(h.rt.refunds.forOrder(o.sn)).toEqual([]);
    expect(calls(h, 'refund', o.sn)).toHaveLength(0);
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    expect(lockRows(h)).toEqual([]);
  });

  it('CANCEL_ERROR with a business code is confirmed by a query: PAID → rejected with the gateway\'s code and message kept', async () => {
    h = await createHarness({ runtime: { timing: FAST_TIMING } });
    const o = h.paidOrder({ totalCents: 1000, promotion: true });
    const r = await h.rt.revokes.request({ sn: o.sn }, '收银员', 'test');
    expect(r.state).toBe('pending');
    await until(() => h!.rt.revokes.get(r.id)!.state === 'rejected', 10_000);
    expect(h.rt.revokes.get(r.id)!.error).toMatchObject({ code: 'GATEWAY_REFUSED', gatewayCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE', gatewayMessage: expect.stringContaining('活动') });
    expect(calls(h, 'query', o.sn).length).toBeGreaterThanOrEqual(1);
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(0);
  });
});

describe('refund truth', () => {
  it('every refund query carries the refund_request_no; the operator is sent as at most 32 bytes', async () => {
    h = await createHarness({ runtime: { timing: FAST_TIMING } });
    const o = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('refund', { kind: 'refund_in_progress', queries: 2 }, 1);
    const longName = '收银员'.repeat(6); // 18 characters, 54 bytes
    const r = await h.rt.refunds.request({ sn: o.sn }, 400, { ...WHO, operatorName: longName }, 'test');
    await until(() => h!.rt.refunds.get(r.id)!.state === 'refunded', 10_000);
    const queries = calls(h, 'query', o.sn);
    expect(queries.length).toBeGreaterThanOrEqual(1);
    for (const q of queries) expect(q.refund_request_no).toBe(r.requestNo);
    const sent = calls(h, 'refund', o.sn)[0]!;
    expect(Buffer.byteLength(sent.operator!, 'utf8')).toBeLessThanOrEqual(32);
    expect(sent.operator).toBe('收银员'.repeat(3) + '收'); // 30 bytes: cut on a character boundary
  });

  it('strict sandbox: a number that failed is answered UPAY_REFUND_ORDER_NOOP; the refund is confirmed by a query by its number and ends rejected, never refunded', async () => {
    const random = () => 0.4242;
    h = await createHarness({ runtime: { timing: FAST_TIMING, random }, sandbox: { gateway: { strictRefundNumbers: true } } });
    const o = h.paidOrder({ totalCents: 1000 });
    // The numbers the engine will draw in the next seconds already failed once at the gateway.
    const upay = new UpayClient({ apiDomain: h.sandbox.gateway.url });
    const signer = h.rt.terminal.signer();
    for (let s = 0; s < 4; s++) {
      h.sandbox.gateway.inject('refund', { kind: 'refund_fail' }, 1);
      const no = newRequestNo(Date.now() + s * 1000, random);
      const res = await upay.refund(signer, { sn: o.sn, refund_request_no: no, refund_amount: '400', operator: 'x' });
      expect(res).toMatchObject({ ok: true, value: { resultCode: 'REFUND_FAIL' } });
    }
    await upay.close();
    h.sandbox.gateway.clearLog();
    const r = await h.rt.refunds.request({ sn: o.sn }, 400, WHO, 'test');
    expect(r.state).toBe('pending');
    expect(calls(h, 'refund', o.sn)).toHaveLength(1);
    const final = await until(() => {
      const x = h!.rt.refunds.get(r.id)!;
      return x.state === 'pending' ? undefined : x;
    }, 10_000);
    expect(final).toMatchObject({ state: 'rejected', error: { code: 'GATEWAY_REFUSED', gatewayCode: 'UPAY_REFUND_ORDER_NOOP' } });
    expect(calls(h, 'query', o.sn).map((q) => q.refund_request_no)).toContain(r.requestNo);
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(0);
    expect(h.rt.orders.get(o.sn)).toMatchObject({ status: 'PAID', netCents: 1000 });
    expect(h.rt.refundPrinting.receiptFor(r.id)).toBeNull();
  });
});

describe('every kind is re-checked', () => {
  it('a refund whose answer was lost (needs_attention) turns refunded by the re-check, with no tap', async () => {
    h = await createHarness({ runtime: { timeoutMs: 300, timing: FAST_TIMING, recheck: { everyMs: 200, probeEveryMs: 100 } } });
    const o = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'http500_html' }, 1000);
    const r = await h.rt.refunds.request({ sn: o.sn }, 'full', WHO, 'test');
    await until(() => h!.rt.refunds.get(r.id)!.state === 'needs_attention', 10_000);
    h.sandbox.gateway.clearFaults();
    const done = await until(() => {
      const x = h!.rt.refunds.get(r.id)!;
      return x.state === 'refunded' ? x : undefined;
    }, 15_000);
    expect(done.state).toBe('refunded');
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(1);
    expect(calls(h, 'refund', o.sn)).toHaveLength(1);
    const audit = databaseOf(h.rt).prepare("SELECT actor FROM audit_log WHERE action = 'refund.query'").all() as Array<{ actor: string }>;
    expect(audit.map((a) => a.actor)).toContain('recheck');
  });
});

describe('money rows are never deleted', () => {
  it('refunds today on a 40-day-old order survive maintenance: the day report and the rows are unchanged, an open refund is still resolved', async () => {
    h = await createHarness({ runtime: { timeoutMs: 300, timing: FAST_TIMING } });
    const old = h.paidOrder({ totalCents: 5000, finishedAt: Date.now() - 40 * 86_400_000 });
    const old2 = h.paidOrder({ totalCents: 3000, finishedAt: Date.now() - 40 * 86_400_000 });
    const bare = h.paidOrder({ totalCents: 100, finishedAt: Date.now() - 40 * 86_400_000 });
    const done = await h.rt.refunds.request({ sn: old.sn }, 1200, WHO, 'test');
    expect(done.state).toBe('refunded');
    h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'http500_html' }, 1000);
    const open = await h.rt.refunds.request({ sn: old2.sn }, 'full', WHO, 'test');
    await until(() => h!.rt.refunds.get(open.id)!.state === 'needs_attention', 10_000);
    const db = databaseOf(h.rt);
    const rowsBefore = db.prepare('SELECT * FROM refunds ORDER BY id').all();
    const reportBefore = h.rt.dayReport();
    h.rt.updateSettings({ retentionDays: 30 }, 'test');

    const pruned = h.rt.maintain();
    expect(pruned).toBe(1); // only the order without any money row
    expect(h.rt.orders.get(bare.sn)).toBeUndefined();
    expect(h.rt.orders.get(old.sn)).toBeDefined();
    expect(h.rt.orders.get(old2.sn)).toBeDefined();
    expect(db.prepare('SELECT * FROM refunds ORDER BY id').all()).toEqual(rowsBefore);
    expect(reportBefore.refunds).toEqual({ count: 1, cents: 1200 });
    expect({ ...h.rt.dayReport(), generatedAt: 0 }).toEqual({ ...reportBefore, generatedAt: 0 });

    h.sandbox.gateway.clearFaults();
    expect((await h.rt.refunds.queryAgain(open.id, 'cashier')).state).toBe('refunded');
    expect(h.sandbox.gateway.effects('refund', old2.sn)).toBe(1);
  });

  it('no ON DELETE CASCADE from orders to money rows', async () => {
    h = await createHarness();
    const db = databaseOf(h.rt);
    const fks = ['revokes', 'refunds'].flatMap((t) => db.pragma(`foreign_key_list(${t})`) as Array<{ table: string; on_delete: string }>);
    for (const fk of fks.filter((f) => f.table === 'orders')) expect(fk.on_delete).toBe('NO ACTION');
    const o = h.paidOrder({ totalCents: 1000 });
    await h.rt.revokes.request({ sn: o.sn }, '收银员', 'test');
    expect(() => db.prepare('DELETE FROM orders WHERE sn = ?').run(o.sn)).toThrow(/FOREIGN KEY/);
  });
});
