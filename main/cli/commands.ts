/**
 * The `upay-pos` commands. Each validates its arguments before any runtime
 * or gateway is touched, prints one JSON document with --json (human text
 * otherwise) and returns its exit code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Order, Revoke } from '../domain';
import { invalidInput, PosError } from '../errors';
import { checkOrderRef, type OrderRef } from '../orders/service';
import { PrinterUriError, parsePrinterUri } from '../printer';
import { createRuntime, type Logger, type Runtime } from '../runtime';
import { createSandbox, createVirtualPrinter, type VirtualPrinter } from '../sandbox';
import { UpayClient } from '../upay/client';
import { formatCny } from '../common/money';
import { receiptLines } from '../common/receipt-text';
import { businessDay, formatCst, isDay } from '../common/time';
import { type revokeOutcome, type RevokeReport, revokeReport } from './report';

export interface CliContext {
  command: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  global: { dataDir: string; apiDomain: string | undefined; printer: string | undefined; timeoutMs: number | undefined; json: boolean };
  out(doc: unknown, human: string): void;
  progress(line: string): void;
  env: NodeJS.ProcessEnv;
}

export const USAGE = `upay-pos: Upay (Shouqianba) terminal tool for store IT

Usage: upay-pos <command> [options] [global options]

Commands:
  activate --app-id ID --code CODE --device-id ID --vendor-sn SN --vendor-key KEY [--name NAME] [--force]
  checkin                          rotate the terminal key (daily check-in)
  status                           terminal, key age, last check-in, queue, printer
  orders list [--day YYYY-MM-DD]   the business day's orders (UTC+8)
  orders import (--sn SN | --client-sn CSN)
  revoke (--sn SN | --client-sn CSN) [--operator NAME] [--wait SECONDS]
  revoke query (--sn SN | --client-sn CSN)    ask the gateway again about an open revoke
  queue list                       revokes not final yet
  queue drain [--timeout S]        send queued revokes and resolve pending ones now
  receipt reprint (--sn SN | --client-sn CSN) print a COPY of a revoke receipt
  receipt show (--sn SN | --client-sn CSN)    show a revoke receipt as text
  receipt jobs [--state pending|printed|failed] print jobs, with their errors
  receipt retry --job N            put a failed print job back in line and print it
  printer status | printer test
  settings get | settings set KEY=VALUE ...
  sandbox [--port P] [--printer-port P]       run the sandbox gateway and virtual printer
  demo                             headless walkthrough on the embedded sandbox

Global options (anywhere; flag, then env, then stored setting, then default):
  --data-dir DIR      UPAY_POS_DATA_DIR  (default: the app's own data directory)
  --api-domain URL    UPAY_API_DOMAIN    (default: https://vsi-api.shouqianba.com)
  --printer URI       UPAY_POS_PRINTER   tcp://host:port | /dev/usb/lp0 | virtual | none
  --timeout-ms MS     one timeout for every gateway call
  --json              exactly one JSON document on stdout

Exit codes: 0 success, 2 invalid input or usage, 3 rejected or expired, 4 not final yet
(pending, needs_attention or queued), 1 anything else.
`;

const actor = () => `cli:${safeUser()}`;

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

// ---------- argument checks (before any I/O) ----------

function str(ctx: CliContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

function required(ctx: CliContext, name: string): string {
  const v = str(ctx, name);
  if (v === undefined || v.trim() === '') throw invalidInput(`--${name}`, 'is required', '必填');
  return v;
}

function orderRef(ctx: CliContext): OrderRef {
  const sn = str(ctx, 'sn');
  const clientSn = str(ctx, 'client-sn');
  if ((sn === undefined) === (clientSn === undefined)) throw invalidInput('--sn/--client-sn', 'give exactly one of --sn or --client-sn', '请提供 --sn 或 --client-sn 之一');
  return checkOrderRef(sn !== undefined ? { sn } : { clientSn });
}

function seconds(ctx: CliContext, name: string, max: number): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) > max) throw invalidInput(`--${name}`, `must be a whole number of seconds from 0 to ${max}`);
  return Number(v);
}

function checkPrinter(uri: string | undefined): void {
  if (uri === undefined) return;
  try {
    parsePrinterUri(uri);
  } catch (err) {
    if (err instanceof PrinterUriError) throw invalidInput('--printer', err.message);
    throw err;
  }
}

function checkApiDomain(url: string | undefined): void {
  if (url === undefined) return;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidInput('--api-domain', `"${url}" is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalidInput('--api-domain', 'must be an http(s) URL');
}

// ---------- runtime ----------

interface Session {
  rt: Runtime;
  /** The in-process virtual printer when the printer is `virtual`. */
  virtual: VirtualPrinter | null;
  close(): Promise<void>;
}

function stderrLogger(ctx: CliContext): Logger {
  const quiet = ctx.env.UPAY_POS_QUIET === '1';
  return {
    info: (l) => quiet || ctx.progress(`· ${l}`),
    warn: (l) => ctx.progress(`! ${l}`),
    error: (l) => ctx.progress(`✗ ${l}`),
  };
}

/**
 * Opens the data dir's runtime. `virtual` as printer starts a virtual printer
 * in this process (its receipts are shown on stderr as text).
 */
async function open(ctx: CliContext, opts: { workers?: boolean } = {}): Promise<Session> {
  checkApiDomain(ctx.global.apiDomain);
  checkPrinter(ctx.global.printer);
  const printerSetting = ctx.global.printer;
  const virtual = printerSetting?.trim().toLowerCase() === 'virtual' ? await createVirtualPrinter() : null;
  const rt = createRuntime({
    dataDir: ctx.global.dataDir,
    ...(ctx.global.apiDomain ? { apiDomain: ctx.global.apiDomain } : {}),
    ...(printerSetting ? { printer: printerSetting } : {}),
    virtualPrinterUri: virtual?.uri ?? null,
    ...(ctx.global.timeoutMs ? { timeoutMs: ctx.global.timeoutMs } : {}),
    startWorkers: opts.workers ?? false,
    logger: stderrLogger(ctx),
  });
  return {
    rt,
    virtual,
    async close() {
      await rt.close();
      await virtual?.close();
    },
  };
}

async function withRuntime<T>(ctx: CliContext, fn: (s: Session) => Promise<T>, opts: { workers?: boolean } = {}): Promise<T> {
  const s = await open(ctx, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

// ---------- commands ----------

export async function runCommand(ctx: CliContext): Promise<number> {
  switch (ctx.command) {
    case 'activate':
      return activate(ctx);
    case 'checkin':
      return withRuntime(ctx, async ({ rt }) => {
        const t = await rt.terminal.checkin(actor());
        ctx.out({ terminal: t }, `checked in: terminal ${t.terminalSn}, new key stored ${formatCst(t.keyUpdatedAt)} (UTC+8)`);
        return 0;
      });
    case 'status':
      return status(ctx);
    case 'orders list':
      return ordersList(ctx);
    case 'orders import': {
      const ref = orderRef(ctx);
      return withRuntime(ctx, async ({ rt }) => {
        const order = await rt.orders.import(ref, actor());
        ctx.out({ order }, describeOrder(order));
        return 0;
      });
    }
    case 'revoke':
      return revoke(ctx);
    case 'revoke query':
      return revokeQuery(ctx);
    case 'queue list':
      return withRuntime(ctx, async ({ rt }) => {
        const queue = rt.revokes.queueStatus();
        const open = rt.revokes.open();
        ctx.out(
          { queue, revokes: open },
          [`queued ${queue.queued}, pending ${queue.pending}, sending ${queue.sending}, needs attention ${queue.needsAttention}`, ...open.map(describeRevoke)].join('\n'),
        );
        return 0;
      });
    case 'queue drain':
      return queueDrain(ctx);
    case 'receipt reprint':
      return receiptReprint(ctx);
    case 'receipt show':
      return receiptShow(ctx);
    case 'receipt jobs':
      return receiptJobs(ctx);
    case 'receipt retry':
      return receiptRetry(ctx);
    case 'printer status':
      return withRuntime(ctx, async ({ rt }) => {
        const s = await rt.printing.status();
        ctx.out({ printer: { uri: rt.printing.printerUri, ...s } }, `printer ${rt.printing.printerUri}: ${s.state}${s.detail ? ` (${s.detail})` : ''}`);
        return s.state === 'ok' ? 0 : 1;
      });
    case 'printer test':
      return withRuntime(ctx, async ({ rt, virtual }) => {
        const id = rt.printing.testPrint(actor());
        const job = await rt.printing.waitForJob(id, 15_000);
        showVirtual(ctx, virtual);
        ctx.out({ job }, `test print job ${id}: ${job?.state ?? 'unknown'}${job?.lastError ? ` (${job.lastError})` : ''}`);
        return job?.state === 'printed' ? 0 : 1;
      });
    case 'settings get':
      return withRuntime(ctx, async ({ rt }) => {
        const s = rt.settings();
        ctx.out({ settings: s }, Object.entries(s).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n'));
        return 0;
      });
    case 'settings set':
      return settingsSet(ctx);
    case 'sandbox':
      return sandboxCommand(ctx);
    case 'demo':
      return demo(ctx);
    default:
      throw new PosError('USAGE', `未知命令 ${ctx.command}`, `unknown command ${ctx.command}`);
  }
}

async function activate(ctx: CliContext): Promise<number> {
  const input = {
    appId: required(ctx, 'app-id'),
    code: required(ctx, 'code'),
    deviceId: required(ctx, 'device-id'),
    vendorSn: required(ctx, 'vendor-sn'),
    vendorKey: required(ctx, 'vendor-key'),
    name: str(ctx, 'name'),
    force: ctx.values.force === true,
  };
  if (input.deviceId.length > 128) throw invalidInput('--device-id', 'must be at most 128 characters');
  return withRuntime(ctx, async ({ rt }) => {
    const t = await rt.terminal.activate(input, actor());
    ctx.out(
      { terminal: t },
      `activated: terminal ${t.terminalSn}\n  merchant ${t.merchantName ?? '-'} (${t.merchantSn ?? '-'})\n  store ${t.storeName ?? '-'} (${t.storeSn ?? '-'})`,
    );
    return 0;
  });
}

async function status(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt }) => {
    const t = rt.terminal.info();
    const now = rt.clock.now();
    const queue = rt.revokes.queueStatus();
    const printer = { uri: rt.printing.printerUri, ...(await rt.printing.status()) };
    const failedJobs = rt.printing.jobs({ state: 'failed' }).length;
    const doc = {
      dataDir: rt.dataDir,
      apiDomain: rt.apiDomain,
      schemaVersion: rt.schemaVersion(),
      vault: rt.vault.kind,
      businessDay: businessDay(now),
      terminal: t,
      keyAgeMs: t ? now - t.keyUpdatedAt : null,
      checkedInToday: t ? t.lastCheckinDay === businessDay(now) : false,
      queue,
      printer,
      failedPrintJobs: failedJobs,
    };
    const lines = [
      `data dir     ${rt.dataDir} (schema v${doc.schemaVersion}, key vault ${rt.vault.kind})`,
      `gateway      ${rt.apiDomain}`,
      t
        ? `terminal     ${t.terminalSn}  store ${t.storeName ?? '-'}  merchant ${t.merchantName ?? '-'}`
        : 'terminal     not activated (run: upay-pos activate ...)',
      t ? `key          ${Math.round((now - t.keyUpdatedAt) / 3_600_000)} h old; last check-in ${t.lastCheckinDay ?? 'never'}${doc.checkedInToday ? ' (today)' : ''}` : '',
      `queue        queued ${queue.queued}, pending ${queue.pending}, needs attention ${queue.needsAttention}${queue.oldestAgeMs !== null ? `, oldest ${Math.round(queue.oldestAgeMs / 1000)} s` : ''}`,
      `printer      ${printer.uri}: ${printer.state}${printer.detail ? ` (${printer.detail})` : ''}; failed jobs ${failedJobs}`,
    ].filter(Boolean);
    ctx.out(doc, lines.join('\n'));
    return 0;
  });
}

async function ordersList(ctx: CliContext): Promise<number> {
  const day = str(ctx, 'day');
  if (day !== undefined && !isDay(day)) throw invalidInput('--day', 'must be a date written YYYY-MM-DD');
  return withRuntime(ctx, async ({ rt }) => {
    const d = day ?? businessDay(rt.clock.now());
    const orders = rt.orders.listDay(d);
    const total = orders.reduce((s, o) => s + (o.status === 'PAID' ? o.totalCents : 0), 0);
    ctx.out({ day: d, orders }, [`${d}: ${orders.length} orders, paid ${formatCny(total)}`, ...orders.map(describeOrder)].join('\n'));
    return 0;
  });
}

async function revoke(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  const operator = str(ctx, 'operator') ?? null;
  if (operator !== null && (operator.length === 0 || operator.length > 32)) throw invalidInput('--operator', 'must be 1-32 characters');
  const wait = seconds(ctx, 'wait', 3600) ?? 0;
  return withRuntime(
    ctx,
    async ({ rt, virtual }) => {
      const unsubscribe = progressFrom(ctx, rt);
      try {
        let r = await rt.revokes.request(ref, operator, actor());
        ctx.progress(`revoke ${r.id}: ${r.state}`);
        if (wait > 0 && !settled(r)) r = await waitForRevoke(rt, r.id, wait * 1000);
        const report = await finishReport(rt, r);
        showVirtual(ctx, virtual);
        ctx.out(report, humanReport(report));
        return exitFor(report.outcome);
      } finally {
        unsubscribe();
      }
    },
    { workers: true },
  );
}

async function revokeQuery(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const order = rt.orders.find(ref);
    const existing = order && rt.revokes.forOrder(order.sn);
    if (!order || !existing) throw new PosError('REVOKE_NOT_FOUND', '此订单没有撤销记录。', 'This order has no revoke.', { ...ref });
    const r = await rt.revokes.queryAgain(existing.id, actor());
    const report = await finishReport(rt, r);
    ctx.out(report, humanReport(report));
    return exitFor(report.outcome);
  });
}

async function queueDrain(ctx: CliContext): Promise<number> {
  const timeoutS = seconds(ctx, 'timeout', 3600) ?? 120;
  return withRuntime(
    ctx,
    async ({ rt }) => {
      const unsubscribe = progressFrom(ctx, rt);
      try {
        const before = rt.revokes.queueStatus();
        ctx.progress(`draining: queued ${before.queued}, pending ${before.pending}`);
        rt.revokes.setOnline(true);
        const deadline = Date.now() + timeoutS * 1000;
        // Work until nothing sendable or resolvable is left, or the time is up.
        for (;;) {
          const q = rt.revokes.queueStatus();
          if (q.queued + q.pending + q.sending === 0 || Date.now() >= deadline) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await rt.printing.worker.drainOnce();
        const after = rt.revokes.queueStatus();
        const open = rt.revokes.open();
        ctx.out(
          { before, after, revokes: open },
          `drained: queued ${before.queued} → ${after.queued}, pending ${before.pending} → ${after.pending}, needs attention ${after.needsAttention}`,
        );
        return after.queued + after.pending + after.sending + after.needsAttention === 0 ? 0 : 4;
      } finally {
        unsubscribe();
      }
    },
    { workers: true },
  );
}

async function receiptReprint(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  return withRuntime(ctx, async ({ rt, virtual }) => {
    const r = revokedFor(rt, ref);
    const id = rt.printing.reprint(r.id, actor());
    const job = await rt.printing.waitForJob(id, 15_000);
    showVirtual(ctx, virtual);
    ctx.out({ job }, `reprint job ${id} (COPY): ${job?.state ?? 'unknown'}${job?.lastError ? ` (${job.lastError})` : ''}`);
    return job?.state === 'printed' ? 0 : 1;
  });
}

async function receiptShow(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const r = revokedFor(rt, ref);
    const receipt = rt.printing.receiptForRevoke(r.id);
    if (!receipt) throw new PosError('NO_RECEIPT', '此撤销没有凭证。', 'This revoke has no receipt.');
    const lines = receiptLines(receipt.model.items);
    ctx.out({ job: receipt.job, lines }, lines.join('\n'));
    return 0;
  });
}

async function receiptJobs(ctx: CliContext): Promise<number> {
  const state = str(ctx, 'state');
  if (state !== undefined && state !== 'pending' && state !== 'printed' && state !== 'failed') {
    throw invalidInput('--state', 'must be pending, printed or failed');
  }
  return withRuntime(ctx, async ({ rt }) => {
    const jobs = rt.printing.jobs(state ? { state } : {});
    ctx.out(
      { jobs },
      jobs.length === 0
        ? 'no print jobs'
        : jobs
            .map((j) => `#${j.id} ${j.kind}${j.copy ? ' COPY' : ''} ${j.orderSn ?? '-'} ${j.state} attempts ${j.attempts}${j.lastError ? ` — ${j.lastError}` : ''}`)
            .join('\n'),
    );
    return 0;
  });
}

/** Puts a failed (or waiting) print job back in line and prints it now. */
async function receiptRetry(ctx: CliContext): Promise<number> {
  const text = required(ctx, 'job');
  if (!/^\d{1,12}$/.test(text) || Number(text) < 1) throw invalidInput('--job', 'must be a print job number (see `receipt jobs`)');
  const id = Number(text);
  return withRuntime(ctx, async ({ rt, virtual }) => {
    const before = rt.printing.job(id);
    if (!before) throw new PosError('PRINT_JOB_NOT_FOUND', `找不到打印任务 ${id}。`, `Print job ${id} was not found.`, { jobId: id });
    if (before.state === 'printed') {
      throw new PosError('PRINT_JOB_PRINTED', `打印任务 ${id} 已打印；如需再打一份请用重打印。`, `Print job ${id} is already printed; use "receipt reprint" for a copy.`, { jobId: id });
    }
    rt.printing.retry(id, actor());
    const job = await rt.printing.waitForJob(id, 15_000);
    showVirtual(ctx, virtual);
    ctx.out({ job }, `print job ${id}: ${job?.state ?? 'unknown'}${job?.lastError ? ` (${job.lastError})` : ''}`);
    return job?.state === 'printed' ? 0 : 1;
  });
}

function revokedFor(rt: Runtime, ref: OrderRef): Revoke {
  const order = rt.orders.find(ref);
  const r = order && rt.revokes.forOrder(order.sn);
  if (!r || r.state !== 'revoked') {
    throw new PosError('NO_RECEIPT', '此订单没有成功的撤销，没有可打印的凭证。', 'This order has no successful revoke, so there is no receipt.', { ...ref });
  }
  return r;
}

async function settingsSet(ctx: CliContext): Promise<number> {
  if (ctx.positionals.length === 0) throw invalidInput('settings', 'give KEY=VALUE pairs, e.g. paperWidth=58');
  const patch: Record<string, unknown> = {};
  for (const p of ctx.positionals) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(p);
    if (!m) throw invalidInput(p, 'expected KEY=VALUE');
    const raw = m[2]!;
    let value: unknown = raw;
    if (raw === '') value = null;
    else if (/^(true|false)$/.test(raw)) value = raw === 'true';
    else if (/^\d+$/.test(raw)) value = Number(raw);
    patch[m[1]!] = value;
  }
  return withRuntime(ctx, async ({ rt }) => {
    let s;
    try {
      s = rt.updateSettings(patch, actor());
    } catch (err) {
      const e = err as { issues?: Array<{ path: unknown[]; message: string }>; message: string };
      if (e.issues) throw invalidInput(String(e.issues[0]?.path[0] ?? 'settings'), e.issues[0]?.message ?? 'invalid');
      if (err instanceof PrinterUriError) throw invalidInput('printer', err.message);
      throw err;
    }
    ctx.out({ settings: s }, Object.entries(s).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n'));
    return 0;
  });
}

async function sandboxCommand(ctx: CliContext): Promise<number> {
  // Global flags are not used here, but a wrong one is still refused rather than ignored.
  checkApiDomain(ctx.global.apiDomain);
  checkPrinter(ctx.global.printer);
  const port = portOf(ctx, 'port');
  const printerPort = portOf(ctx, 'printer-port');
  const host = str(ctx, 'host') ?? '127.0.0.1';
  const sb = await createSandbox({ host, ...(port !== undefined ? { port } : {}), ...(printerPort !== undefined ? { printerPort } : {}) });
  const doc = {
    gateway: sb.gateway.url,
    printer: sb.printer.uri,
    vendor: sb.gateway.vendor,
    activationCodes: sb.gateway.activationCodes(),
  };
  ctx.out(
    doc,
    [
      `sandbox gateway   ${doc.gateway}`,
      `virtual printer   ${doc.printer}`,
      `vendor_sn ${doc.vendor.vendorSn}  vendor_key ${doc.vendor.vendorKey}  app_id ${doc.vendor.appId}`,
      `activation codes  ${doc.activationCodes.join(' ')}`,
      '',
      `try: upay-pos --api-domain ${doc.gateway} --printer ${doc.printer} --data-dir /tmp/pos activate \\`,
      `       --app-id ${doc.vendor.appId} --code ${doc.activationCodes[0] ?? 'CODE'} --device-id counter-1 --vendor-sn ${doc.vendor.vendorSn} --vendor-key ${doc.vendor.vendorKey}`,
      '(Ctrl-C to stop)',
    ].join('\n'),
  );
  // Show each receipt the virtual printer takes, as store IT rehearse.
  let shown = 0;
  const watch = setInterval(() => {
    const jobs = sb.printer.jobs();
    for (; shown < jobs.length; shown++) ctx.progress(`virtual printer job ${jobs[shown]!.id}:\n${jobs[shown]!.decoded.text}`);
  }, 250);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(watch);
  await sb.close();
  return 0;
}

function portOf(ctx: CliContext, name: string): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw invalidInput(`--${name}`, 'must be a port number from 0 to 65535');
  return Number(v);
}

/** A headless walkthrough on the embedded default: sandbox, activate, pay, revoke, print. */
async function demo(ctx: CliContext): Promise<number> {
  checkApiDomain(ctx.global.apiDomain);
  checkPrinter(ctx.global.printer);
  const dataDir = str(ctx, 'data-dir') ?? ctx.env.UPAY_POS_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-demo-'));
  const step = (n: number, zh: string, en: string) => ctx.progress(`\n[${n}] ${zh} / ${en}`);
  const sb = await createSandbox();
  const rt = createRuntime({ dataDir, apiDomain: sb.gateway.url, printer: 'virtual', virtualPrinterUri: sb.printer.uri, logger: stderrLogger(ctx) });
  try {
    step(1, '启动沙箱网关和虚拟打印机', 'sandbox gateway and virtual printer');
    ctx.progress(`    gateway ${sb.gateway.url}, printer ${sb.printer.uri}, data ${dataDir}`);
    step(2, '激活终端', 'activate the terminal');
    if (!rt.terminal.info()) {
      const v = sb.gateway.vendor;
      await rt.terminal.activate({ appId: v.appId, code: sb.gateway.activationCodes()[0]!, deviceId: `demo-${os.hostname()}`.slice(0, 64), vendorSn: v.vendorSn, vendorKey: v.vendorKey, name: 'demo' }, 'demo');
    }
    const t = rt.terminal.info()!;
    ctx.progress(`    terminal ${t.terminalSn}, ${t.merchantName} / ${t.storeName}`);
    step(3, '签到（轮换密钥）', 'check in (key rotation)');
    await rt.terminal.checkin('demo');
    step(4, '在沙箱中收款 ￥88.00', 'pay ¥88.00 in the sandbox');
    const clientSn = `DEMO${Date.now()}`;
    // The host app's own payment, played here by a client of the sandbox (the runtime does not take payments).
    const host = new UpayClient({ apiDomain: rt.apiDomain });
    const pay = await host
      .pay(rt.terminal.signer(), { client_sn: clientSn, total_amount: '8800', dynamic_id: '134567890123456789', subject: '演示商品', operator: 'demo' })
      .finally(() => host.close());
    if (!pay.ok || pay.value.resultCode !== 'PAY_SUCCESS') throw new PosError('DEMO_FAILED', '演示收款失败', 'demo payment failed', { pay: pay.ok ? pay.value.resultCode : pay.kind });
    const order = await rt.orders.import({ clientSn }, 'demo');
    ctx.progress(`    ${describeOrder(order)}`);
    step(5, '撤销', 'revoke');
    const r = await rt.revokes.request({ sn: order.sn }, '收银员 1', 'demo');
    const report = await finishReport(rt, r);
    ctx.progress(`    ${humanReport(report).split('\n').join('\n    ')}`);
    step(6, '虚拟打印机收到的撤销凭证', 'the receipt the virtual printer received');
    const jobs = await sb.printer.waitForJobs(1, 10_000);
    const text = jobs[jobs.length - 1]?.decoded.text ?? '';
    ctx.progress(text);
    step(7, '促销订单的撤销会被拒绝', 'a promotion order is refused');
    const promo = sb.gateway.seedOrder({ terminalSn: t.terminalSn, totalCents: 1999, promotion: true, subject: '活动商品' });
    const refused = await rt.revokes.request({ sn: promo.sn }, '收银员 1', 'demo');
    ctx.progress(`    ${refused.state}: ${refused.error?.gatewayCode ?? ''} ${refused.error?.gatewayMessage ?? ''}`);
    ctx.out({ dataDir, revoke: report, receiptText: text, refused }, `demo complete: ${report.outcome}; data in ${dataDir}`);
    return report.outcome === 'revoked' && refused.state === 'rejected' ? 0 : 1;
  } finally {
    await rt.close();
    await sb.close();
  }
}

// ---------- reporting ----------

function progressFrom(ctx: CliContext, rt: Runtime): () => void {
  const onRevoke = (r: Revoke) => ctx.progress(`revoke ${r.id} (${r.orderSn}): ${r.state}${r.error ? ` — ${r.error.messageEn}` : ''}`);
  const onWarning = (w: { messageEn: string }) => ctx.progress(`warning: ${w.messageEn}`);
  const onConn = (c: { online: boolean }) => ctx.progress(c.online ? 'gateway reachable' : 'gateway unreachable');
  rt.events.on('revoke.updated', onRevoke);
  rt.events.on('revoke.warning', onWarning);
  rt.events.on('connectivity.changed', onConn);
  return () => {
    rt.events.off('revoke.updated', onRevoke);
    rt.events.off('revoke.warning', onWarning);
    rt.events.off('connectivity.changed', onConn);
  };
}

function settled(r: Revoke): boolean {
  return r.state === 'revoked' || r.state === 'rejected' || r.state === 'expired' || r.state === 'needs_attention';
}

/** Waits (reading the database, so another process's progress counts too) until the revoke settles. */
async function waitForRevoke(rt: Runtime, id: number, timeoutMs: number): Promise<Revoke> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = rt.revokes.get(id)!;
    if (settled(r) || Date.now() >= until) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function finishReport(rt: Runtime, r: Revoke): Promise<RevokeReport> {
  const order = rt.orders.get(r.orderSn) ?? null;
  let receipt = null;
  if (r.state === 'revoked') {
    const stored = rt.printing.receiptForRevoke(r.id);
    if (stored) {
      const job = (await rt.printing.waitForJob(stored.job.id, 10_000)) ?? stored.job;
      receipt = { jobId: job.id, state: job.state, copy: job.copy, error: job.lastError, lines: receiptLines(stored.model.items) };
    }
  }
  return revokeReport(r, order, receipt);
}

function humanReport(r: RevokeReport): string {
  const lines = [`outcome: ${r.outcome}`];
  if (r.order) lines.push(describeOrder(r.order as Order));
  if (r.error) {
    lines.push(`${r.error.code}: ${r.error.message}`, `  ${r.error.messageZh}`);
    if (r.error.gatewayCode || r.error.gatewayMessage) lines.push(`  gateway: ${r.error.gatewayCode ?? ''} ${r.error.gatewayMessage ?? ''}`.trimEnd());
  }
  if (r.receipt) lines.push(`receipt: job ${r.receipt.jobId} ${r.receipt.state}${r.receipt.error ? ` (${r.receipt.error})` : ''}`);
  return lines.join('\n');
}

function exitFor(outcome: ReturnType<typeof revokeOutcome>): number {
  switch (outcome) {
    case 'revoked':
      return 0;
    case 'rejected':
    case 'expired':
      return 3;
    default:
      return 4;
  }
}

function describeOrder(o: Order): string {
  return `${o.sn}  ${o.clientSn}  ${formatCny(o.totalCents)}  ${o.paywayName ?? o.payway ?? '-'}  ${o.status}  ${formatCst(o.finishedAt)}`;
}

function describeRevoke(r: Revoke): string {
  return `#${r.id} ${r.orderSn} ${r.state} attempts ${r.attempts} queries ${r.queries}${r.error ? ` — ${r.error.messageEn}` : ''}`;
}

function showVirtual(ctx: CliContext, virtual: VirtualPrinter | null): void {
  if (!virtual) return;
  for (const job of virtual.jobs()) ctx.progress(`virtual printer job ${job.id}:\n${job.decoded.text}`);
}
