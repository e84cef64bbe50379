/**
 * The payment crash-test worker (compiled to dist/test/support/chaos-pay-worker.js):
 * opens the runtime on a shared data dir (start() resumes what a killed
 * predecessor left: query first, then cancel), takes `payments` new payments
 * (barcode and QR, against a sandbox in the test process whose faults the
 * test switches), then waits until no payment is open. The test SIGKILLs it
 * at random moments and starts it again.
 *
 * argv[2]: JSON { dataDir, apiDomain, offsetMs, payments }
 * stdout: `ready`, `paid <clientSn>` / `sent <clientSn>` per request, then `done open=<n>`.
 */
import { createRuntime } from '../../main/runtime';
import { CHAOS_TIMING, offsetClock, shortConnectAgent, sleep } from './chaos-env';

export const CHAOS_PAY_TIMING = {
  payWindowMs: 400,
  payQueryEveryMs: 40,
  qrFastMs: 30,
  qrFastForMs: 100,
  qrSlowMs: 60,
  qrLifetimeMs: 300,
  cancelRetryMs: 20,
  cancelRetryCapMs: 100,
  maxCancels: 3,
  attentionEveryMs: 100,
  leaseMs: 3_000,
} as const;

interface Args {
  dataDir: string;
  apiDomain: string;
  offsetMs: number;
  payments: number;
}

async function run(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const rt = createRuntime({
    dataDir: args.dataDir,
    apiDomain: args.apiDomain,
    clock: offsetClock(args.offsetMs),
    timing: CHAOS_TIMING,
    payTiming: CHAOS_PAY_TIMING,
    timeoutMs: 1_000,
    dispatcher: shortConnectAgent(300),
    printer: 'none',
    recheck: { everyMs: 150, probeEveryMs: 100 },
    fleet: false,
  });
  process.stdout.write('ready\n');
  const who = { operatorId: null, operatorName: 'chaos', approverId: null, approverName: null };
  for (let i = 0; i < args.payments; i++) {
    const qr = i % 3 === 2;
    try {
      const p = await rt.payments.request(
        qr ? { amountCents: 100 + i, method: 'qr', payway: '3' } : { amountCents: 100 + i, method: 'barcode', barcode: '134567890123456789' },
        who,
        'chaos-pay-worker',
      );
      process.stdout.write(`sent ${p.clientSn} ${p.state}\n`);
    } catch (err) {
      process.stdout.write(`error ${(err as Error).message}\n`);
    }
  }
  const end = Date.now() + 30_000;
  while (rt.payments.open().length > 0 && Date.now() < end) {
    await rt.payments.wakeAll();
    await sleep(100);
  }
  process.stdout.write(`done open=${rt.payments.open().length}\n`);
  await rt.close();
}

if (require.main === module) {
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stdout.write(`fatal ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
