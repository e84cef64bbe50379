/**
 * `upay-pos fleet ...`: head office's PostgreSQL, for store IT. A counter's
 * credential comes from a file or stdin (`fleet configure`, sealed in the
 * key vault) or UPAY_POS_FLEET_URL; head office's admin address (for
 * `grant`, `migrate`, `report`) from UPAY_POS_FLEET_ADMIN_URL, a file or
 * stdin. Never from argv; never printed whole (user@host/db at most).
 */
import { formatYuan } from '../common/money';
import { isDay, systemClock } from '../common/time';
import { invalidInput, PosError } from '../errors';
import fs from 'node:fs';
import { checkFleetUrl, describeUrl, FLEET_URL_ENV, fleetTarget, storedFleetShown, storeFleetUrl, type FleetTarget } from '../fleet/config';
import { disableTerminal, grantTerminal } from '../fleet/grant';
import { dayReport, withHeadOffice } from '../fleet/head-office';
import { backlog, requeueSetAside, setAsideRows } from '../fleet/outbox';
import { FileKeyVault } from '../terminal/vault';
import { migrateHeadOffice } from '../fleet/schema';
import { Shipper, type ShipperTiming } from '../fleet/shipper';
import { openDb, type Db } from '../store/db';
import { str, type CliContext } from './context';

export const FLEET_OPTIONS = {
  'fleet configure': { 'url-file': { type: 'string' }, 'url-stdin': { type: 'boolean' }, unset: { type: 'boolean' } },
  'fleet grant': {
    terminal: { type: 'string' },
    store: { type: 'string' },
    out: { type: 'string' },
    'counter-host': { type: 'string' },
    disable: { type: 'boolean' },
    'admin-url-file': { type: 'string' },
    'admin-url-stdin': { type: 'boolean' },
  },
  'fleet migrate': { 'admin-url-file': { type: 'string' }, 'admin-url-stdin': { type: 'boolean' } },
  'fleet status': {},
  'fleet requeue': {},
  'fleet ship': { once: { type: 'boolean' } },
  'fleet report': { day: { type: 'string' }, store: { type: 'string' }, csv: { type: 'boolean' }, 'admin-url-file': { type: 'string' }, 'admin-url-stdin': { type: 'boolean' } },
} as const;

export const FLEET_COMMANDS: Record<string, (ctx: CliContext) => Promise<number>> = {
  'fleet configure': configure,
  'fleet grant': grant,
  'fleet migrate': migrateCommand,
  'fleet status': status,
  'fleet requeue': requeue,
  'fleet ship': ship,
  'fleet report': report,
};

function withDb<T>(ctx: CliContext, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openDb(ctx.global.dataDir);
  return fn(db).finally(() => db.close());
}

export const FLEET_ADMIN_URL_ENV = 'UPAY_POS_FLEET_ADMIN_URL';

function target(db: Db, ctx: CliContext): FleetTarget {
  const t = fleetTarget(db, ctx.env, new FileKeyVault(ctx.global.dataDir));
  if (!t) {
    throw new PosError(
      'FLEET_NOT_CONFIGURED',
      '未配置总部数据库：请运行 upay-pos fleet configure --url-file 文件（总部用 fleet grant 生成），或设置 UPAY_POS_FLEET_URL',
      'No head-office database: run `upay-pos fleet configure --url-file FILE` (the file head office made with `fleet grant`) or set UPAY_POS_FLEET_URL',
    );
  }
  return t;
}

async function readStdin(ctx: CliContext, option: string): Promise<string> {
  let text = '';
  for await (const chunk of ctx.stdin) {
    text += String(chunk);
    if (text.length > 4096) throw invalidInput(option, 'too long');
  }
  return text.trim();
}

function readSecretFile(file: string, option: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalidInput(option, `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, '无法读取文件');
  }
  if (text.length > 4096) throw invalidInput(option, 'too long');
  return text.trim();
}

/** A secret address from --X-file FILE or --X-stdin (never from argv), checked; undefined when neither is given. */
async function secretUrl(ctx: CliContext, name: string): Promise<string | undefined> {
  const file = str(ctx, `${name}-file`);
  const stdin = ctx.values[`${name}-stdin`] === true;
  if (file !== undefined && stdin) throw invalidInput(`--${name}-file/--${name}-stdin`, 'give one of them');
  const raw = file !== undefined ? readSecretFile(file, `--${name}-file`) : stdin ? await readStdin(ctx, `--${name}-stdin`) : undefined;
  if (raw === undefined) return undefined;
  try {
    return checkFleetUrl(raw, ctx.env);
  } catch (err) {
    if (err instanceof PosError) throw invalidInput(`--${name}-file/--${name}-stdin`, err.messageEn, err.messageZh);
    throw err;
  }
}

/** Head office's admin address: --admin-url-file/--admin-url-stdin, UPAY_POS_FLEET_ADMIN_URL, else (migrate, report) this counter's own. */
async function adminTarget(ctx: CliContext, db: Db | null): Promise<FleetTarget> {
  const url = (await secretUrl(ctx, 'admin-url')) ?? ctx.env[FLEET_ADMIN_URL_ENV];
  if (url) return { url: checkFleetUrl(url, ctx.env), shown: describeUrl(url), source: 'env' };
  if (db) return target(db, ctx);
  throw invalidInput('--admin-url-file', `head office's admin address is needed: --admin-url-file FILE, --admin-url-stdin or ${FLEET_ADMIN_URL_ENV}`);
}

async function configure(ctx: CliContext): Promise<number> {
  const given = [str(ctx, 'url-file') !== undefined, ctx.values['url-stdin'] === true, ctx.values.unset === true].filter(Boolean).length;
  if (given !== 1) throw invalidInput('--url-file/--url-stdin/--unset', 'give exactly one of --url-file FILE, --url-stdin or --unset');
  const url = ctx.values.unset ? null : ((await secretUrl(ctx, 'url')) ?? null);
  return withDb(ctx, async (db) => {
    storeFleetUrl(db, new FileKeyVault(ctx.global.dataDir), url, ctx.env);
    const shown = url ? describeUrl(url) : null;
    ctx.out({ configured: url !== null, target: shown, sealed: url !== null }, url ? `head office: ${shown} (credential sealed in the key vault)` : 'head office: not configured');
    return 0;
  });
}

/** Head office: a terminal's own credential, written to a new 0600 file for store IT (or --disable it). */
async function grant(ctx: CliContext): Promise<number> {
  const terminal = str(ctx, 'terminal');
  if (!terminal || terminal.length > 64) throw invalidInput('--terminal', 'is required (the terminal SN, at most 64 characters)', '必填');
  const store = str(ctx, 'store') ?? null;
  const out = str(ctx, 'out');
  const disable = ctx.values.disable === true;
  if (!disable && !out) throw invalidInput('--out', 'is required: the new file the credential is written to (0600)', '必填');
  if (!disable && !store) throw invalidInput('--store', 'is required: the credential ships for this store only', '必填');
  const counterHost = str(ctx, 'counter-host') ?? null;
  if (counterHost !== null && !/^[A-Za-z0-9.\-[\]:]{1,255}$/.test(counterHost)) throw invalidInput('--counter-host', 'must be host or host:port');
  const t = await adminTarget(ctx, null);
  if (disable) {
    const role = await withHeadOffice(t, (c) => disableTerminal(c, terminal));
    ctx.out({ terminal, role, disabled: role !== null }, role ? `terminal ${terminal}: credential ${role} disabled` : `terminal ${terminal}: no credential`);
    return role ? 0 : 1;
  }
  let fd: number;
  try {
    fd = fs.openSync(out!, 'wx', 0o600);
  } catch (err) {
    throw invalidInput('--out', `cannot create the file (it must not exist yet): ${(err as NodeJS.ErrnoException).code ?? 'error'}`, '无法创建文件（不能已存在）');
  }
  try {
    const g = await withHeadOffice(t, (c) => grantTerminal(c, t.url, terminal, store, counterHost));
    fs.writeSync(fd, `${g.url}\n`);
    fs.fsyncSync(fd);
    const shown = describeUrl(g.url);
    ctx.out(
      { terminal, store, role: g.role, rotated: g.rotated, target: shown, file: out },
      `terminal ${terminal} (store ${store}): ${g.rotated ? 'credential rotated (the old one no longer logs in)' : 'credential created'}, ${shown}\nhand ${out} to the store; there: upay-pos fleet configure --url-file FILE`,
    );
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(out!, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return 0;
}

async function migrateCommand(ctx: CliContext): Promise<number> {
  return withDb(ctx, async (db) => {
    const t = await adminTarget(ctx, db);
    const r = await withHeadOffice(t, migrateHeadOffice);
    ctx.out({ target: t.shown, from: r.from, to: r.to }, r.from === r.to ? `head office ${t.shown}: at version ${r.to}` : `head office ${t.shown}: version ${r.from} → ${r.to}`);
    return 0;
  });
}

/** Where the credential comes from, shown redacted (never opened here: a status must work when the vault cannot). */
function credentialShown(db: Db, ctx: CliContext): { target: string | null; source: 'env' | 'stored' | null; credential: string } {
  const fromEnv = ctx.env[FLEET_URL_ENV];
  if (fromEnv) return { target: describeUrl(fromEnv), source: 'env', credential: `${FLEET_URL_ENV} (password ***)` };
  const stored = storedFleetShown(db);
  return stored ? { target: stored.shown, source: 'stored', credential: `sealed by the ${stored.vault} vault (password ***)` } : { target: null, source: null, credential: 'none' };
}

async function status(ctx: CliContext): Promise<number> {
  return withDb(ctx, async (db) => {
    const c = credentialShown(db, ctx);
    const now = systemClock.now();
    const b = backlog(db, now);
    const setAside = setAsideRows(db);
    const doc = { ...c, ...b, setAsideEvents: setAside };
    const age = (ms: number | null) => (ms === null ? 'never' : `${Math.round((now - ms) / 1000)} s ago`);
    const d = b.cap.dropped;
    ctx.out(
      doc,
      [
        `head office: ${c.target ? `${c.target} (${c.source})` : 'not configured'}; credential: ${c.credential}`,
        `backlog: ${b.events - b.heartbeats} events (${b.money} money, ${b.audit} audit) + ${b.heartbeats} heartbeat`,
        `lag: ${Math.round(b.lagMs / 1000)} s`,
        `last shipped: seq ${b.lastShippedSeq}, ${age(b.lastShippedAt)} (${b.shippedTotal} events confirmed by head office)`,
        `outbox: ${b.cap.rows} of ${b.cap.cap} rows; dropped at the cap: ${d.heartbeats} heartbeats, ${d.audit} audit, ${d.noMoney} no-money, ${d.money} money`,
        `epoch: ${b.epoch}${b.restoreDetectedAt ? ` (restored or copied data dir detected ${age(b.restoreDetectedAt)})` : ''}`,
        ...(setAside.length ? [`set aside (head office refuses them): ${b.setAside}`, ...setAside.map((x) => `  seq ${x.seq} ${x.kind} ${x.business_day}: ${x.reason}${x.reported ? '' : ' (not reported yet)'}`)] : []),
        ...(b.lastError ? [`last error: ${b.lastError}`] : []),
        ...(b.warning ? [`! ${b.warning}`] : []),
      ].join('\n'),
    );
    return 0;
  });
}

/** The events set aside go back in the queue (once head office accepts them again). */
async function requeue(ctx: CliContext): Promise<number> {
  return withDb(ctx, async (db) => {
    const n = requeueSetAside(db);
    ctx.out({ requeued: n }, `${n} events set aside are queued again`);
    return 0;
  });
}

/** Test and tuning knobs from the environment (milliseconds); production uses the defaults. */
function timingFromEnv(env: NodeJS.ProcessEnv): Partial<ShipperTiming> {
  const out: Partial<ShipperTiming> = {};
  const map: Record<string, keyof ShipperTiming> = {
    UPAY_POS_FLEET_POLL_MS: 'pollMs',
    UPAY_POS_FLEET_HEARTBEAT_MS: 'heartbeatMs',
    UPAY_POS_FLEET_BACKOFF_MS: 'backoffBaseMs',
    UPAY_POS_FLEET_BACKOFF_MAX_MS: 'backoffMaxMs',
    UPAY_POS_FLEET_BATCH: 'batchRows',
    UPAY_POS_FLEET_TIMEOUT_MS: 'queryTimeoutMs',
  };
  for (const [name, key] of Object.entries(map)) {
    const v = env[name];
    if (v && /^\d{1,7}$/.test(v) && Number(v) > 0) out[key] = Number(v);
  }
  return out;
}

/** The shipper's process: ships until SIGTERM/SIGINT (or, with --once, until the backlog is empty). */
async function ship(ctx: CliContext): Promise<number> {
  return withDb(ctx, async (db) => {
    const t = target(db, ctx);
    const shipper = new Shipper({ db, target: t, clock: systemClock, timing: timingFromEnv(ctx.env), log: (l) => ctx.progress(l), env: ctx.env });
    if (ctx.values.once) {
      try {
        const n = await shipper.drain();
        ctx.out({ shipped: n, target: t.shown }, `shipped ${n} events to ${t.shown}`);
      } finally {
        shipper.close();
      }
      return 0;
    }
    const stop = () => shipper.stop();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    ctx.progress(`fleet: shipping to ${t.shown}`);
    await shipper.run();
    ctx.out(shipper.stats, `stopped after shipping ${shipper.stats.shipped} events`);
    return 0;
  });
}

async function report(ctx: CliContext): Promise<number> {
  const day = str(ctx, 'day');
  if (day === undefined || !isDay(day)) throw invalidInput('--day', 'must be a day YYYY-MM-DD', '必须是日期 YYYY-MM-DD');
  const store = str(ctx, 'store') ?? null;
  if (ctx.values.csv && ctx.global.json) throw invalidInput('--csv/--json', 'give one of --csv or --json');
  return withDb(ctx, async (db) => {
    const t = await adminTarget(ctx, db);
    const r = await withHeadOffice(t, (c) => dayReport(c, day, store));
    if (ctx.values.csv) {
      const cell = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
      const lines = ['day,store_sn,kind,payway,operator,operations,amount_cents', ...r.totals.map((x) => [day, x.store_sn, x.kind, x.payway, x.operator_name, x.operations, x.amount_cents].map(cell).join(','))];
      process.stdout.write(lines.join('\n') + '\n');
      return 0;
    }
    const human = [
      `day ${day}${store ? `, store ${store}` : ''} (${t.shown})`,
      ...r.totals.map((x) => `  ${x.store_sn ?? '-'}  ${x.kind}  ${x.payway ?? '-'}  ${x.operator_name ?? '-'}  ×${x.operations}  ¥${formatYuan(x.amount_cents)}`),
      `open: ${r.open.length}`,
      ...r.open.map((o) => `  ${o.store_sn ?? '-'} ${o.terminal_sn} ${o.kind} #${o.op_id} ${o.state}`),
      `needs attention: ${r.attention.length}`,
      ...r.attention.map((a) => `  ${a.store_sn ?? '-'} ${a.terminal_sn} ${a.kind} #${a.op_id} ${a.state}: ${a.reason}`),
    ].join('\n');
    ctx.out(r, human);
    return 0;
  });
}
