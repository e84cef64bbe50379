/**
 * Two runtimes on one data dir (plus a third in another process) hammering the
 * same 20 orders with 50 concurrent requests: each order is revoked once at the
 * gateway, one revoked row each, and no SQLITE_BUSY reaches anyone.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { listJobs } from '../../main/printer';
import { ensureBuilt, ROOT } from '../support/build';
import { createHarness, until, type Harness } from '../support/harness';
import { databaseOf } from '../../main/runtime';
import { RevokesRepo } from '../../main/store/revokes';

beforeAll(() => ensureBuilt('dist/test/support/crash-worker.js'));

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('50 concurrent requests over 20 orders from two runtimes and a second process: each revoked exactly once', async () => {
  h = await createHarness();
  const a = h.rt;
  const b = h.runtime();
  const orders = Array.from({ length: 20 }, () => h!.paidOrder());
  // Some answers are slow, so requests overlap with open revokes.
  h.sandbox.gateway.inject('revoke', { kind: 'delay', ms: 40 }, 10);

  const child = spawn(process.execPath, [path.join(ROOT, 'dist/test/support/crash-worker.js')], {
    env: { ...process.env, DATA_DIR: h.dataDir, API: h.sandbox.gateway.url, PRINTER: 'none', SN: orders.map((o) => o.sn).reverse().join(','), CRASH_AT: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let childOut = '';
  let childErr = '';
  child.stdout!.on('data', (d: Buffer) => (childOut += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (childErr += d.toString()));

  const requests = Array.from({ length: 50 }, (_, i) => {
    const rt = i % 2 === 0 ? a : b;
    const o = orders[(i * 7) % orders.length]!;
    return rt.revokes.request({ sn: o.sn }, `op${i}`, 'test');
  });
  const results = await Promise.allSettled(requests);
  const failures = results.filter((r) => r.status === 'rejected');
  expect(failures.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);

  await until(() => childOut.includes('ready'), 20_000);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  expect(childErr).not.toMatch(/SQLITE_BUSY|database is locked/);

  for (const o of orders) {
    await until(() => a.revokes.forOrder(o.sn)?.state === 'revoked', 10_000);
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    const rows = new RevokesRepo(databaseOf(a)).list({}).filter((r) => r.order_sn === o.sn);
    expect(rows).toHaveLength(1);
    expect(listJobs(databaseOf(a), { orderSn: o.sn, kind: 'revoke' })).toHaveLength(1);
  }
});
