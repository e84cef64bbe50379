/**
 * `upay-pos` end to end, as store IT use it from a shell: the built bin
 * (dist/main/cli.js) runs as a child process with --json, and stdout must be
 * exactly one JSON document; progress goes to stderr; exit codes follow the
 * contract (0 success, 2 invalid input/usage, 3 rejected/expired, 4 not final,
 * 1 anything else).
 *
 * - Most of the flow talks to `upay-pos sandbox --json` running in ANOTHER
 *   process (gateway + virtual printer). Orders are paid the way a host app
 *   pays them: a runtime in this test process opens the same data dir (so it
 *   can sign with the terminal key without ever seeing it) and calls
 *   `client.pay` over HTTP against that sandbox; the CLI then imports and
 *   revokes them. No direct seeding across processes is needed.
 * - What needs the sandbox's direct helpers (a promotion order; proving that
 *   invalid input sends no request) uses an in-process sandbox: the CLI child
 *   still talks HTTP to it.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import { LATEST_VERSION } from '../../main/store/migrate';
import { UpayClient } from '../../main/upay/client';
import { businessDay, ManualClock } from '../../main/common/time';
import {
  cliEnv,
  closedPort,
  describeRun,
  ensureCliBuilt,
  oneJson,
  removeCliSnapshot,
  runCli,
  startSandboxProcess,
  type CliResult,
  type SandboxProcess,
} from '../support/cli-run';

interface Json {
  [k: string]: unknown;
}
interface OrderJson {
  sn: string;
  clientSn: string;
  totalCents: number;
  netCents: number;
  status: string;
  businessDay: string;
}
interface RevokeJson {
  outcome: string;
  order: OrderJson | null;
  error: { code: string; message: string; messageZh: string; gatewayCode: string | null; gatewayMessage: string | null } | null;
  receipt: { jobId: number; state: string; copy: boolean; error: string | null; lines: string[] } | null;
  revoke: { id: number; state: string; orderSn: string; attempts: number };
}
interface ErrorJson {
  error: { code: string; message: string; messageZh: string; details?: Record<string, unknown> };
}

let root: string;
let home: string;

beforeAll(() => {
  ensureCliBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-cli-'));
  home = path.join(root, 'home');
  fs.mkdirSync(home);
}, 180_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  removeCliSnapshot();
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs?: number): Promise<CliResult> {
  return runCli(args, { env: cliEnv(env, home), ...(timeoutMs ? { timeoutMs } : {}) });
}

/** Runs with --json, checks the exit code and returns the one JSON document. */
async function json<T = Json>(args: string[], exit: number, env: NodeJS.ProcessEnv = {}): Promise<{ doc: T; run: CliResult }> {
  const run = await cli([...args, '--json'], env);
  expect(run.code, describeRun(run)).toBe(exit);
  return { doc: oneJson<T>(run), run };
}

/** Invalid input: exit 2, one line on stderr naming the problem, one JSON document with the error. */
async function usage(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ErrorJson & { stderr: string }> {
  const { doc, run } = await json<ErrorJson>(args, 2, env);
  const lines = run.stderr.trim().split('\n');
  expect(lines, describeRun(run)).toHaveLength(1);
  expect(lines[0]).toMatch(/^upay-pos: (USAGE|INVALID_INPUT|ALREADY_ACTIVATED): \S/);
  expect(['USAGE', 'INVALID_INPUT']).toContain(doc.error.code);
  return { ...doc, stderr: lines[0]! };
}

const today = () => businessDay(Date.now());
const BARCODE = '134567890123456789';

describe('against `upay-pos sandbox` in another process', () => {
  let sbp: SandboxProcess;
  let dataDir: string;
  let g: string[];
  let terminalSn: string;
  let seq = 0;

  /** Pays in the sandbox process the way a host app does (same data dir, its sealed key), then forgets. */
  async function pay(totalCents: number): Promise<{ sn: string; clientSn: string }> {
    const rt = createRuntime({ dataDir, apiDomain: sbp.doc.gateway, printer: 'none', startWorkers: false });
    try {
      const clientSn = `CLI${process.pid}-${++seq}-${Date.now() % 100_000}`;
      const host = new UpayClient({ apiDomain: rt.apiDomain });
      const res = await host
        .pay(rt.terminal.signer(), { client_sn: clientSn, total_amount: String(totalCents), dynamic_id: BARCODE, subject: '测试商品', operator: 'test' })
        .finally(() => host.close());
      if (!res.ok || res.value.resultCode !== 'PAY_SUCCESS' || !res.value.order?.sn) throw new Error(`pay failed: ${JSON.stringify(res)}`);
      return { sn: res.value.order.sn, clientSn };
    } finally {
      await rt.close();
    }
  }

  beforeAll(async () => {
    // Explicit ports (free a moment ago): retried in the unlikely case someone takes one meanwhile.
    let port = 0;
    let printerPort = 0;
    for (let attempt = 0; ; attempt++) {
      [port, printerPort] = [await closedPort(), await closedPort()];
      try {
        sbp = await startSandboxProcess(['--port', String(port), '--printer-port', String(printerPort)], cliEnv({}, home));
        break;
      } catch (err) {
        if (attempt >= 2) throw err;
      }
    }
    expect(sbp.doc.gateway).toBe(`http://127.0.0.1:${port}`);
    expect(sbp.doc.printer).toBe(`tcp://127.0.0.1:${printerPort}`);
    dataDir = path.join(root, 'store');
    g = ['--data-dir', dataDir, '--api-domain', sbp.doc.gateway, '--printer', sbp.doc.printer];
  }, 60_000);

  afterAll(async () => {
    await sbp?.stop();
  });

  it('sandbox --json printed one JSON document: gateway, printer, vendor, activation codes, control endpoints; the gateway answers', async () => {
    expect(sbp.doc).toEqual({
      gateway: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      printer: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/),
      vendor: { vendorSn: '91801234', vendorKey: '5f2b9c7e1d4a8036b9e0c4d7a2f61e58', appId: '2026112600000001' },
      activationCodes: ['10000001', '10000002', '10000003', '10000004', '10000005'],
      control: {
        customerPay: `${sbp.doc.gateway}/sandbox/customer-pay`,
        counters: `${sbp.doc.gateway}/sandbox/counters?client_sn=`,
        fault: `${sbp.doc.gateway}/sandbox/fault`,
      },
    });
    const body = await new Promise<string>((resolve, reject) => {
      http.get(sbp.doc.gateway + '/', (res) => {
        let b = '';
        res.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(body).toContain('upay-pos sandbox gateway');
  });

  it('activate (global flags before the command), refused again without --force (exit 2), allowed with --force', async () => {
    const v = sbp.doc.vendor;
    const args = ['activate', '--app-id', v.appId, '--code', sbp.doc.activationCodes[0]!, '--device-id', 'counter-1', '--vendor-sn', v.vendorSn, '--vendor-key', v.vendorKey, '--name', '一号收银台'];
    const { doc, run } = await json<{ terminal: Json }>([...g, ...args], 0);
    expect(doc.terminal).toMatchObject({ terminalSn: expect.stringMatching(/^100\d{11}$/), deviceId: 'counter-1', merchantName: '收钱吧沙箱商户', storeName: '沙箱一号店', lastCheckinDay: null });
    expect(run.stdout + run.stderr).not.toContain(v.vendorKey);
    const first = doc.terminal.terminalSn as string;

    const again = await json<ErrorJson>([...g, ...args.map((a) => (a === sbp.doc.activationCodes[0] ? sbp.doc.activationCodes[1]! : a))], 2);
    expect(again.doc.error.code).toBe('ALREADY_ACTIVATED');
    expect(again.doc.error.message).toContain(first);
    expect(again.run.stderr.trim().split('\n')).toHaveLength(1);

    const forced = await json<{ terminal: Json }>([...g, ...args.map((a) => (a === sbp.doc.activationCodes[0] ? sbp.doc.activationCodes[1]! : a)), '--force'], 0);
    terminalSn = forced.doc.terminal.terminalSn as string;
    expect(terminalSn).not.toBe(first);

    // A used code is the gateway's refusal: exit 1, its message verbatim in the details.
    const used = await json<ErrorJson>([...g, ...args, '--force'], 1);
    expect(JSON.stringify(used.doc.error)).toContain('激活码已被使用');
  });

  it('checkin (global flags after the command) rotates the key; status shows it', async () => {
    const { doc } = await json<{ terminal: Json }>(['checkin', ...g], 0);
    expect(doc.terminal).toMatchObject({ terminalSn, lastCheckinDay: today() });

    const status = await json<Json>(['status', ...g], 0);
    expect(status.doc).toMatchObject({
      dataDir,
      apiDomain: sbp.doc.gateway,
      schemaVersion: LATEST_VERSION,
      vault: 'file-aes-256-gcm',
      businessDay: today(),
      terminal: { terminalSn, lastCheckinDay: today() },
      checkedInToday: true,
      queue: { queued: 0, pending: 0, sending: 0, needsAttention: 0 },
      printer: { uri: sbp.doc.printer, state: 'ok' },
      failedPrintJobs: 0,
    });
    expect(status.doc.keyAgeMs).toEqual(expect.any(Number));
    expect(JSON.stringify(status.doc)).not.toMatch(/[0-9a-f]{32}/); // no key in any form
  });

  it('orders import (--client-sn and --sn) and orders list (flags between group and subcommand)', async () => {
    const a = await pay(8800);
    const b = await pay(1999);
    const byClient = await json<{ order: OrderJson }>([...g, 'orders', 'import', '--client-sn', a.clientSn], 0);
    expect(byClient.doc.order).toMatchObject({ sn: a.sn, clientSn: a.clientSn, totalCents: 8800, netCents: 8800, status: 'PAID', businessDay: today() });
    const bySn = await json<{ order: OrderJson }>(['orders', 'import', '--sn', b.sn, ...g], 0);
    expect(bySn.doc.order).toMatchObject({ sn: b.sn, clientSn: b.clientSn, totalCents: 1999 });

    const list = await json<{ day: string; orders: OrderJson[] }>(['orders', '--data-dir', dataDir, 'list'], 0);
    expect(list.doc.day).toBe(today());
    expect(list.doc.orders.map((o) => o.sn)).toEqual(expect.arrayContaining([a.sn, b.sn]));
    const other = await json<{ day: string; orders: OrderJson[] }>(['orders', 'list', '--day', '2020-01-01', '--data-dir', dataDir], 0);
    expect(other.doc).toEqual({ day: '2020-01-01', orders: [] });

    const missing = await json<ErrorJson>([...g, 'orders', 'import', '--sn', '7890000000000000'], 1);
    expect(missing.doc.error.code).toBe('ORDER_NOT_FOUND');
  });

  it('revoke: exit 0, outcome revoked, receipt printed on the other process`s virtual printer; progress on stderr', async () => {
    const o = await pay(4321);
    const { doc, run } = await json<RevokeJson>([...g, 'revoke', '--sn', o.sn, '--operator', '收银员 1'], 0);
    expect(Object.keys(doc).sort()).toEqual(['error', 'order', 'outcome', 'receipt', 'revoke']);
    expect(doc.outcome).toBe('revoked');
    expect(doc.error).toBeNull();
    expect(doc.order).toMatchObject({ sn: o.sn, clientSn: o.clientSn, status: 'CANCELED', netCents: 0 });
    expect(doc.revoke).toMatchObject({ orderSn: o.sn, state: 'revoked', attempts: 1 });
    expect(doc.receipt).toMatchObject({ state: 'printed', copy: false, error: null });
    expect(doc.receipt!.lines.join('\n')).toContain('撤销凭证');
    expect(doc.receipt!.lines.join('\n')).toContain(o.sn);
    expect(run.stderr).toMatch(new RegExp(`revoke \\d+ \\(${o.sn}\\): revoked`));

    // The bytes reached the sandbox process's virtual printer (it echoes each receipt on its stderr).
    await waitFor(() => sbp.stderr().includes(o.sn), 5_000);
    expect(sbp.stderr()).toContain('撤销凭证');

    // A second revoke of the same order returns the successful one (still exit 0).
    const again = await json<RevokeJson>([...g, 'revoke', '--client-sn', o.clientSn], 0);
    expect(again.doc.outcome).toBe('revoked');
    expect(again.doc.revoke.id).toBe(doc.revoke.id);
    expect(again.doc.revoke.attempts).toBe(1);

    // receipt reprint prints a COPY.
    const reprint = await json<{ job: Json }>(['receipt', 'reprint', '--sn', o.sn, ...g], 0);
    expect(reprint.doc.job).toMatchObject({ kind: 'revoke', copy: true, state: 'printed', orderSn: o.sn });
  });

  it('gateway down: revoke is queued (exit 4); queue list shows it; queue drain with the right gateway revokes it (exit 0)', async () => {
    const o = await pay(777);
    await json([...g, 'orders', 'import', '--sn', o.sn], 0);
    const down = `http://127.0.0.1:${await closedPort()}`;
    const common = ['--data-dir', dataDir, '--printer', sbp.doc.printer];

    const queued = await json<RevokeJson>(['revoke', '--sn', o.sn, '--api-domain', down, ...common], 4);
    expect(queued.doc.outcome).toBe('queued');
    expect(queued.doc.error).toMatchObject({ code: 'QUEUED' });
    expect(queued.doc.receipt).toBeNull();
    expect(queued.run.stderr).toContain('queued');

    const list = await json<{ queue: Json; revokes: Array<{ orderSn: string; state: string }> }>(['queue', 'list', ...common], 0);
    expect(list.doc.queue).toMatchObject({ queued: 1, pending: 0 });
    expect(list.doc.revokes).toEqual([expect.objectContaining({ orderSn: o.sn, state: 'queued' })]);

    const drained = await json<{ before: Json; after: Json; revokes: unknown[] }>(['queue', 'drain', '--timeout', '30', '--api-domain', sbp.doc.gateway, ...common], 0);
    expect(drained.doc.before).toMatchObject({ queued: 1 });
    expect(drained.doc.after).toMatchObject({ queued: 0, pending: 0, sending: 0, needsAttention: 0 });
    expect(drained.doc.revokes).toEqual([]);

    const after = await json<RevokeJson>([...g, 'revoke', '--sn', o.sn], 0);
    expect(after.doc.outcome).toBe('revoked');
    expect(after.doc.order?.status).toBe('CANCELED');
    expect(after.doc.receipt).toMatchObject({ state: 'printed', copy: false });
  });

  it('printer status and printer test against the virtual printer; an unreachable printer is exit 1', async () => {
    const status = await json<{ printer: Json }>(['printer', 'status', ...g], 0);
    expect(status.doc.printer).toMatchObject({ uri: sbp.doc.printer, state: 'ok' });
    const test = await json<{ job: Json }>(['printer', 'test', ...g], 0);
    expect(test.doc.job).toMatchObject({ kind: 'test', state: 'printed', copy: false });

    const nowhere = `tcp://127.0.0.1:${await closedPort()}`;
    const bad = await json<{ printer: Json }>(['printer', 'status', '--data-dir', dataDir, '--printer', nowhere], 1);
    expect(bad.doc.printer).toMatchObject({ uri: nowhere });
    expect(bad.doc.printer.state).not.toBe('ok');
  });

  it('errors that are not input errors: exit 1 and still exactly one JSON document', async () => {
    const o = await pay(100);
    await json([...g, 'orders', 'import', '--sn', o.sn], 0);
    const noReceipt = await json<ErrorJson>([...g, 'receipt', 'reprint', '--sn', o.sn], 1);
    expect(noReceipt.doc.error.code).toBe('NO_RECEIPT');

    const fresh = path.join(root, 'never-activated');
    const notActivated = await json<ErrorJson>(['checkin', '--data-dir', fresh, '--api-domain', sbp.doc.gateway], 1);
    expect(notActivated.doc.error.code).toBe('NOT_ACTIVATED');
    expect(notActivated.run.stderr.trim()).toMatch(/^upay-pos: NOT_ACTIVATED: /);
  });

  it('without --json: human text on stdout, errors as one line on stderr and nothing on stdout', async () => {
    const status = await cli(['status', ...g]);
    expect(status.code, describeRun(status)).toBe(0);
    expect(status.stdout).toContain(`terminal     ${terminalSn}`);
    expect(() => JSON.parse(status.stdout) as unknown).toThrow();

    const bad = await cli(['revoke', '--sn', '12ab', ...g]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('stopping the sandbox process with SIGTERM ends it with exit 0', async () => {
    // Last test of this group: afterAll would stop it anyway.
    await sbp.stop();
    expect(sbp.child.exitCode).toBe(0);
  });
});

describe('against an in-process sandbox (the CLI child still talks HTTP to it)', () => {
  let sandbox: Sandbox;
  let dataDir: string;
  let g: string[];
  let terminalSn: string;

  beforeAll(async () => {
    sandbox = await createSandbox();
    dataDir = path.join(root, 'store-inproc');
    g = ['--data-dir', dataDir, '--api-domain', sandbox.gateway.url, '--printer', sandbox.printer.uri];
    const v = sandbox.gateway.vendor;
    const act = await json<{ terminal: { terminalSn: string } }>(
      [...g, 'activate', '--app-id', v.appId, '--code', sandbox.gateway.activationCodes()[0]!, '--device-id', 'counter-2', '--vendor-sn', v.vendorSn, '--vendor-key', v.vendorKey],
      0,
    );
    terminalSn = act.doc.terminal.terminalSn;
    await json([...g, 'checkin'], 0);
  }, 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('revoke of a promotion order: CANCEL_ERROR confirmed by a query (--wait): exit 3, outcome rejected, the gateway code and message verbatim', async () => {
    const promo = sandbox.gateway.seedOrder({ terminalSn, totalCents: 1999, promotion: true, subject: '活动商品' });
    sandbox.gateway.clearLog();
    const { doc, run } = await json<RevokeJson>([...g, 'revoke', '--sn', promo.sn, '--wait', '30'], 3);
    expect(doc.outcome).toBe('rejected');
    expect(doc.receipt).toBeNull();
    expect(doc.order).toMatchObject({ sn: promo.sn, status: 'PAID' });
    expect(doc.error).toMatchObject({ gatewayCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE', gatewayMessage: `订单${promo.sn}参与了活动并且无法撤销` });
    expect(doc.error!.code).toEqual(expect.any(String));
    expect(run.stderr).toContain('rejected');
    expect(sandbox.gateway.effects('revoke', promo.sn)).toBe(0);
    expect(sandbox.gateway.getOrder(promo.sn)?.orderStatus).toBe('PAID');
    expect(sandbox.gateway.log().filter((e) => e.endpoint === 'revoke')).toHaveLength(1);
  });

  it('invalid input: exit 2, a one-line reason, one JSON document, and no gateway request at all', async () => {
    const order = sandbox.gateway.seedOrder({ terminalSn, totalCents: 500 });
    const sn = order.sn;
    const v = sandbox.gateway.vendor;
    sandbox.gateway.clearLog();
    const cases: Array<{ args: string[]; says: RegExp }> = [
      { args: ['frobnicate'], says: /unknown command "frobnicate"/ },
      { args: ['orders'], says: /unknown command "orders"/ },
      { args: ['revoke', '--sn', sn, '--bogus'], says: /--bogus/ },
      { args: ['revoke', '--sn', '12ab34'], says: /sn/ },
      { args: ['revoke', '--sn', sn, '--client-sn', order.clientSn], says: /exactly one of --sn or --client-sn/ },
      { args: ['revoke'], says: /exactly one of --sn or --client-sn/ },
      { args: ['revoke', '--sn', sn, 'now'], says: /unexpected argument "now"/ },
      { args: ['revoke', '--sn', sn, '--wait', '-1'], says: /--wait/ },
      { args: ['revoke', '--sn', sn, '--printer', 'ftp://x'], says: /--printer.*ftp/ },
      { args: ['revoke', '--sn', sn, '--api-domain', 'not a url'], says: /--api-domain/ },
      { args: ['orders', 'import', '--sn', sn, '--timeout-ms', 'abc'], says: /--timeout-ms/ },
      { args: ['orders', 'import', '--sn', sn, '--timeout-ms', '50'], says: /--timeout-ms/ },
      { args: ['orders', 'list', '--day', '2026-13-01'], says: /--day/ },
      { args: ['orders', 'list', '--day', '2026-02-30'], says: /--day/ },
      { args: ['queue', 'drain', '--timeout', 'soon'], says: /--timeout/ },
      { args: ['activate', '--app-id', v.appId, '--device-id', 'd', '--vendor-sn', v.vendorSn, '--vendor-key', v.vendorKey, '--force'], says: /--code.*required/ },
    ];
    // Independent runs: a few at a time keeps this quick.
    for (let i = 0; i < cases.length; i += 6) {
      await Promise.all(
        cases.slice(i, i + 6).map(async (c) => {
          const r = await usage([...g, ...c.args]);
          expect(r.stderr, c.args.join(' ')).toMatch(c.says);
          expect(r.error.message, c.args.join(' ')).toMatch(c.says);
        }),
      );
    }
    expect(sandbox.gateway.log()).toEqual([]);
    expect(sandbox.gateway.getOrder(sn)?.orderStatus).toBe('PAID');

    // Invalid input never touches the data dir either.
    const untouched = path.join(root, 'untouched');
    await usage(['revoke', '--sn', '12ab', '--data-dir', untouched]);
    expect(fs.existsSync(untouched)).toBe(false);
  });

  /** Yesterday (UTC+8) the app took payments and queued their revokes while the gateway was down. */
  async function staleQueuedRevokes(dir: string, count: number): Promise<string[]> {
    const yesterday = new ManualClock(Date.now() - 86_400_000);
    const v = sandbox.gateway.vendor;
    const setup = createRuntime({ dataDir: dir, apiDomain: sandbox.gateway.url, clock: yesterday, printer: 'none', startWorkers: false });
    await setup.terminal.activate({ appId: v.appId, code: sandbox.gateway.activationCodes()[0]!, deviceId: 'counter-3', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
    await setup.terminal.checkin('test');
    const sns: string[] = [];
    for (let i = 0; i < count; i++) {
      const o = sandbox.gateway.seedOrder({ terminalSn: setup.terminal.info()!.terminalSn, totalCents: 990 + i, finishedAt: yesterday.now() });
      setup.orders.record({ sn: o.sn, clientSn: o.clientSn, totalCents: o.totalCents, finishedAt: o.finishTime, status: 'PAID' });
      sns.push(o.sn);
    }
    await setup.close();
    const offline = createRuntime({ dataDir: dir, apiDomain: `http://127.0.0.1:${await closedPort()}`, clock: yesterday, printer: 'none', startWorkers: false });
    for (const sn of sns) expect((await offline.revokes.request({ sn }, '收银员 1', 'app')).state).toBe('queued');
    await offline.close();
    return sns;
  }

  it('a revoke queued yesterday expires without a request: revoke --wait reports expired (exit 3); a new one is refused NOT_TODAY (exit 3)', async () => {
    const dir = path.join(root, 'store-expired');
    const [first, second] = (await staleQueuedRevokes(dir, 2)) as [string, string];
    sandbox.gateway.clearLog();
    const args = ['--data-dir', dir, '--api-domain', sandbox.gateway.url, '--printer', 'none'];

    const expired = await json<RevokeJson>(['revoke', '--sn', first, '--wait', '10', ...args], 3);
    expect(expired.doc.outcome).toBe('expired');
    expect(expired.doc.error).toMatchObject({ code: 'EXPIRED' });
    expect(expired.doc.receipt).toBeNull();

    // That process's outbox expired every stale queued revoke, the second one too: nothing is open.
    expect((await json<{ revokes: unknown[] }>(['queue', 'list', ...args], 0)).doc.revokes).toEqual([]);
    const drained = await json<{ before: Json; after: Json }>(['queue', 'drain', '--timeout', '10', ...args], 0);
    expect(drained.doc.after).toMatchObject({ queued: 0, pending: 0, needsAttention: 0 });
    // Revoking yesterday's order again is refused by the same-day rule, before any request (exit 3).
    const again = await json<RevokeJson>(['revoke', '--sn', second, ...args], 3);
    expect(again.doc.outcome).toBe('rejected');
    expect(again.doc.error).toMatchObject({ code: 'NOT_TODAY', gatewayCode: null });

    expect(sandbox.gateway.log().filter((e) => e.endpoint === 'revoke' || e.endpoint === 'cancel')).toEqual([]);
    expect(sandbox.gateway.getOrder(first)?.orderStatus).toBe('PAID');
    expect(sandbox.gateway.getOrder(second)?.orderStatus).toBe('PAID');
  });

  it('revoke query reports an expired revoke (exit 3)', async () => {
    const dir = path.join(root, 'store-expired-query');
    const [sn] = (await staleQueuedRevokes(dir, 1)) as [string];
    const args = ['--data-dir', dir, '--api-domain', sandbox.gateway.url, '--printer', 'none'];
    await json(['queue', 'drain', '--timeout', '10', ...args], 0);
    const query = await json<RevokeJson>(['revoke', 'query', '--sn', sn, ...args], 3);
    expect(query.doc.outcome).toBe('expired');
  });

  it('--help and --version', async () => {
    const help = await json<{ usage: string }>(['--help'], 0);
    for (const cmd of ['activate', 'checkin', 'status', 'orders list', 'orders import', 'revoke', 'queue list', 'queue drain', 'receipt reprint', 'printer status', 'sandbox', 'demo']) {
      expect(help.doc.usage).toContain(cmd);
    }
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('global flags: env fallbacks and precedence flag > env > stored setting > default', () => {
  const status = async (args: string[], env: NodeJS.ProcessEnv = {}) => (await json<{ dataDir: string; apiDomain: string; printer: { uri: string; state: string } }>(['status', ...args], 0, env)).doc;

  it('data dir, gateway and printer', async () => {
    const dir = path.join(root, 'precedence');
    const envDir = path.join(root, 'precedence-env');

    // Defaults: the app's data dir under XDG_CONFIG_HOME, production gateway, no printer.
    const defaults = await status([]);
    expect(defaults).toMatchObject({ dataDir: path.join(home, '.config', 'upay-pos'), apiDomain: 'https://vsi-api.shouqianba.com', printer: { uri: 'none' } });

    // Env fallbacks.
    const fromEnv = await status([], { UPAY_POS_DATA_DIR: dir, UPAY_API_DOMAIN: 'http://127.0.0.1:1111', UPAY_POS_PRINTER: 'virtual' });
    expect(fromEnv).toMatchObject({ dataDir: dir, apiDomain: 'http://127.0.0.1:1111', printer: { uri: 'virtual', state: 'ok' } }); // a virtual printer in the CLI process

    // Stored settings (settings set) beat the default ...
    const set = await json<{ settings: Json }>(['settings', 'set', 'apiDomain=http://127.0.0.1:2222', 'printer=tcp://127.0.0.1:9', '--data-dir', dir], 0);
    expect(set.doc.settings).toMatchObject({ apiDomain: 'http://127.0.0.1:2222', printer: 'tcp://127.0.0.1:9' });
    expect(await status(['--data-dir', dir])).toMatchObject({ apiDomain: 'http://127.0.0.1:2222', printer: { uri: 'tcp://127.0.0.1:9' } });
    // ... env beats the stored setting ...
    const env = { UPAY_API_DOMAIN: 'http://127.0.0.1:3333', UPAY_POS_PRINTER: 'virtual', UPAY_POS_DATA_DIR: envDir };
    const envOverStored = await status(['--data-dir', dir], env);
    expect(envOverStored).toMatchObject({ dataDir: dir, apiDomain: 'http://127.0.0.1:3333', printer: { uri: 'virtual' } });
    // ... and the flag beats env (flags before or after the command).
    expect(await status(['--data-dir', dir, '--api-domain', 'http://127.0.0.1:4444', '--printer', 'none'], env)).toMatchObject({
      dataDir: dir,
      apiDomain: 'http://127.0.0.1:4444',
      printer: { uri: 'none' },
    });
    expect((await json<Json>(['--api-domain', 'http://127.0.0.1:5555', '--data-dir', dir, 'status'], 0, env)).doc).toMatchObject({ apiDomain: 'http://127.0.0.1:5555' });
    // The flag and env fallback win for this run only: the stored setting is unchanged.
    expect(await status(['--data-dir', dir])).toMatchObject({ apiDomain: 'http://127.0.0.1:2222', printer: { uri: 'tcp://127.0.0.1:9' } });
    expect(fs.existsSync(envDir)).toBe(false);

    // An invalid env value is an input error too (exit 2), like the flag.
    const badEnv = await usage(['status', '--data-dir', dir], { UPAY_POS_PRINTER: 'ftp://x' });
    expect(badEnv.error.message).toContain('ftp');
    const badSetting = await usage(['settings', 'set', 'printer=ftp://x', '--data-dir', dir]);
    expect(badSetting.error.code).toBe('INVALID_INPUT');
  });
});

describe('demo', () => {
  it('`upay-pos demo --json` (what `npm run demo` runs): exit 0, a payment taken then revoked with its receipt, a promotion order refused', async () => {
    const dir = path.join(root, 'demo');
    const run = await cli(['demo', '--json', '--data-dir', dir], {}, 60_000);
    expect(run.code, describeRun(run)).toBe(0);
    const doc = oneJson<{
      dataDir: string;
      payment: { state: string; orderSn: string; amountCents: number };
      revoke: RevokeJson;
      receiptText: string;
      refused: { state: string; error: { gatewayCode: string; gatewayMessage: string } };
    }>(run);
    expect(doc.dataDir).toBe(dir);
    expect(doc.payment).toMatchObject({ state: 'paid', amountCents: 8800 });
    expect(doc.payment.orderSn).toBe(doc.revoke.order!.sn);
    expect(run.stderr).toContain('收款成功');
    expect(doc.revoke.outcome).toBe('revoked');
    const sn = doc.revoke.order!.sn;
    expect(doc.revoke.order).toMatchObject({ totalCents: 8800, status: 'CANCELED' });
    expect(doc.receiptText).toContain('撤销凭证');
    expect(doc.receiptText).toContain(sn);
    expect(doc.refused.state).toBe('rejected');
    expect(doc.refused.error.gatewayCode).toBe('UPAY_TCP_ORDER_NOT_REFUNDABLE');
    // The walkthrough's steps are progress: on stderr, never on stdout.
    for (const step of ['[1]', '[2]', '[3]', '[4]', '[5]', '[6]', '[7]']) expect(run.stderr).toContain(step);
    expect(run.stdout).not.toContain('[1]');
  }, 90_000);
});

async function waitFor(fn: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
