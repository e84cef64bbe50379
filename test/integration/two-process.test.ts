/**
 * Two processes on one data dir at the same time, as in a store where the app
 * runs and store IT use the CLI: CLI child processes and a runtime in this
 * test process (workers on, like the app) share the SQLite file and the key
 * vault. No SQLITE_BUSY ("database is locked") surfaces, no revoke is sent
 * twice (the sandbox's effect ledger and request log), each order ends with
 * exactly one revoked row, and concurrent check-ins never leave a dead key.
 * The sandbox runs in this process so its ledger can be read; the CLI talks
 * HTTP to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Revoke } from '../../main/domain';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import type { SandboxOrder } from '../../main/sandbox/gateway';
import { TerminalRepo } from '../../main/store/terminal';
import { cliEnv, closedPort, describeRun, ensureCliBuilt, oneJson, removeCliSnapshot, runCli, type CliResult } from '../support/cli-run';

const FAST = { firstQueryMs: 30, queryEveryMs: 60, pendingWindowMs: 3000, backoffBaseMs: 30, backoffCapMs: 200 };
const LOCKED = /SQLITE_BUSY|database is locked|SQLITE_LOCKED/i;

let root: string;

beforeAll(() => {
  ensureCliBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-2proc-'));
}, 180_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  removeCliSnapshot();
});

let sandbox: Sandbox;
let dataDir: string;
let runtimes: Runtime[];
let n = 0;

beforeEach(async () => {
  sandbox = await createSandbox();
  dataDir = path.join(root, `store-${++n}`);
  runtimes = [];
});

afterEach(async () => {
  for (const r of runtimes) await r.close();
  await sandbox.close();
});

function app(extra: { apiDomain?: string; startWorkers?: boolean } = {}): Runtime {
  const rt = createRuntime({
    dataDir,
    apiDomain: extra.apiDomain ?? sandbox.gateway.url,
    printer: 'virtual',
    virtualPrinterUri: sandbox.printer.uri,
    timing: FAST,
    timeoutMs: 5_000,
    startWorkers: extra.startWorkers ?? true,
    printWorker: { backoffBaseMs: 50, backoffMaxMs: 200, pollMs: 100 },
  });
  runtimes.push(rt);
  return rt;
}

async function activated(startWorkers = true): Promise<Runtime> {
  const rt = app({ startWorkers });
  const v = sandbox.gateway.vendor;
  await rt.terminal.activate({ appId: v.appId, code: sandbox.gateway.activationCodes()[0]!, deviceId: 'counter-1', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
  await rt.terminal.checkin('test');
  return rt;
}

function paid(rt: Runtime, count: number): SandboxOrder[] {
  const terminalSn = rt.terminal.info()!.terminalSn;
  return Array.from({ length: count }, (_, i) => {
    const o = sandbox.gateway.seedOrder({ terminalSn, totalCents: 1000 + i, subject: '测试商品' });
    rt.orders.record({ sn: o.sn, clientSn: o.clientSn, totalCents: o.totalCents, finishedAt: o.finishTime, status: 'PAID', subject: o.subject });
    return o;
  });
}

function cli(args: string[]): Promise<CliResult> {
  return runCli([...args, '--json', '--data-dir', dataDir, '--api-domain', sandbox.gateway.url, '--printer', sandbox.printer.uri], {
    env: cliEnv({}, root),
    timeoutMs: 60_000,
  });
}

/** Revoke requests that reached the gateway for one order (sent, whatever the effect). */
function revokeRequests(sn: string): number {
  return sandbox.gateway.log().filter((e) => e.endpoint === 'revoke' && (e.body as { sn?: string } | null)?.sn === sn).length;
}

function revokeRows(rt: Runtime, sn: string): Array<{ state: string }> {
  return databaseOf(rt).prepare('SELECT state FROM revokes WHERE order_sn = ?').all(sn) as Array<{ state: string }>;
}

/** Revoke intents written by an actor ('app', or 'cli:<user>' for the CLI): who won each order. */
function requestedBy(rt: Runtime, actorLike: string): number {
  return (databaseOf(rt).prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'revoke.requested' AND actor LIKE ?").get(actorLike) as { n: number }).n;
}

async function until(fn: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('two processes, one data dir', () => {
  it('the app and the CLI revoke the same 10 orders at once: each is revoked exactly once, no SQLITE_BUSY', async () => {
    const rt = await activated();
    const orders = paid(rt, 10);
    sandbox.gateway.clearLog();

    // Every order is revoked from both sides: one CLI process per order, all started at once
    // (--wait, so a revoke in flight in the other process is waited for), and the app's own
    // request. The app takes orders 0-4 at once (the CLI finds them in flight) and 5-9 as soon
    // as the first CLI process has written its intent (then both sides race). Answers come
    // 300 ms after the void is applied, so rows stay in flight while the other side looks.
    sandbox.gateway.inject('revoke', { kind: 'delay', ms: 300 }, orders.length);
    const cliRuns = Promise.all(orders.map((o) => cli(['revoke', '--sn', o.sn, '--operator', 'it', '--wait', '30'])));
    const appRuns = orders.slice(0, 5).map((o) => rt.revokes.request({ sn: o.sn }, '收银员 1', 'app'));
    await until(() => requestedBy(rt, 'cli:%') > 0, 30_000);
    appRuns.push(...orders.slice(5).map((o) => rt.revokes.request({ sn: o.sn }, '收银员 1', 'app')));
    const [cliResults, appResults] = await Promise.all([cliRuns, Promise.allSettled(appRuns)]);

    for (const r of appResults) {
      expect(r.status, r.status === 'rejected' ? String((r as PromiseRejectedResult).reason) : '').toBe('fulfilled');
    }
    for (const r of cliResults) {
      expect(r.stderr, describeRun(r)).not.toMatch(LOCKED);
      expect(r.code, describeRun(r)).toBe(0);
      const doc = oneJson<{ outcome: string; order: { sn: string } }>(r);
      expect(doc.outcome).toBe('revoked');
    }
    // The app's answers are the same revoke rows (in flight in the CLI = not final yet, never a second row).
    await rt.revokes.idle();
    const appStates = (appResults as Array<PromiseFulfilledResult<Revoke>>).map((r) => rt.revokes.get(r.value.id)!.state);
    expect(appStates).toEqual(orders.map(() => 'revoked'));

    for (const o of orders) {
      expect(sandbox.gateway.effects('revoke', o.sn), o.sn).toBe(1);
      expect(revokeRequests(o.sn), o.sn).toBe(1);
      expect(revokeRows(rt, o.sn)).toEqual([{ state: 'revoked' }]);
      expect(sandbox.gateway.getOrder(o.sn)?.orderStatus).toBe('CANCELED');
    }
    expect(sandbox.gateway.effects('cancel')).toBe(0);
    // Both processes wrote intents (the race was real), one per order in total.
    expect(requestedBy(rt, 'app')).toBeGreaterThanOrEqual(5);
    expect(requestedBy(rt, 'cli:%')).toBeGreaterThanOrEqual(1);
    expect(requestedBy(rt, '%')).toBe(10);
    // One original receipt per revoke, whichever process recorded it; all printed in the end.
    const jobs = databaseOf(rt).prepare("SELECT revoke_id, state FROM print_jobs WHERE kind = 'revoke' AND copy = 0").all() as Array<{ revoke_id: number; state: string }>;
    expect(jobs).toHaveLength(10);
    expect(new Set(jobs.map((j) => j.revoke_id)).size).toBe(10);
    await until(() => (databaseOf(rt).prepare("SELECT count(*) AS n FROM print_jobs WHERE state = 'printed'").get() as { n: number }).n === 10, 15_000);
  }, 90_000);

  it('a queue drained by the CLI while the app works the same queue: every queued revoke is sent once', async () => {
    const setup = await activated(false);
    const orders = paid(setup, 6);
    // The gateway is unreachable for the app: the revokes are queued.
    const down = app({ apiDomain: `http://127.0.0.1:${await closedPort()}`, startWorkers: false });
    for (const o of orders) expect((await down.revokes.request({ sn: o.sn }, '收银员 1', 'app')).state).toBe('queued');
    for (const r of [down, setup]) await r.close();
    runtimes = [];
    sandbox.gateway.clearLog();

    // The network is back: store IT's `queue drain` and the app (workers on) race for the same rows.
    // Slow answers (the void is applied at once, the answer comes 500 ms later) keep rows in flight
    // in one process while the other looks for work.
    sandbox.gateway.inject('revoke', { kind: 'delay', ms: 500 }, orders.length);
    const draining = cli(['queue', 'drain', '--timeout', '30']);
    await new Promise((r) => setTimeout(r, 150));
    const rt = app();
    rt.revokes.setOnline(true);
    const drain = await draining;
    expect(drain.stderr, describeRun(drain)).not.toMatch(LOCKED);
    expect(drain.code, describeRun(drain)).toBe(0);
    expect(oneJson<{ after: Record<string, number> }>(drain).after).toMatchObject({ queued: 0, pending: 0, sending: 0, needsAttention: 0 });

    await rt.revokes.idle();
    for (const o of orders) {
      expect(sandbox.gateway.effects('revoke', o.sn), o.sn).toBe(1);
      expect(revokeRequests(o.sn), o.sn).toBe(1);
      expect(revokeRows(rt, o.sn)).toEqual([{ state: 'revoked' }]);
    }
  }, 90_000);

  it('the CLI and the app check in at the same time: the stored key is the one the gateway holds', async () => {
    const rt = await activated();
    const terminalSn = rt.terminal.info()!.terminalSn;
    const before = sandbox.gateway.effects('checkin', terminalSn);
    sandbox.gateway.inject('checkin', { kind: 'delay', ms: 1_000 }, 2);

    const [cliRun, appRun] = await Promise.all([cli(['checkin']), rt.terminal.checkin('app').then(() => 'ok' as const, (e: unknown) => e)]);
    expect(cliRun.stderr, describeRun(cliRun)).not.toMatch(LOCKED);
    const cliOk = cliRun.code === 0;
    if (!cliOk) {
      // The only acceptable refusal: the other process held the check-in lease.
      expect(cliRun.code, describeRun(cliRun)).toBe(1);
      expect(oneJson<{ error: { code: string } }>(cliRun).error.code).toBe('CHECKIN_BUSY');
    }
    const appOk = appRun === 'ok';
    if (!appOk) expect((appRun as { code?: string }).code).toBe('CHECKIN_BUSY');
    expect(cliOk || appOk).toBe(true);
    expect(sandbox.gateway.effects('checkin', terminalSn)).toBe(before + Number(cliOk) + Number(appOk));

    const row = new TerminalRepo(databaseOf(rt)).get()!;
    expect(rt.vault.open(row.sealed_key)).toBe(sandbox.gateway.terminal(terminalSn)!.terminalKey);
    // And it signs: an import through the CLI works.
    const o = paid(rt, 1)[0]!;
    const imp = await cli(['orders', 'import', '--sn', o.sn]);
    expect(imp.code, describeRun(imp)).toBe(0);
  }, 60_000);
});
