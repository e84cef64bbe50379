/**
 * Settings stored in the data dir (table `settings`), validated by one zod
 * schema. Precedence for the CLI and the app: flag, env, stored setting,
 * default (see main/config.ts).
 */
import { z } from 'zod';
import { PosError } from '../errors';
import { gatewayUrlVerdict } from '../common/gateway-url';
import { audit } from './audit';
import { prepared, tx, type Db } from './db';

export const settingsSchema = z.object({
  /** Gateway origin (https, or http on loopback only); absent = embedded sandbox in the app, production in the CLI. */
  apiDomain: z
    .string()
    .transform((v, ctx) => {
      const verdict = gatewayUrlVerdict(v);
      if ('origin' in verdict) return verdict.origin;
      ctx.addIssue({ code: 'custom', message: verdict.en });
      return z.NEVER;
    })
    .optional(),
  /** tcp://host:port, a device path, virtual, none. */
  printer: z.string().min(1).max(200).optional(),
  printerType: z.enum(['EPSON', 'STAR']).default('EPSON'),
  paperWidth: z.union([z.literal(58), z.literal(80)]).default(80),
  /** false: ASCII-only receipts with English labels, for printers without a Chinese font. */
  receiptChinese: z.boolean().default(true),
  retentionDays: z.number().int().min(1).max(3650).default(30),
  expiryWarningMinutes: z.number().int().min(0).max(720).default(30),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  language: z.enum(['zh-CN', 'en']).default('zh-CN'),
  kiosk: z.boolean().default(false),
  /** Linux safeStorage `basic_text` backend gives no real protection: allowed only when the operator says so. */
  allowBasicTextVault: z.boolean().default(false),
  // --- operators
  /** A signed-in session ends after this many minutes without a call from its window. */
  sessionIdleMinutes: z.number().int().min(1).max(720).default(15),
  /** A signed-in session ends this many hours after sign-in, however active (a fresh PIN at least once a shift). */
  sessionMaxHours: z.number().int().min(1).max(24).default(12),
  /** When a revoke needs a supervisor's approval: always, above `revokeApprovalAboveCents`, or never. */
  revokeApproval: z.enum(['always', 'above', 'never']).default('above'),
  revokeApprovalAboveCents: z.number().int().min(0).max(1e12).default(50_000),
  refundApproval: z.enum(['always', 'above', 'never']).default('always'),
  refundApprovalAboveCents: z.number().int().min(0).max(1e12).default(50_000),
  /** When a payment needs a supervisor's approval: off (`never`) by default; store IT may set `above` a threshold or `always`. */
  payApproval: z.enum(['always', 'above', 'never']).default('never'),
  payApprovalAboveCents: z.number().int().min(0).max(1e12).default(100_000),
  /** The receipt's header when the gateway's activation gave no store or merchant name (the real one gives neither). */
  storeName: z.string().trim().min(1).max(40).optional(),
  // --- payments
  /**
   * How long a QR payment (precreate) waits for the customer before it is canceled (冲正). The documents give
   * 90 s to about 4 minutes for the gateway's own lifetime; 120 s ends ours well inside it.
   */
  qrLifetimeSeconds: z.number().int().min(60).max(240).default(120),
});
export type Settings = z.output<typeof settingsSchema>;
export type SettingsPatch = Partial<z.input<typeof settingsSchema>>;
export const settingsPatchSchema = settingsSchema.partial().strict();

/** A stored value that fails the schema (written by an older version, or by hand). */
export interface SettingProblem {
  key: string;
  message: string;
  /** Commands that repair it, as typed by store IT (no other flag needed). */
  fix: string[];
}

export function fixCommands(key: string): string[] {
  return key === 'apiDomain'
    ? ['upay-pos settings unset apiDomain', 'upay-pos settings set apiDomain=https://…']
    : [`upay-pos settings unset ${key}`];
}

/** The settings, with every bad stored value replaced by its default and reported. */
export function readSettings(db: Db): { settings: Settings; problems: SettingProblem[] } {
  const rows = prepared(db, 'SELECT key, value FROM settings').all() as Array<{ key: string; value: string }>;
  const raw: Record<string, unknown> = {};
  const problems: SettingProblem[] = [];
  for (const r of rows) {
    try {
      raw[r.key] = JSON.parse(r.value);
    } catch {
      problems.push({ key: r.key, message: 'the stored value is not readable', fix: fixCommands(r.key) });
    }
  }
  for (let i = 0; i < 32; i++) {
    const parsed = settingsSchema.safeParse(raw);
    if (parsed.success) return { settings: parsed.data, problems };
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      if (!(key in raw)) continue;
      delete raw[key];
      problems.push({ key, message: issue.message, fix: fixCommands(key) });
    }
  }
  return { settings: settingsSchema.parse({}), problems };
}

/** The settings; a bad stored value falls back to its default (see readSettings for what was wrong). */
export function getSettings(db: Db): Settings {
  return readSettings(db).settings;
}

/** The error for a stored setting that cannot be used, naming the commands that repair it. */
export function settingInvalid(p: SettingProblem): PosError {
  const fix = p.fix.map((c) => `\`${c}\``).join(' or ');
  return new PosError(
    'SETTING_INVALID',
    `已保存的设置 ${p.key} 无效（${p.message}）。门店 IT 可用 ${fix} 修复。`,
    `The stored setting ${p.key} is invalid (${p.message}). Fix it with ${fix}.`,
    { setting: p.key, reason: p.message, fix: p.fix },
  );
}

/** Validates and stores a patch; `null` values remove a key. Returns the new settings. */
export function setSettings(db: Db, patch: Record<string, unknown>, actor: string, now: number): Settings {
  const removals = Object.keys(patch).filter((k) => patch[k] === null);
  const values = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
  // zod's partial() still fills defaults: keep only the keys the patch names, so one change never resets the others.
  const parsed = settingsPatchSchema.parse(values) as Record<string, unknown>;
  const checked = Object.fromEntries(Object.entries(parsed).filter(([k]) => Object.hasOwn(values, k)));
  for (const k of removals) if (!(k in settingsSchema.shape)) throw new z.ZodError([{ code: 'custom', path: [k], message: `unknown setting ${k}`, input: k }]);
  tx(db, () => {
    const put = prepared(db, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at');
    for (const [k, v] of Object.entries(checked)) put.run(k, JSON.stringify(v), now);
    const del = prepared(db, 'DELETE FROM settings WHERE key = ?');
    for (const k of removals) del.run(k);
    audit(db, now, actor, 'settings.changed', null, { set: checked, removed: removals });
  });
  return getSettings(db);
}
