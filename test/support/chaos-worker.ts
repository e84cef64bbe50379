/**
 * The crash-test worker (compiled to dist/test/support/chaos-worker.js): opens
 * the runtime on a shared data dir, lets start() resume what a killed
 * predecessor left, and revokes every paid order of today that has no final
 * revoke yet (the orders its payments took included) and refunds half of
 * every earlier day's order that has no final refund yet, and meanwhile takes
 * `payments` new barcode and QR payments, against a sandbox gateway running
 * in the test process. start() resumes what a killed predecessor left (a
 * payment: query first, then cancel). The test SIGKILLs it at random moments
 * and starts it again.
 *
 * argv[2]: JSON { dataDir, apiDomain, offsetMs, printer, concurrency, payments }
 * stdout: `ready`, `sent <clientSn> <state>` per payment, then `done <revoked> <rejected> ...` when nothing is open.
 */
import { businessDay } from '../../main/common/time';
import { createRuntime, databaseOf } from '../../main/runtime';
import { CHAOS_TIMING, offsetClock, settle, shortConnectAgent } from './chaos-env';
import { CHAOS_PAY_TIMING, CHAOS_WHO, payInput, settlePayments } from './chaos-pay';

interface WorkerArgs {
  dataDir: string;
  apiDomain: string;
  offsetMs: number;
  printer: string;
  concurrency?: number;
  /** New payments to take in this run (none in the final run). */
  payments?: number;
}

async function run(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
  const rt = createRuntime({
    dataDir: args.dataDir,
    apiDomain: args.apiDomain,
    clock: offsetClock(args.offsetMs),
    timing: CHAOS_TIMING,
    payTiming: CHAOS_PAY_TIMING,
    timeoutMs: 1_000,
    dispatcher: shortConnectAgent(300),
    printer: args.printer,
    printWorker: { backoffBaseMs: 20, backoffMaxMs: 200, pollMs: 50 },
    concurrency: 4,
  });
  process.stdout.write('ready\n');
  const today = businessDay(rt.clock.now());
  const todo = databaseOf(rt)
    .prepare(
      `SELECT sn, business_day = ? AS today, total_cents FROM orders o WHERE (business_day = ? AND status = 'PAID'
         AND NOT EXISTS (SELECT 1 FROM revokes r WHERE r.order_sn = o.sn AND r.state IN ('revoked', 'rejected')))
         OR (business_day < ? AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.order_sn = o.sn))
       ORDER BY random()`,
    )
    .all(today, today, today) as Array<{ sn: string; today: number; total_cents: number }>;
  const lanes = Math.max(1, args.concurrency ?? 4);
  let next = 0;
  // The payments' lane, beside the revokes and refunds: the kills land on all three kinds.
  const paying = (async () => {
    for (let i = 0; i < (args.payments ?? 0); i++) {
      try {
        const p = await rt.payments.request(payInput(i), CHAOS_WHO, 'chaos-worker');
        process.stdout.write(`sent ${p.clientSn} ${p.state}\n`);
      } catch (err) {
        process.stdout.write(`error pay ${(err as Error).message}\n`);
      }
    }
  })();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < todo.length) {
        const { sn, today: sameDay, total_cents } = todo[next++]!;
        try {
          // An earlier day's order: half of it refunded, asked for once (a row of it, in any state, is worked by the
          // outbox); asking again after it applied would be a second, legitimate, refund: a cashier sees it done.
          if (sameDay) await rt.revokes.request({ sn }, 'chaos', 'chaos-worker');
          else await rt.refunds.request({ sn }, Math.floor(total_cents / 2), CHAOS_WHO, 'chaos-worker');
        } catch (err) {
          process.stdout.write(`error ${sn} ${(err as Error).message}\n`);
        }
      }
    }),
  );
  await paying;
  const s = await settle(rt, 30_000);
  const payOpen = await settlePayments(rt, 30_000);
  await rt.printing.worker.drainOnce().catch(() => undefined);
  const counts = databaseOf(rt).prepare("SELECT sum(state = 'revoked') AS revoked, sum(state = 'rejected') AS rejected FROM revokes").get() as {
    revoked: number | null;
    rejected: number | null;
  };
  const refunded = databaseOf(rt).prepare("SELECT count(*) FROM refunds WHERE state = 'refunded'").pluck().get() as number;
  process.stdout.write(`done ${counts.revoked ?? 0} ${counts.rejected ?? 0} refunded=${refunded} open=${s.open} na=${s.needsAttention} payments_open=${payOpen}\n`);
  await rt.close();
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stdout.write(`fatal ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
