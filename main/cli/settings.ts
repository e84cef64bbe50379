/**
 * `settings get | set | unset`. They work on the stored settings alone,
 * without starting the runtime or reading the gateway: a bad stored value
 * (e.g. an apiDomain an older version let in) must stay repairable by
 * exactly the command its error names, with no other flag.
 */
import { invalidInput } from '../errors';
import { GatewayUrlError } from '../upay/gateway-url';
import { openDb } from '../store/db';
import { readSettings, setSettings, settingsSchema, type Settings } from '../store/settings';
import { actor, checkPrinter, type CliContext } from './context';

function show(ctx: CliContext, settings: Settings, problems: ReturnType<typeof readSettings>['problems']): void {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  for (const p of problems) lines.push(`! ${p.key}: stored value is invalid (${p.message}); fix: ${p.fix.join(' or ')}`);
  ctx.out({ settings, ...(problems.length ? { problems } : {}) }, lines.join('\n'));
}

function withDb<T>(ctx: CliContext, fn: (db: ReturnType<typeof openDb>) => T): T {
  // Global flags are not used here, but a wrong one is still refused rather than ignored (the gateway: in parseCli).
  checkPrinter(ctx.global.printer);
  const db = openDb(ctx.global.dataDir);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function settingsGet(ctx: CliContext): number {
  return withDb(ctx, (db) => {
    const { settings, problems } = readSettings(db);
    show(ctx, settings, problems);
    return 0;
  });
}

/** `settings set KEY=VALUE ...` (an empty VALUE removes the key); `settings unset KEY ...`. */
export function settingsSet(ctx: CliContext, mode: 'set' | 'unset'): number {
  if (ctx.positionals.length === 0) {
    throw invalidInput('settings', mode === 'set' ? 'give KEY=VALUE pairs, e.g. paperWidth=58' : 'give the names of the settings to remove, e.g. apiDomain');
  }
  const patch: Record<string, unknown> = {};
  for (const p of ctx.positionals) {
    if (mode === 'unset') {
      if (!/^[A-Za-z]+$/.test(p)) throw invalidInput(p, 'expected a setting name');
      patch[p] = null;
      continue;
    }
    const m = /^([A-Za-z]+)=(.*)$/.exec(p);
    if (!m) throw invalidInput(p, 'expected KEY=VALUE');
    const raw = m[2]!;
    let value: unknown = raw;
    if (raw === '') value = null;
    else if (/^(true|false)$/.test(raw)) value = raw === 'true';
    else if (/^\d+$/.test(raw)) value = Number(raw);
    patch[m[1]!] = value;
  }
  for (const k of Object.keys(patch)) if (!(k in settingsSchema.shape)) throw invalidInput(k, `unknown setting (known: ${Object.keys(settingsSchema.shape).join(', ')})`);
  if (typeof patch.printer === 'string') checkPrinter(patch.printer, 'printer');
  return withDb(ctx, (db) => {
    try {
      setSettings(db, patch, actor(ctx), Date.now());
    } catch (err) {
      const e = err as { issues?: Array<{ path: unknown[]; message: string }> };
      if (e.issues) throw invalidInput(String(e.issues[0]?.path[0] ?? 'settings'), e.issues[0]?.message ?? 'invalid');
      if (err instanceof GatewayUrlError) throw invalidInput('apiDomain', err.reasonEn);
      throw err;
    }
    const { settings, problems } = readSettings(db);
    show(ctx, settings, problems);
    return 0;
  });
}
