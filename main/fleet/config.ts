/**
 * Where head office's PostgreSQL is: store IT's config only (the CLI's
 * `fleet configure`, the UPAY_POS_FLEET_URL environment variable, or the
 * value stored by the CLI in fleet_state), never anything the renderer can
 * reach. The string holds a password, so everything shown of it goes through
 * `describeTarget`, and every error text through `redactor`.
 */
import { PosError } from '../errors';
import { prepared, type Db } from '../store/db';

export const FLEET_URL_ENV = 'UPAY_POS_FLEET_URL';

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);
const TLS_MODES = new Set(['require', 'verify-ca', 'verify-full', 'no-verify']);

export interface FleetTarget {
  /** The full connection string (secret). */
  url: string;
  /** user@host:port/db?sslmode, without the password. */
  shown: string;
  source: 'env' | 'stored';
}

const badUrl = (reasonEn: string, reasonZh: string) =>
  new PosError('FLEET_URL_INVALID', `总部数据库地址无效：${reasonZh}`, `The head-office database address is invalid: ${reasonEn}`);

/** Checks a connection string: postgres(ql)://, a host, and TLS unless the host is this machine. */
export function checkFleetUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl('not a postgres:// URL', '不是 postgres:// 地址');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw badUrl('it must start with postgres://', '必须以 postgres:// 开头');
  if (!u.hostname) throw badUrl('it names no host', '缺少主机名');
  const mode = u.searchParams.get('sslmode');
  if (!LOOPBACK.has(u.hostname) && (mode === null || !TLS_MODES.has(mode))) {
    throw badUrl('a database on another machine needs TLS: add ?sslmode=verify-full (or require)', '非本机数据库必须使用 TLS：请加上 ?sslmode=verify-full（或 require）');
  }
  return url;
}

/** What may be shown of a connection string: no password, ever. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const mode = u.searchParams.get('sslmode');
    return `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}${mode ? `?sslmode=${mode}` : ''}`;
  } catch {
    return '(unreadable address)';
  }
}

/** Removes the connection string and its password from any text (errors from the driver, logs). */
export function redactor(url: string | null): (text: string) => string {
  if (!url) return (t) => t;
  const secrets: string[] = [url];
  try {
    const u = new URL(url);
    if (u.password) secrets.push(u.password, decodeURIComponent(u.password));
  } catch {
    // An unreadable string is still removed whole.
  }
  const ordered = secrets.filter((s) => s.length >= 1).sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((t, s) => t.split(s).join('***'), text);
}

export function storedFleetUrl(db: Db): string | null {
  return (prepared(db, 'SELECT url FROM fleet_state WHERE id = 1').pluck().get() as string | null | undefined) ?? null;
}

export function storeFleetUrl(db: Db, url: string | null): void {
  if (url !== null) checkFleetUrl(url);
  prepared(db, 'UPDATE fleet_state SET url = ? WHERE id = 1').run(url);
}

/** The environment first (a deployment's secret store), then the stored value; null: no fleet. */
export function fleetTarget(db: Db, env: NodeJS.ProcessEnv): FleetTarget | null {
  const fromEnv = env[FLEET_URL_ENV];
  if (fromEnv) return { url: checkFleetUrl(fromEnv), shown: describeUrl(fromEnv), source: 'env' };
  const stored = storedFleetUrl(db);
  return stored ? { url: checkFleetUrl(stored), shown: describeUrl(stored), source: 'stored' } : null;
}
