/**
 * `upay-pos fleet ...`: head office's PostgreSQL, for store IT. The address
 * comes from this command line, UPAY_POS_FLEET_URL or the stored value, and
 * is never printed whole (user@host/db at most).
 */
import { formatYuan } from '../common/money';
import { isDay, systemClock } from '../common/time';
import { invalidInput, PosError } from '../errors';
import { checkFleetUrl, describeUrl, fleetTarget, storeFleetUrl, type FleetTarget } from '../fleet/config';
import { dayReport, withHeadOffice } from '../fleet/head-office';
import { backlog } from '../fleet/outbox';
import { migrateHeadOffice } from '../fleet/schema';
import { Shipper, type ShipperTiming } from '../fleet/shipper';
import { openDb, type Db } from '../store/db';
import { str, type CliContext } from './context';

export const FLEET_OPTIONS = {
  'fleet configure': { url: { type: 'string' }, 'url-stdin': { type: 'boolean' }, unset: { type: 'boolean' } },
  'fleet migrate': {},
  'fleet status': {},
  'fleet ship': { once: { type: 'boolean' } },
  'fleet report': { day: { type: 'string' }, store: { type: 'string' }, csv: { type: 'boolean' } },
} as const;

export const FLEET_COMMANDS: Record<string, (ctx: CliContext) => Promise<number>> = {
  'fleet configure': configure,
  'fleet migrate': migrateCommand,
  'fleet status': status,
  'fleet ship': ship,
  'fleet report': report,
};

function withDb<T>(ctx: CliContext, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openDb(ctx.global.dataDir);
  return fn(db).finally(() => db.close());
}

function target(db: Db, ctx: CliContext): FleetTarget {
  const t = fleetTarget(db, ctx.env);
  if (!t) {
    throw new PosError(
      'FLEET_NOT_CONFIGURED',
      '未配置总部数据库：请运行 upay-pos fleet configure --url-stdin，或设置 UPAY_POS_FLEET_URL',
      'No head-office database: run `upay-pos fleet configure --url-stdin` or set UPAY_POS_FLEET_URL',
    );
  }
  return t;
}

async function readStdin(ctx: CliContext): Promise<string> {
  let text = '';
  for await (const chunk of ctx.stdin) {
    text += String(chunk);
    if (text.length > 4096) throw invalidInput('--url-stdin', 'too long');
  }
  return text.trim();
}

async function configure(ctx: CliContext): Promise<number> {
  const given = [str(ctx, 'url') !== undefined, ctx.values['url-stdin'] === true, ctx.values.unset === true].filter(Boolean).length;
  if (given !== 1) throw invalidInput('--url/--url-stdin/--unset', 'give exactly one of --url-stdin, --url URL or --unset');
  const raw = ctx.values.unset ? null : (str(ctx, 'url') ?? (await readStdin(ctx)));
  const url = raw === null ? null : checkFleetUrlAsInput(raw);
  return withDb(ctx, async (db) => {
    storeFleetUrl(db, url);
    const shown = url ? describeUrl(url) : null;
    ctx.out({ configured: url !== null, target: shown }, url ? `head office: ${shown}` : 'head office: not configured');
    return 0;
  });
}

function checkFleetUrlAsInput(url: string): string {
  try {
    return checkFleetUrl(url);
  } catch (err) {
    if (err instanceof PosError) throw invalidInput('--url', err.messageEn, err.messageZh);
    throw err;
  }
}

async function migrateCommand(ctx: CliContext): Promise<number> {
  return withDb(ctx, async (db) => {
    const t = target(db, ctx);
    const r = await withHeadOffice(t, migrateHeadOffice);
    ctx.out({ target: t.shown, from: r.from, to: r.to }, r.from === r.to ? `head office ${t.shown}: at version ${r.to}` : `head office ${t.shown}: version ${r.from} → ${r.to}`);
    return 0;
  });
}

async function status(ctx: CliContext): Promise<number> {
  return withDb(ctx, async (db) => {
    const t = fleetTarget(db, ctx.env);
    const now = systemClock.now();
    const b = backlog(db, now);
    const doc = { target: t?.shown ?? null, source: t?.source ?? null, ...b };
    const age = (ms: number | null) => (ms === null ? 'never' : `${Math.round((now - ms) / 1000)} s ago`);
    ctx.out(
      doc,
      [
        `head office: ${t ? `${t.shown} (${t.source})` : 'not configured'}`,
        `backlog: ${b.events - b.heartbeats} events (${b.money} money, ${b.audit} audit) + ${b.heartbeats} heartbeat`,
        `lag: ${Math.round(b.lagMs / 1000)} s`,
        `last shipped: seq ${b.lastShippedSeq}, ${age(b.lastShippedAt)} (${b.shippedTotal} in all)`,
        ...(b.lastError ? [`last error: ${b.lastError}`] : []),
        ...(b.warning ? [`! ${b.warning}`] : []),
      ].join('\n'),
    );
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
    const shipper = new Shipper({ db, target: t, clock: systemClock, timing: timingFromEnv(ctx.env), log: (l) => ctx.progress(l) });
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
    const t = target(db, ctx);
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
