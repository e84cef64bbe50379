/**
 * Power cuts: a runtime in a child process is killed with SIGKILL at six
 * points of a revoke, then a new runtime starts on the same data dir. Every
 * case ends with the order revoked exactly once at the gateway, one `revoked`
 * row, one receipt printed once, nothing lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listJobs } from '../../main/printer';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import type { Fault } from '../../main/sandbox/gateway';
import { ensureBuilt, ROOT } from '../support/build';
import { tempDir, until } from '../support/harness';
import { createChaosProxy as createBlip, type ChaosProxy as Blip } from '../support/chaos-net';
import { RevokesRepo } from '../../main/store/revokes';

const WORKER = path.join(ROOT, 'dist/test/support/crash-worker.js');
beforeAll(() => ensureBuilt('dist/test/support/crash-worker.js'));

let sandbox: Sandbox | undefined;
let blip: Blip | undefined;
let dataDir = '';
const open: Runtime[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  await blip?.close();
  await sandbox?.close();
  blip = undefined;
  sandbox = undefined;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Sandbox + activated terminal + paid orders recorded locally; the setup runtime is closed again. */
async function setup(count: number): Promise<string[]> {
  sandbox = await createSandbox();
  dataDir = tempDir('upay-pos-crash-');
  const rt = createRuntime({ dataDir, apiDomain: sandbox.gateway.url, startWorkers: false });
  const v = sandbox.gateway.vendor;
  await rt.terminal.activate({ appId: v.appId, code: sandbox.gateway.activationCodes()[0]!, deviceId: 'crash', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
  await rt.terminal.checkin('test');
  const sns: string[] = [];
  for (let i = 0; i < count; i++) {
    const o = sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents: 1500 + i });
    rt.orders.record({ sn: o.sn, clientSn: o.clientSn, totalCents: o.totalCents, finishedAt: o.finishTime, payway: o.payway, paywayName: o.paywayName });
    sns.push(o.sn);
  }
  await rt.close();
  return sns;
}

function worker(env: Record<string, string>): { child: ChildProcess; exited: Promise<NodeJS.Signals | number | null>; lines: string[] } {
  const child = spawn(process.execPath, [WORKER], {
    env: { ...process.env, DATA_DIR: dataDir, API: sandbox!.gateway.url, PRINTER: sandbox!.printer.uri, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited, lines };
}

function revokeRequests(sn: string): number {
  return sandbox!.gateway.log().filter((e) => e.endpoint === 'revoke' && (e.body as Record<string, string>).sn === sn).length;
}

/** Restarts on the same data dir and checks the outcome for every order. */
async function recoverAndCheck(sns: string[]): Promise<void> {
  const rt = createRuntime({
    dataDir,
    apiDomain: sandbox!.gateway.url,
    printer: sandbox!.printer.uri,
    timing: { firstQueryMs: 30, queryEveryMs: 60, pendingWindowMs: 3000, backoffBaseMs: 30, backoffCapMs: 200 },
    printWorker: { backoffBaseMs: 50, backoffMaxMs: 200, pollMs: 100 },
  });
  open.push(rt);
  for (const sn of sns) {
    const revoked = await until(() => rt.revokes.forOrder(sn)?.state === 'revoked', 10_000).catch(() => false);
    expect(revoked, `order ${sn} revoked after recovery (state ${rt.revokes.forOrder(sn)?.state})`).toBe(true);
    expect(sandbox!.gateway.effects('revoke', sn)).toBe(1);
    const rows = new RevokesRepo(databaseOf(rt)).list({}).filter((r) => r.order_sn === sn);
    expect(rows.filter((r) => r.state === 'revoked')).toHaveLength(1);
    expect(rows).toHaveLength(1);
    const jobs = listJobs(databaseOf(rt), { orderSn: sn });
    expect(jobs).toHaveLength(1);
    await until(() => listJobs(databaseOf(rt), { orderSn: sn })[0]?.state === 'printed', 10_000);
  }
  // Each receipt reached the printer exactly once.
  await until(() => sandbox!.printer.jobs().length >= sns.length, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  for (const sn of sns) expect(sandbox!.printer.jobs().filter((j) => j.decoded.qr.includes(sn))).toHaveLength(1);
}

interface CrashCase {
  name: string;
  crashAt?: string;
  fault?: Fault;
  /** The parent kills the child once the gateway has seen the revoke. */
  killOnRequest?: boolean;
}

const cases: CrashCase[] = [
  { name: 'after the intent commit, before the request leaves', crashAt: 'intent-committed' },
  { name: 'with the request in flight (gateway has not acted)', fault: { kind: 'hang' }, killOnRequest: true },
  { name: 'after the gateway applied the effect, before the answer is read', fault: { kind: 'delay', ms: 5000 }, killOnRequest: true },
  { name: 'after the answer, before the commit', crashAt: 'answer-received' },
  { name: 'after `revoked` is committed, before printing', crashAt: 'revoked-committed' },
];

describe('SIGKILL at each point of a revoke, then restart', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const [sn] = await setup(1);
      if (c.fault) sandbox!.gateway.inject('revoke', c.fault, 1);
      const w = worker({ SN: sn!, CRASH_AT: c.crashAt ?? 'none' });
      if (c.killOnRequest) {
        await until(() => revokeRequests(sn!) === 1, 10_000);
        w.child.kill('SIGKILL');
      }
      expect(await w.exited).toBe('SIGKILL');
      await recoverAndCheck([sn!]);
    });
  }

  it('during a queue drain', async () => {
    const sns = await setup(4);
    blip = await createBlip(sandbox!.gateway.port);
    await blip.down();
    // Phase 1: the gateway is unreachable, all four revokes wait in the queue.
    const first = worker({ SN: sns.join(','), API: blip.url, CRASH_AT: 'none' });
    await until(() => first.lines.includes('ready'), 10_000);
    expect(first.lines.filter((l) => l.includes('"queued"'))).toHaveLength(4);
    first.child.kill('SIGKILL');
    await first.exited;
    // Phase 2: the network is back; the drain is cut by a power loss right after a send was committed.
    await blip.up();
    sandbox!.gateway.inject('revoke', { kind: 'delay', ms: 300 }, 4);
    const second = worker({ API: blip.url, CRASH_AT: 'send-committed' });
    expect(await second.exited).toBe('SIGKILL');
    await recoverAndCheck(sns);
  });
});
