/**
 * Where head office's PostgreSQL is, and this counter's own credential for
 * it: store IT's config only (`fleet configure --url-file/--url-stdin`,
 * sealed in the key vault, or the UPAY_POS_FLEET_URL environment variable of
 * a deployment's secret store), never anything the renderer can reach. The
 * string holds a password, so everything shown of it goes through
 * `describeUrl`, and every error text through `redactor`.
 *
 * The TLS rule judges what pg will actually use: the string is parsed by
 * pg-connection-string (pg's own parser), and the client is built from that
 * parse, never from the string again.
 */
import type { parse as Parse } from 'pg-connection-string';
import type pg from 'pg';
import { PosError } from '../errors';
import { prepared, type Db } from '../store/db';
import type { KeyVault } from '../terminal/vault';

export const FLEET_URL_ENV = 'UPAY_POS_FLEET_URL';
/** The explicit opt-in that lets `sslmode=require` (encrypted, server not verified) through; logged on every use. */
export const FLEET_ALLOW_REQUIRE_ENV = 'UPAY_POS_FLEET_ALLOW_SSLMODE_REQUIRE';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const VERIFYING = new Set(['verify-full', 'verify-ca']);
const KNOWN_MODES = new Set(['disable', 'require', 'verify-ca', 'verify-full']);
/** The parameters a fleet address may carry; anything else (host=, ssl=, options=, uselibpqcompat=, …) is refused. */
const ALLOWED_PARAMS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name', 'connect_timeout']);

export interface FleetTarget {
  /** The full connection string (secret). */
  url: string;
  /** user@host:port/db?sslmode, without the password. */
  shown: string;
  source: 'env' | 'stored';
}

const badUrl = (reasonEn: string, reasonZh: string) =>
  new PosError('FLEET_URL_INVALID', `总部数据库地址无效：${reasonZh}`, `The head-office database address is invalid: ${reasonEn}`);

export interface CheckedUrl {
  config: pg.ClientConfig;
  host: string;
  sslmode: string | null;
  /** `sslmode=require` let through by the opt-in (the caller logs it). */
  unverified: boolean;
}

/**
 * Judges a connection string as pg will read it: postgres(ql)://, one host in
 * the authority (no `host=` override), no repeated parameter, only known
 * parameters, and TLS that verifies the server unless the host is this
 * machine (`verify-full`/`verify-ca`; `require` only with the opt-in,
 * `no-verify` never).
 */
export function checkFleetUrlConfig(url: string, env: NodeJS.ProcessEnv = {}): CheckedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl('not a postgres:// URL', '不是 postgres:// 地址');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw badUrl('it must start with postgres://', '必须以 postgres:// 开头');
  const seen = new Set<string>();
  for (const key of u.searchParams.keys()) {
    if (seen.has(key)) throw badUrl(`the parameter ${key} is given twice`, `参数 ${key} 重复`);
    seen.add(key);
    if (!ALLOWED_PARAMS.has(key)) throw badUrl(`the parameter ${key} is not allowed (host= and the like would bypass the TLS rule)`, `不允许参数 ${key}`);
  }
  const written = u.searchParams.get('sslmode');
  if (written !== null && !KNOWN_MODES.has(written)) throw badUrl(`sslmode=${written} is not accepted (verify-full, verify-ca; disable on this machine only)`, `不接受 sslmode=${written}`);
  // Loaded here, not at startup: every runtime asks whether a fleet is configured, and most counters have none.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require('pg-connection-string') as { parse: typeof Parse };
  let parsed: ReturnType<typeof Parse>;
  try {
    // pg 8 reads require and verify-ca as verify-full (and warns on stderr each time): parsed as such, judged as written.
    const forParse = new URL(url);
    if (written === 'require' || written === 'verify-ca') forParse.searchParams.set('sslmode', 'verify-full');
    parsed = parse(forParse.toString());
  } catch {
    throw badUrl('pg cannot read it', 'pg 无法解析');
  }
  const host = parsed.host ?? '';
  if (!host || host.startsWith('/')) throw badUrl('it names no host', '缺少主机名');
  // What pg connects to must be what the authority names (pg would also honour a host= parameter).
  if (host !== u.hostname.replace(/^\[|\]$/g, '')) throw badUrl('the host pg would use differs from the one written', '实际连接的主机与地址不符');
  const mode = typeof parsed.sslmode === 'string' ? written : null;
  const ssl = parsed.ssl;
  const verifies = typeof ssl === 'object' && ssl !== null && (ssl as { rejectUnauthorized?: boolean }).rejectUnauthorized !== false;
  let unverified = false;
  if (!LOOPBACK.has(host)) {
    const optIn = mode === 'require' && env[FLEET_ALLOW_REQUIRE_ENV] === '1';
    if (!((mode !== null && VERIFYING.has(mode)) || optIn) || !verifies) {
      throw badUrl(
        'a database on another machine needs TLS that verifies the server: add ?sslmode=verify-full (or verify-ca with sslrootcert=…)',
        '非本机数据库必须使用验证服务器的 TLS：请加上 ?sslmode=verify-full（或 verify-ca 并指定 sslrootcert）',
      );
    }
    unverified = optIn;
  } else if (mode !== null && mode !== 'disable' && !verifies) {
    throw badUrl(`sslmode=${mode} does not verify the server`, `sslmode=${mode} 不验证服务器`);
  }
  const config: pg.ClientConfig = {
    host,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: parsed.user ?? undefined,
    password: parsed.password ?? undefined,
    database: parsed.database ?? undefined,
    ssl: unverified ? { ...(ssl as object), rejectUnauthorized: false } : (ssl as pg.ClientConfig['ssl']) ?? false,
  };
  return { config, host, sslmode: mode, unverified };
}

/** The same judgement, for callers that keep the string. */
export function checkFleetUrl(url: string, env: NodeJS.ProcessEnv = {}): string {
  checkFleetUrlConfig(url, env);
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

/** Seals the counter's credential in the vault (null: forget it); only the redacted form is kept in clear. */
export function storeFleetUrl(db: Db, vault: KeyVault, url: string | null, env: NodeJS.ProcessEnv = {}): void {
  if (url === null) {
    prepared(db, 'UPDATE fleet_state SET sealed_url = NULL, url_vault = NULL, url_shown = NULL WHERE id = 1').run();
    return;
  }
  checkFleetUrl(url, env);
  prepared(db, 'UPDATE fleet_state SET sealed_url = ?, url_vault = ?, url_shown = ? WHERE id = 1').run(vault.seal(url), vault.kind, describeUrl(url));
}

/** What `fleet status` shows of the stored credential, without opening it. */
export function storedFleetShown(db: Db): { shown: string; vault: string } | null {
  const r = prepared(db, 'SELECT url_shown, url_vault FROM fleet_state WHERE id = 1 AND sealed_url IS NOT NULL').get() as
    | { url_shown: string | null; url_vault: string | null }
    | undefined;
  return r ? { shown: r.url_shown ?? '(sealed)', vault: r.url_vault ?? '?' } : null;
}

/** A fleet address is configured (the environment, checked, or a sealed credential); nothing is opened. */
export function fleetConfigured(db: Db, env: NodeJS.ProcessEnv): boolean {
  const fromEnv = env[FLEET_URL_ENV];
  if (fromEnv) checkFleetUrl(fromEnv, env);
  return Boolean(fromEnv) || storedFleetShown(db) !== null;
}

/** The environment first (a deployment's secret store), then the sealed credential; null: no fleet. */
export function fleetTarget(db: Db, env: NodeJS.ProcessEnv, vault: KeyVault | null): FleetTarget | null {
  const fromEnv = env[FLEET_URL_ENV];
  if (fromEnv) return { url: checkFleetUrl(fromEnv, env), shown: describeUrl(fromEnv), source: 'env' };
  const r = prepared(db, 'SELECT sealed_url, url_vault FROM fleet_state WHERE id = 1').get() as { sealed_url: Buffer | null; url_vault: string | null } | undefined;
  if (!r?.sealed_url) return null;
  if (!vault || vault.kind !== r.url_vault) {
    throw new PosError(
      'FLEET_NOT_CONFIGURED',
      `总部数据库凭据由 ${r.url_vault ?? '?'} 密钥库封存，此程序无法打开：请重新运行 upay-pos fleet configure`,
      `The head-office credential is sealed by the ${r.url_vault ?? '?'} vault, which this program cannot open: run \`upay-pos fleet configure\` again`,
    );
  }
  let url: string;
  try {
    url = vault.open(r.sealed_url);
  } catch {
    throw new PosError(
      'FLEET_NOT_CONFIGURED',
      '总部数据库凭据无法用此数据目录的密钥打开（vault.key 被替换？）：请重新运行 upay-pos fleet configure',
      "The head-office credential cannot be opened with this data dir's vault key (was vault.key replaced?): run `upay-pos fleet configure` again",
    );
  }
  return { url: checkFleetUrl(url, env), shown: describeUrl(url), source: 'stored' };
}

/** The client settings for a target: built from the judged parse, not from the string. */
export function clientConfig(target: FleetTarget, env: NodeJS.ProcessEnv, log?: (line: string) => void): pg.ClientConfig {
  const c = checkFleetUrlConfig(target.url, env);
  if (c.unverified) log?.(`fleet: ${target.shown}: sslmode=require accepted by ${FLEET_ALLOW_REQUIRE_ENV}=1: the connection is encrypted but the server is NOT verified`);
  return c.config;
}
