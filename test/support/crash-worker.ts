/**
 * A runtime in its own process for the SIGKILL crash tests: it revokes one
 * order (or just resumes) and kills itself with SIGKILL at the named
 * checkpoint, exactly as a power cut would stop it.
 * env: DATA_DIR, API, PRINTER, CRASH_AT (checkpoint or 'none'), SN (order to revoke; empty = resume only)
 */
import { createRuntime } from '../../main/runtime';

const env = process.env;
const crashAt = env.CRASH_AT ?? 'none';
const rt = createRuntime({
  dataDir: env.DATA_DIR!,
  apiDomain: env.API!,
  printer: env.PRINTER ?? 'none',
  timeoutMs: Number(env.TIMEOUT_MS ?? 3000),
  timing: { firstQueryMs: 30, queryEveryMs: 60, pendingWindowMs: 3000, backoffBaseMs: 30, backoffCapMs: 200 },
  printWorker: { backoffBaseMs: 50, backoffMaxMs: 200, pollMs: 100 },
  checkpoint: (point) => {
    if (point === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});

async function run(): Promise<void> {
  for (const sn of (env.SN ?? '').split(',').filter(Boolean)) {
    const r = await rt.revokes.request({ sn }, 'crash-test', 'test');
    process.stdout.write(`${JSON.stringify({ id: r.id, state: r.state })}\n`);
  }
  process.stdout.write('ready\n');
  // The engine's timers do not hold the process open; this does, until we are told to stop.
  const keepAlive = setInterval(() => undefined, 1000);
  // Stay alive (working the queue) until the parent kills or stops us.
  await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  clearInterval(keepAlive);
  await rt.close();
}

void run();
