/**
 * Test harness: a real runtime on a temp data dir, talking real HTTP to the
 * sandbox gateway and printing over TCP to the virtual printer, with an
 * activated terminal. Only the clock may be faked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../main/runtime';
import { createSandbox, paidOrderInput, type Sandbox } from '../../main/sandbox';
import type { SandboxOrder, SeedOrderInput } from '../../main/sandbox/gateway';
import type { Clock } from '../../main/common/time';
import type { PosError } from '../../main/errors';

export const FAST_TIMING = { firstQueryMs: 30, queryEveryMs: 60, pendingWindowMs: 1500, backoffBaseMs: 30, backoffCapMs: 200 } as const;

export function tempDir(prefix = 'upay-pos-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Harness {
  sandbox: Sandbox;
  rt: Runtime;
  dataDir: string;
  terminalSn: string;
  /** Seeds a paid order in the sandbox and records it locally. */
  paidOrder(input?: Partial<SeedOrderInput>): SandboxOrder;
  runtime(extra?: Partial<RuntimeOptions>): Runtime;
  close(): Promise<void>;
}

export async function createHarness(
  options: { clock?: Clock; runtime?: Partial<RuntimeOptions>; sandbox?: Parameters<typeof createSandbox>[0] } = {},
): Promise<Harness> {
  // Strict: keys expire each natural day (UTC+8), as on the real gateway.
  const sandbox = await createSandbox({
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.sandbox,
    gateway: { strict: true, ...options.sandbox?.gateway },
  });
  const dataDir = tempDir();
  const runtimes: Runtime[] = [];
  const make = (extra: Partial<RuntimeOptions> = {}) => {
    const r = createRuntime({
      dataDir,
      apiDomain: sandbox.gateway.url,
      printer: 'virtual',
      virtualPrinterUri: sandbox.printer.uri,
      timing: FAST_TIMING,
      ...(options.clock ? { clock: options.clock } : {}),
      printWorker: { backoffBaseMs: 50, backoffMaxMs: 200, pollMs: 100 },
      ...options.runtime,
      ...extra,
    });
    runtimes.push(r);
    return r;
  };
  const rt = make();
  const v = sandbox.gateway.vendor;
  await rt.terminal.activate({ appId: v.appId, code: sandbox.gateway.activationCodes()[0]!, deviceId: 'test-counter', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
  await rt.terminal.checkin('test');
  const terminalSn = rt.terminal.info()!.terminalSn;
  sandbox.gateway.clearLog();
  let n = 0;
  return {
    sandbox,
    rt,
    dataDir,
    terminalSn,
    paidOrder(input = {}) {
      const o = sandbox.gateway.seedOrder({ terminalSn, totalCents: 1000 + n++, subject: '测试商品', operator: 'op', ...input });
      rt.orders.record(paidOrderInput(o));
      return o;
    },
    runtime: make,
    async close() {
      for (const r of runtimes) await r.close();
      await sandbox.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `fn` returns a truthy value or the time is up. */
/** Closes the extra runtimes a test started (another till) and removes their data dirs; empties the list. */
export async function closeExtra(extra: Array<{ rt: Runtime; dir: string }>): Promise<void> {
  for (const x of extra.splice(0)) {
    await x.rt.close();
    fs.rmSync(x.dir, { recursive: true, force: true });
  }
}

export async function until<T>(fn: () => T | undefined | null | false, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** What `p` rejected with; throws when it resolves. */
export async function rejection<E = PosError>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected a rejection');
}
