/**
 * What every `upay-pos` command shares: the parsed command line, argument
 * checks made before any I/O, and opening the data dir's runtime.
 */
import os from 'node:os';
import type { Accountable } from '../common/accountable';
import { invalidInput } from '../errors';
import { checkOrderRef, type OrderRef } from '../orders/service';
import { PrinterUriError, parsePrinterUri } from '../printer';
import { createRuntime, type Logger, type Runtime } from '../runtime';
import { createVirtualPrinter, type VirtualPrinter } from '../sandbox';
import { PosError } from '../errors';
import { fixCommands, settingInvalid } from '../store/settings';

export interface CliContext {
  command: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  global: { dataDir: string; apiDomain: string | undefined; printer: string | undefined; timeoutMs: number | undefined; json: boolean; operator?: string | undefined };
  out(doc: unknown, human: string): void;
  progress(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Where `--vendor-key-stdin` reads from. */
  stdin: NodeJS.ReadableStream;
}

/**
 * Who runs the command, for the audit log and the money rows: `--operator NAME`
 * (checked by parseCli), else the OS user. No PIN: the CLI is trusted (whoever
 * runs it as the POS's OS user can read the database and the vault anyway).
 */
export function operatorName(ctx?: Pick<CliContext, 'global'>): string {
  return ctx?.global.operator ?? safeUser();
}

export const actor = (ctx?: Pick<CliContext, 'global'>) => `cli:${operatorName(ctx)}`;

/** Who did a money operation from the CLI: a name, no operator id, no approver. */
export function cliAccountable(ctx: Pick<CliContext, 'global'>): Accountable {
  return { operatorId: null, operatorName: operatorName(ctx), approverId: null, approverName: null };
}

function safeUser(): string {
  try {
    return os.userInfo().username.slice(0, 32) || 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---------- argument checks (before any I/O) ----------

export function str(ctx: CliContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(ctx: CliContext, name: string): string {
  const v = str(ctx, name);
  if (v === undefined || v.trim() === '') throw invalidInput(`--${name}`, 'is required', '必填');
  return v;
}

export function orderRef(ctx: CliContext): OrderRef {
  const sn = str(ctx, 'sn');
  const clientSn = str(ctx, 'client-sn');
  if ((sn === undefined) === (clientSn === undefined)) throw invalidInput('--sn/--client-sn', 'give exactly one of --sn or --client-sn', '请提供 --sn 或 --client-sn 之一');
  return checkOrderRef(sn !== undefined ? { sn } : { clientSn });
}

export function seconds(ctx: CliContext, name: string, max: number): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) > max) throw invalidInput(`--${name}`, `must be a whole number of seconds from 0 to ${max}`);
  return Number(v);
}

export function checkPrinter(uri: string | undefined, field = '--printer'): void {
  if (uri === undefined) return;
  try {
    parsePrinterUri(uri);
  } catch (err) {
    if (err instanceof PrinterUriError) throw invalidInput(field, err.message);
    throw err;
  }
}

// ---------- runtime ----------

export interface Session {
  rt: Runtime;
  /** The in-process virtual printer when the printer is `virtual`. */
  virtual: VirtualPrinter | null;
  close(): Promise<void>;
}

export function stderrLogger(ctx: CliContext): Logger {
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
export async function open(ctx: CliContext, opts: { workers?: boolean } = {}): Promise<Session> {
  checkPrinter(ctx.global.printer);
  const printerSetting = ctx.global.printer;
  const virtual = printerSetting?.trim().toLowerCase() === 'virtual' ? await createVirtualPrinter() : null;
  let rt: Runtime;
  try {
    rt = createRuntime({
      dataDir: ctx.global.dataDir,
      ...(ctx.global.apiDomain ? { apiDomain: ctx.global.apiDomain } : {}),
      ...(printerSetting ? { printer: printerSetting } : {}),
      virtualPrinterUri: virtual?.uri ?? null,
      ...(ctx.global.timeoutMs ? { timeoutMs: ctx.global.timeoutMs } : {}),
      startWorkers: opts.workers ?? false,
      // A command's output is about its own work: the app's changes are the app window's business.
      watchOthers: false,
      // A printer named for this run prints this run's receipts only: the counter's waiting ones stay for the counter's printer.
      ...(printerSetting ? { printScope: 'own' as const } : {}),
      logger: stderrLogger(ctx),
    });
  } catch (err) {
    await virtual?.close();
    throw withDataDirFlag(ctx, err);
  }
  return {
    rt,
    virtual,
    async close() {
      await rt.close();
      await virtual?.close();
    },
  };
}

/**
 * A bad stored setting names the command that repairs it; when this run's
 * data dir came from --data-dir, the command carries it too, so it can be
 * pasted as is.
 */
export function withDataDirFlag(ctx: CliContext, err: unknown): unknown {
  if (!(err instanceof PosError) || err.code !== 'SETTING_INVALID' || typeof ctx.values['data-dir'] !== 'string') return err;
  const setting = String(err.details?.setting ?? '');
  const dir = shellQuote(ctx.global.dataDir);
  return settingInvalid({ key: setting, message: String(err.details?.reason ?? ''), fix: fixCommands(setting).map((c) => `${c} --data-dir ${dir}`) });
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function withRuntime<T>(ctx: CliContext, fn: (s: Session) => Promise<T>, opts: { workers?: boolean } = {}): Promise<T> {
  const s = await open(ctx, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
