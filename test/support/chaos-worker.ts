/**
 * The crash-test worker (compiled to dist/test/support/chaos-worker.js): opens
 * the runtime on a shared data dir, lets start() resume what a killed
 * predecessor left, and revokes every paid order of today that has no final
 * revoke yet and refunds half of every earlier day's order that has no final
 * refund yet, against a sandbox gateway running in the test process. The
 * test SIGKILLs it at random moments and starts it again.
 *
 * argv[2]: JSON { dataDir, apiDomain, offsetMs, printer, concurrency }
 * stdout: `ready`, then `done <revoked> <rejected>` when nothing is open.
 */
import { businessDay } from '../../main/common/time';
import { createRuntime, databaseOf } from '../../main/runtime';
import { CHAOS_TIMING, offsetClock, settle, shortConnectAgent } from './chaos-env';

interface WorkerArgs {
  dataDir: string;
  apiDomain: string;
  offsetMs: number;
  printer: string;
  concurrency?: number;
}

async function run(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
  const rt = createRuntime({
    dataDir: args.dataDir,
    apiDomain: args.apiDomain,
    clock: offsetClock(args.offsetMs),
    timing: CHAOS_TIMING,
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
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < todo.length) {
        const { sn, today: sameDay, total_cents } = todo[next++]!;
        try {
          // An earlier day's order: half of it refunded, asked for once (a row of it, in any state, is worked by the
          // outbox); asking again after it applied would be a second, legitimate, refund: a cashier sees it done.
          if (sameDay) await rt.revokes.request({ sn }, 'chaos', 'chaos-worker');
          else await rt.refunds.request({ sn }, Math.floor(total_cents / 2), { operatorId: null, operatorName: 'chaos', approverId: null, approverName: null }, 'chaos-worker');
        } catch (err) {
          process.stdout.write(`error ${sn} ${(err as Error).message}\n`);
        }
      }
    }),
  );
  const s = await settle(rt, 30_000);
  await rt.printing.worker.drainOnce().catch(() => undefined);
  const counts = databaseOf(rt).prepare("SELECT sum(state = 'revoked') AS revoked, sum(state = 'rejected') AS rejected FROM revokes").get() as {
    revoked: number | null;
    rejected: number | null;
  };
  const refunded = databaseOf(rt).prepare("SELECT count(*) FROM refunds WHERE state = 'refunded'").pluck().get() as number;
  process.stdout.write(`done ${counts.revoked ?? 0} ${counts.rejected ?? 0} refunded=${refunded} open=${s.open} na=${s.needsAttention}\n`);
  await rt.close();
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stdout.write(`fatal ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
