/**
 * SIGKILL crash loop for payments: a worker process (chaos-pay-worker.ts)
 * takes barcode and QR payments on a shared data dir against a sandbox in
 * this process, with random faults (in progress for K queries, PAY_FAIL,
 * PAY_FAIL_ERROR, answers lost before and after the effect, slow answers,
 * CANCEL_ERROR, the customer paying a QR), and is killed at random moments
 * and restarted. A last clean run resumes everything (query first, then
 * cancel). Then, for every attempt the gateway ever saw: no order is left
 * CREATED or PAY_ERROR (0 one-sided transactions), no client_sn was sent
 * twice and no payment row has two orders (0 double charges), and every
 * payment recorded paid is PAID at the gateway (and every PAID order is
 * recorded paid).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRuntime, databaseOf } from '../../main/runtime';
import { createSandbox } from '../../main/sandbox';
import type { Fault, SandboxEndpoint } from '../../main/sandbox/gateway';
import { activate, middayOffset, offsetClock, tempDir } from './chaos-env';
import { prng } from './chaos-network';

export const PAY_WORKER = path.resolve(__dirname, '../../dist/test/support/chaos-pay-worker.js');

export interface PayCrashResult {
  seed: number;
  kills: number;
  attempts: number;
  paid: number;
  canceled: number;
  failed: number;
  returned: number;
  /** Orders left CREATED or PAY_ERROR at the gateway with no reversal under way. */
  oneSided: string[];
  /** client_sns sent more than once, or rows with more than one gateway order. */
  doubleCharges: string[];
  /** Rows whose final state disagrees with the gateway's order (paid vs PAID, canceled vs CANCELED, ...). */
  mismatches: string[];
  open: number;
  elapsedMs: number;
}

const FAULTS: Array<[SandboxEndpoint, Fault]> = [
  ['pay', { kind: 'pay_in_progress', queries: 2 }],
  ['pay', { kind: 'pay_in_progress', queries: 1_000 }],
  ['pay', { kind: 'pay_in_progress', queries: 1, then: 'PAY_CANCELED' }],
  ['pay', { kind: 'pay_fail', errorCode: 'INSUFFICIENT_FUND' }],
  ['pay', { kind: 'pay_fail_error' }],
  ['pay', { kind: 'drop_before' }],
  ['pay', { kind: 'drop_after' }],
  ['pay', { kind: 'delay', ms: 300 }],
  ['precreate', { kind: 'drop_after' }],
  ['query', { kind: 'drop_before' }],
  ['query', { kind: 'delay', ms: 200 }],
  ['cancel', { kind: 'drop_after' }],
  ['cancel', { kind: 'drop_before' }],
  ['cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' }],
  ['cancel', { kind: 'cancel_error_no_code', outcome: 'canceled' }],
];

function runWorker(args: object, killAfterMs: number | null): Promise<{ killed: boolean; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PAY_WORKER, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let timer: NodeJS.Timeout | null = null;
    // The kill is timed from `ready` (start-up, resume included, is slow under load): it lands on payments in flight.
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== null && timer === null && out.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', () => undefined);
    child.on('exit', (_code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', out });
    });
  });
}

export async function runPayCrashLoop(options: { kills: number; seed: number; log?: (l: string) => void }): Promise<PayCrashResult> {
  if (!fs.existsSync(PAY_WORKER)) throw new Error(`${PAY_WORKER} is missing: run npm run build first`);
  const started = Date.now();
  const rand = prng(options.seed);
  const offsetMs = middayOffset();
  const dataDir = tempDir('upay-pos-pay-crash-');
  const sandbox = await createSandbox({ clock: offsetClock(offsetMs) });
  const gw = sandbox.gateway;
  try {
    const setup = createRuntime({ dataDir, apiDomain: gw.url, clock: offsetClock(offsetMs), startWorkers: false, printer: 'none', fleet: false });
    await activate(setup, gw, 'chaos-pay');
    await setup.close();
    const base = { dataDir, apiDomain: gw.url, offsetMs };
    let kills = 0;
    // The customer pays some QR codes while they wait.
    const payer = setInterval(() => {
      for (const o of gw.orders()) if (o.orderStatus === 'CREATED' && o.dynamicId === '' && rand() < 0.3) gw.customerPays(o.clientSn);
    }, 50);
    try {
      while (kills < options.kills) {
        gw.clearFaults();
        for (let i = 0; i < 3; i++) {
          const [endpoint, fault] = FAULTS[Math.floor(rand() * FAULTS.length)]!;
          gw.inject(endpoint, fault, 1 + Math.floor(rand() * 3));
        }
        const r = await runWorker({ ...base, payments: 1 + Math.floor(rand() * 3) }, Math.floor(rand() * 700));
        if (r.killed) kills++;
      }
    } finally {
      clearInterval(payer);
    }
    gw.clearFaults();
    const last = await runWorker({ ...base, payments: 0 }, null);
    options.log?.(`chaos-pay: final worker: ${last.out.trim().split('\n').at(-1) ?? ''}`);

    const check = createRuntime({ dataDir, apiDomain: gw.url, clock: offsetClock(offsetMs), startWorkers: false, printer: 'none', fleet: false });
    try {
      const rows = databaseOf(check).prepare('SELECT id, client_sn, state, error_code FROM payments ORDER BY id').all() as Array<{ id: number; client_sn: string; state: string; error_code: string | null }>;
      const oneSided: string[] = [];
      const doubleCharges: string[] = [];
      const mismatches: string[] = [];
      const ours = new Set(rows.map((r) => r.client_sn));
      for (const o of gw.orders()) {
        if (!ours.has(o.clientSn)) continue;
        if (o.orderStatus === 'CREATED' || o.orderStatus === 'PAY_ERROR' || o.orderStatus === 'CANCEL_ERROR') oneSided.push(`${o.clientSn}:${o.orderStatus}`);
      }
      for (const r of rows) {
        const n = gw.counters(r.client_sn);
        if (n.pay + n.precreate > 1) doubleCharges.push(`${r.client_sn}: sent ${n.pay + n.precreate} times`);
        const status = n.orderStatus;
        const ok =
          (r.state === 'paid' && status === 'PAID') ||
          (r.state === 'canceled' && status === 'CANCELED') ||
          (r.state === 'failed' && (status === null || status === 'PAY_CANCELED'));
        if (!ok) mismatches.push(`${r.client_sn}: local ${r.state}, gateway ${status ?? 'none'}`);
        if (status === 'PAID' && r.state !== 'paid') mismatches.push(`${r.client_sn}: money taken, not recorded paid`);
      }
      const count = (s: string) => rows.filter((r) => r.state === s).length;
      return {
        seed: options.seed,
        kills,
        attempts: rows.length,
        paid: count('paid'),
        canceled: count('canceled'),
        failed: count('failed'),
        returned: rows.filter((r) => r.state === 'canceled' && r.error_code === 'REVERSED').length,
        oneSided,
        doubleCharges,
        mismatches,
        open: rows.filter((r) => !['paid', 'failed', 'canceled'].includes(r.state)).length,
        elapsedMs: Date.now() - started,
      };
    } finally {
      await check.close();
    }
  } finally {
    await sandbox.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
