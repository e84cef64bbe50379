/**
 * `fleet grant`: head office makes one counter's credential. A login role
 * per terminal (its name derived from the database and the terminal), a
 * random password sent to PostgreSQL only as a SCRAM-SHA-256 verifier (the
 * clear password never reaches the server's logs), EXECUTE on the
 * SECURITY DEFINER functions (ship_batch, in its version 4 and version 5
 * signatures, and ensure_day) and nothing else, the role's timeouts
 * (COUNTER_ROLE_SETTINGS: a session stalled in a transaction ends), and the
 * role's terminal (and store) in fleet.terminal_roles, which
 * fleet.ship_batch checks. Granting
 * again rotates: a new password, the old one refused from that moment, and
 * the role's open sessions ended (whoever logged in with the old secret
 * cannot go on shipping as that terminal, nor hold its CONNECTION LIMIT
 * against the new one). `--disable` ends the role's logins and its open
 * sessions.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { SHIP_BATCH_SIGNATURE } from './schema-v2';
import { HEAD_OFFICE_VERSION, headOfficeVersion } from './schema';
import { COUNTER_ROLE_SETTINGS, SHIP_BATCH_V5_SIGNATURE } from './schema-v5';

const GRANT_LOCK = 727_019;

/** The role of a terminal in a database: `upay_t_` and 24 hex digits (roles are cluster-wide; a terminal SN may be any text). */
export function terminalRole(database: string, terminalSn: string): string {
  return `upay_t_${createHash('sha256').update(`${database}\0${terminalSn}`).digest('hex').slice(0, 24)}`;
}

/** A SCRAM-SHA-256 verifier for `password` (RFC 5802/7677, as PostgreSQL stores it). */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface GrantResult {
  role: string;
  terminalSn: string;
  storeSn: string | null;
  rotated: boolean;
  /** The counter's connection string (secret): the admin address with the role and its password. */
  url: string;
}

/** Creates or rotates a terminal's role; `counterHost` replaces the admin address's host:port when counters reach head office elsewhere. */
export async function grantTerminal(
  c: pg.Client,
  adminUrl: string,
  terminalSn: string,
  storeSn: string | null,
  counterHost: string | null,
): Promise<GrantResult> {
  const version = await headOfficeVersion(c);
  if (version < HEAD_OFFICE_VERSION) throw new Error(`head office is at fleet schema version ${version}: run \`upay-pos fleet migrate\` first`);
  const database = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
  const role = terminalRole(database, terminalSn);
  const password = randomBytes(24).toString('base64url');
  let exists = false;
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock($1)', [GRANT_LOCK]);
    exists = (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
    // DDL takes no parameters: the role name is hex, the verifier base64, both quoted anyway.
    const options = `LOGIN NOINHERIT NOCREATEDB NOCREATEROLE CONNECTION LIMIT 4 PASSWORD ${literal(scramVerifier(password))}`;
    await c.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${ident(role)} ${options}`);
    await c.query(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${ident(role)}`);
    await c.query(`GRANT USAGE ON SCHEMA fleet TO ${ident(role)}`);
    await c.query(`GRANT EXECUTE ON FUNCTION ${SHIP_BATCH_SIGNATURE}, ${SHIP_BATCH_V5_SIGNATURE}, fleet.ensure_day(date) TO ${ident(role)}`);
    // Defaults the session may change with SET (ensure_day and ship_batch protect the other counters without them).
    for (const [name, value] of COUNTER_ROLE_SETTINGS) await c.query(`ALTER ROLE ${ident(role)} SET ${name} = ${literal(value)}`);
    await c.query(
      `INSERT INTO fleet.terminal_roles (role_name, terminal_sn, store_sn) VALUES ($1, $2, $3)
       ON CONFLICT (role_name) DO UPDATE SET terminal_sn = EXCLUDED.terminal_sn, store_sn = EXCLUDED.store_sn, rotated_at = now(), disabled_at = NULL`,
      [role, terminalSn, storeSn],
    );
    if (exists) {
      // Rotating: the sessions opened with the old secret end (here, and once more after the commit). An admin who
      // may not end them fails the rotation, nothing changed, rather than leave them running unseen.
      const may = await c.query<{ ok: boolean }>(
        `SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
           OR pg_has_role('pg_signal_backend', 'USAGE') OR pg_has_role($1::name, 'USAGE') AS ok`,
        [role],
      );
      if (!may.rows[0]?.ok) {
        throw new Error(`rotating ${role} ends its open sessions, which this admin role may not: GRANT pg_signal_backend TO it (nothing was changed)`);
      }
      await terminateSessions(c, role);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  // And once more now the new password is committed: a session opened with the old one in between ends too.
  if (exists) await terminateSessions(c, role);
  const u = new URL(adminUrl);
  if (counterHost) u.host = counterHost;
  u.username = role;
  u.password = password;
  return { role, terminalSn, storeSn, rotated: exists, url: u.toString() };
}

/** Ends a terminal's credential: no more logins, its sessions closed; its rows stay. */
export async function disableTerminal(c: pg.Client, terminalSn: string): Promise<string | null> {
  const r = await c.query<{ role_name: string }>('UPDATE fleet.terminal_roles SET disabled_at = now() WHERE terminal_sn = $1 RETURNING role_name', [terminalSn]);
  const role = r.rows[0]?.role_name;
  if (!role) return null;
  await c.query(`ALTER ROLE ${ident(role)} NOLOGIN`);
  await terminateSessions(c, role);
  return role;
}

/** Ends every session of `role` (its backends in pg_stat_activity); needs pg_signal_backend, the role's privileges, or superuser. */
async function terminateSessions(c: pg.Client, role: string): Promise<void> {
  await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [role]);
}
