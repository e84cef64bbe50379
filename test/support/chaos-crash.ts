/**
 * SIGKILL crash loop: a worker process (dist/test/support/chaos-worker.js)
 * revokes orders on a shared data dir against a sandbox in this process and
 * is killed at random moments — during start-up, with requests in flight
 * (delayed answers), after the effect before the answer (drop_after,
 * reset_mid_body) — and restarted. New paid orders arrive between kills, so
 * kills keep landing on work. In the end one clean worker run finishes the
 * queue and every order must be voided exactly once at the gateway (once for
 * eligible ones, never for refused ones), with exactly one `revoked` row and
 * exactly one original print job per revoked row. Every fourth order is an
 * earlier day's: the worker refunds half of it (faults hit refunds too), and
 * each must be refunded exactly once at the gateway, never twice. Each run
 * also takes 1-3 barcode and QR payments (chaos-pay.ts) under a payment
 * fault (PAY_IN_PROGRESS for K queries or for good, PAY_FAIL, PAY_FAIL_ERROR,
 * lost answers, CANCEL_ERROR), the customer pays some QR codes, and the next
 * runs revoke the orders those payments took: in the end 0 one-sided
 * transactions, 0 double charges, 0 payments recorded paid that the gateway
 * does not show PAID (checkPayTruth), and the orders of paid payments agree
 * with the gateway (checkMixedTruth).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRuntime, databaseOf } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import type { Fault } from '../../main/sandbox/gateway';
import { activate, checkMixedTruth, checkTruth, middayOffset, offsetClock, seedPaid, tempDir, type TruthReport } from './chaos-env';
import { checkPayTruth, customerPaysSome, emptyPayTruth, PAY_FAULTS, type PayTruth } from './chaos-pay';
import { prng } from './chaos-network';

export interface CrashResult {
  seed: number;
  kills: number;
  killedBeforeReady: number;
  killedWithFault: number;
  orders: number;
  eligible: number;
  final: TruthReport;
  finalLine: string;
  revokedRows: number;
  duplicateRevokedRows: number;
  printJobProblems: string[];
  missingEffects: string[];
  effectsOnRefused: string[];
  lost: string[];
  /** Orders a person must look at (needs_attention) while the gateway shows them untouched. */
  needsAttention: string[];
  /** Earlier days' orders refunded by the worker. */
  refundOrders: number;
  refundedRows: number;
  /** Orders refunded more than once at the gateway. */
  doubleRefunds: string[];
  /** Refund orders whose gateway state and local rows disagree (or not refunded once). */
  refundMismatches: string[];
  /** Every payment the workers took, against the gateway. */
  pay: PayTruth;
  /** Kills after `ready` (the run's payments, revokes and refunds under way); orders of paid payments that disagree with the gateway. */
  killedWithPayments: number;
  payOrderContradictions: string[];
  elapsedMs: number;
}

export const WORKER = path.resolve(__dirname, '../../dist/test/support/chaos-worker.js');

export async function runCrashLoop(options: { kills: number; seed: number; log?: (l: string) => void }): Promise<CrashResult> {
  if (!fs.existsSync(WORKER)) throw new Error(`${WORKER} is missing: run npm run build first`);
  const started = Date.now();
  const rand = prng(options.seed);
  const log = options.log ?? (() => {});
  const offsetMs = middayOffset();
  const clock = offsetClock(offsetMs);
  const dataDir = tempDir('upay-pos-crash-');
  let sandbox: Sandbox | undefined;
  let stopPaying = () => {};
  const result: CrashResult = {
    seed: options.seed,
    kills: 0,
    killedBeforeReady: 0,
    killedWithFault: 0,
    orders: 0,
    eligible: 0,
    final: { checked: 0, mismatches: [], doubleEffects: [], revoked: 0, notRevoked: 0, needsAttentionPaid: 0 },
    finalLine: '',
    revokedRows: 0,
    duplicateRevokedRows: 0,
    printJobProblems: [],
    missingEffects: [],
    effectsOnRefused: [],
    lost: [],
    needsAttention: [],
    refundOrders: 0,
    refundedRows: 0,
    doubleRefunds: [],
    refundMismatches: [],
    pay: emptyPayTruth(),
    killedWithPayments: 0,
    payOrderContradictions: [],
    elapsedMs: 0,
  };
  try {
    sandbox = await createSandbox({ clock });
    const gw = sandbox.gateway;
    // The test's own handle on the data dir: records paid orders (the host app) and reads the end state.
    const rt = createRuntime({ dataDir, apiDomain: gw.url, clock, printer: 'none', startWorkers: false });
    const terminalSn = await activate(rt, gw);
    const sns: string[] = [];
    const refundSns: string[] = [];
    const refused = new Set<string>();
    let n = 0;
    const addOrders = (k: number) => {
      for (let i = 0; i < k; i++) {
        if (n % 4 === 3) {
          refundSns.push(seedPaid(rt, gw, terminalSn, n++, { finishedAt: clock.now() - 2 * 86_400_000 }).sn);
          continue;
        }
        const promo = n % 12 === 10;
        const o = seedPaid(rt, gw, terminalSn, n++, promo ? { promotion: true } : {});
        sns.push(o.sn);
        if (promo) refused.add(o.sn);
      }
    };
    addOrders(20);
    const args = { dataDir, apiDomain: gw.url, offsetMs, printer: sandbox.printer.uri, concurrency: 4 };

    const spawnWorker = (payments = 0) => {
      const child = spawn(process.execPath, [WORKER, JSON.stringify({ ...args, payments })], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      return { child, exited, output: () => out };
    };

    stopPaying = customerPaysSome(gw, rand);
    for (let k = 0; k < options.kills; k++) {
      addOrders(1 + Math.floor(rand() * 3));
      gw.clearFaults();
      // A payment fault each run (the payments' own endpoints, and the query the other kinds share).
      const [payEndpoint, payFault] = PAY_FAULTS[Math.floor(rand() * PAY_FAULTS.length)]!;
      gw.inject(payEndpoint, payFault, 1 + Math.floor(rand() * 3));
      const faulty = rand() < 0.6;
      if (faulty) {
        const fault: Fault = [
          { kind: 'delay', ms: 50 + Math.floor(rand() * 300) } as Fault,
          { kind: 'drop_after' } as Fault,
          { kind: 'reset_mid_body' } as Fault,
          { kind: 'malformed_json' } as Fault,
          { kind: 'delay', ms: 500 } as Fault,
        ][Math.floor(rand() * 5)]!;
        const r = rand();
        gw.inject(r < 0.5 ? 'revoke' : r < 0.8 ? 'refund' : 'query', fault, 1 + Math.floor(rand() * 4));
        result.killedWithFault++;
      }
      const w = spawnWorker(1 + Math.floor(rand() * 3));
      const killAt = 100 + Math.floor(rand() * 1_000);
      await new Promise((r) => setTimeout(r, killAt));
      if (!w.output().includes('ready')) result.killedBeforeReady++;
      else result.killedWithPayments++;
      w.child.kill('SIGKILL');
      await w.exited;
      if (/fatal|error /.test(w.output())) log(`worker ${k} said: ${w.output().trim().split('\n').slice(-3).join(' | ')}`);
      result.kills++;
      if (k % 20 === 19) log(`crash loop: ${k + 1}/${options.kills} kills, ${sns.length} orders`);
    }

    stopPaying();
    // One clean run finishes everything.
    gw.clearFaults();
    const last = spawnWorker();
    const timer = setTimeout(() => last.child.kill('SIGKILL'), 90_000);
    const code = await last.exited;
    clearTimeout(timer);
    result.finalLine = `${last.output().trim().split('\n').pop() ?? ''} (exit ${code})`;

    result.orders = sns.length;
    result.eligible = sns.length - refused.size;
    result.final = checkTruth(databaseOf(rt), gw, sns);
    for (const sn of sns) {
      const effects = gw.effects('revoke', sn) + gw.effects('cancel', sn);
      if (refused.has(sn) && effects !== 0) result.effectsOnRefused.push(`${sn}: ${effects}`);
      if (!refused.has(sn) && effects !== 1) result.missingEffects.push(`${sn}: ${effects}`);
      // Lost = no row, or a row still queued/pending/sending after the final run. needs_attention
      // (re-sends exhausted, maxResends, while the gateway shows the order untouched) is a person's job, counted apart.
      const states = (databaseOf(rt).prepare('SELECT state FROM revokes WHERE order_sn = ?').all(sn) as Array<{ state: string }>).map((r) => r.state);
      if (states.some((st) => st === 'needs_attention')) result.needsAttention.push(`${sn} (gateway ${gw.getOrder(sn)?.orderStatus})`);
      else if (!states.some((st) => st === 'revoked' || st === 'rejected')) result.lost.push(`${sn}: ${JSON.stringify(states)}`);
    }
    const revoked = databaseOf(rt).prepare("SELECT id, order_sn FROM revokes WHERE state = 'revoked'").all() as Array<{ id: number; order_sn: string }>;
    result.revokedRows = revoked.length;
    result.duplicateRevokedRows = revoked.length - new Set(revoked.map((r) => r.order_sn)).size;
    result.refundOrders = refundSns.length;
    const refundRows = databaseOf(rt).prepare('SELECT state, amount_cents FROM refunds WHERE order_sn = ?');
    const localOrder = databaseOf(rt).prepare('SELECT status, net_cents, total_cents FROM orders WHERE sn = ?');
    for (const sn of refundSns) {
      const effects = gw.effects('refund', sn);
      const truth = gw.getOrder(sn)!;
      const rows = refundRows.all(sn) as Array<{ state: string; amount_cents: number }>;
      const local = localOrder.get(sn) as { status: string; net_cents: number; total_cents: number };
      const refundedRows = rows.filter((x) => x.state === 'refunded').length;
      result.refundedRows += refundedRows;
      if (effects > 1 || truth.refunds.length > 1) result.doubleRefunds.push(`${sn}: ${effects} effects, ${truth.refunds.length} refunds at the gateway`);
      const half = Math.floor(local.total_cents / 2);
      if (effects !== 1 || refundedRows !== 1 || truth.refundedCents !== half || local.net_cents !== truth.netCents || local.status !== truth.orderStatus) {
        result.refundMismatches.push(`${sn}: gateway ${truth.orderStatus} net ${truth.netCents} (${effects} effects), local ${local.status} net ${local.net_cents} rows ${JSON.stringify(rows)}`);
      }
      const refundJobs = databaseOf(rt).prepare("SELECT count(*) FROM print_jobs WHERE kind = 'refund' AND copy = 0 AND order_sn = ?").pluck().get(sn) as number;
      if (refundJobs !== refundedRows) result.printJobProblems.push(`refund of ${sn}: ${refundJobs} original jobs for ${refundedRows} refunded rows`);
    }
    const jobsOf = databaseOf(rt).prepare('SELECT count(*) AS n FROM print_jobs WHERE revoke_id = ? AND copy = 0');
    for (const r of revoked) {
      const j = (jobsOf.get(r.id) as { n: number }).n;
      if (j !== 1) result.printJobProblems.push(`revoke ${r.id} (${r.order_sn}): ${j} original jobs`);
    }
    result.pay = checkPayTruth(databaseOf(rt), gw);
    const paidOrders = databaseOf(rt).prepare("SELECT order_sn FROM payments WHERE state = 'paid' AND order_sn != ''").pluck().all() as string[];
    const payOrders = checkMixedTruth(databaseOf(rt), gw, paidOrders);
    result.payOrderContradictions = [...payOrders.contradictions, ...payOrders.doubleEffects];
    await rt.close();
  } finally {
    stopPaying();
    await sandbox?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
