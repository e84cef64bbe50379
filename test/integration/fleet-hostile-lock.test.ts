/**
 * One counter's credential cannot stall the other counters' shipping (head
 * office version 5), on a real PostgreSQL 18. Counter H, with its own
 * credential, sets its role's timeouts away and holds two transactions open:
 * one in which it asked for tomorrow's partition (fleet.ensure_day; before
 * version 5 that held ACCESS EXCLUSIVE on fleet.events, and every ship_batch
 * waited behind it), one with a batch of its own not committed. Counter A
 * ships today's events at once, and tomorrow's within ensure_day's lock
 * timeout: the session holding what making the partition needs is ended.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { businessDayStart, systemClock } from '../../main/common/time';
import { grantTerminal } from '../../main/fleet/grant';
import { withHeadOffice } from '../../main/fleet/head-office';
import { COUNTER_ROLE_SETTINGS, PARTITION_LOCK_TIMEOUT_MS } from '../../main/fleet/schema-v5';
import { Shipper } from '../../main/fleet/shipper';
import type { Db } from '../../main/store/db';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';

const ho = pgForThisFile();

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? `no code: ${String(e)}`);

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** `p`, or a failure naming `what` after `ms`: a session blocked on a lock fails the test instead of hanging it. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still blocked after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Drains the counter's outbox; how long it took (at most `boundMs`). */
async function timedDrain(db: Db, url: string, boundMs: number): Promise<number> {
  const s = new Shipper({ db, target: targetOf(url), clock: systemClock, timing: { ...FAST, queryTimeoutMs: boundMs } });
  const t0 = Date.now();
  try {
    await bounded(s.drain(), boundMs, "counter A's shipping");
    return Date.now() - t0;
  } finally {
    s.close();
  }
}

describe('a hostile counter holding a transaction open', () => {
  it('does not block another counter’s ship for more than ensure_day’s lock timeout, its role’s timeouts set away or not', async () => {
    const db = 'ho_lock';
    const admin = await ho.headOffice(db);
    const grant = (terminal: string, store: string) => withHeadOffice(targetOf(admin), (c) => grantTerminal(c, admin, terminal, store, null));
    const A = await grant('TA', 'S1');
    const H = await grant('TH', 'S9');

    // `fleet grant` gives counters' roles timeouts (defaults a session may SET away, which H does below).
    const settings = await ho.pg.query(
      db,
      'SELECT r.rolname, s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = ANY ($1) ORDER BY 1',
      [[A.role, H.role]],
    );
    expect(settings.rows).toHaveLength(2);
    for (const row of settings.rows as Array<{ setconfig: string[] }>) {
      expect(row.setconfig.sort()).toEqual(COUNTER_ROLE_SETTINGS.map(([k, v]) => `${k}=${v}`).sort());
    }

    // Head office's maintenance made yesterday's and today's partitions; tomorrow's is not made yet. Counters may not run it.
    expect((await ho.pg.query(db, 'SELECT fleet.make_days(0) AS n')).rows[0].n).toBeGreaterThanOrEqual(1);
    const today = daysAgo(0);
    const tomorrow = daysAgo(-1);
    const partitionOf = async (day: string) => (await ho.pg.query(db, 'SELECT to_regclass($1)::text AS t', [`fleet.events_${day.replace(/-/g, '')}`])).rows[0].t;
    expect(await partitionOf(today)).not.toBeNull();
    expect(await partitionOf(tomorrow)).toBeNull();
    const probe = await connect(H.url);
    for (const sql of ['SELECT fleet.make_days(7)', 'SELECT fleet.partition_lock_holders()', "SELECT fleet.end_partition_lock_holders('{}')"]) {
      expect(await codeOf(probe.query(sql)), sql).toBe('42501');
    }
    await probe.end();

    // H, first session: its timeouts set away, it asks for tomorrow's partition in a transaction it keeps open.
    const holder = await connect(H.url);
    for (const [name] of COUNTER_ROLE_SETTINGS) await holder.query(`SET ${name} = 0`);
    await holder.query('BEGIN');
    await holder.query('SELECT fleet.ensure_day($1::date)', [tomorrow]);
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    // A ships today's events: nothing it needs is held (the partition exists; H's lock is not one an insert waits for).
    const a = counterDir('TA', { sn: 'S1', name: 's' });
    revokeThrough(a.db, businessDayStart(today) + 10 * 3_600_000, 500, 'alipay', 'alice', ['sending', 'revoked']);
    expect(await timedDrain(a.db, A.url, 10_000)).toBeLessThan(PARTITION_LOCK_TIMEOUT_MS);

    // H, second session: a batch of its own, not committed (locks on the tables and on H's rows).
    const batch = await connect(H.url);
    for (const [name] of COUNTER_ROLE_SETTINGS) await batch.query(`SET ${name} = 0`);
    await batch.query('BEGIN');
    const at = Date.now();
    await bounded(
      batch.query(
        `SELECT * FROM fleet.ship_batch('TH', 'S9', 'h', 'M1', 'eh', ARRAY['h1'], ARRAY[1]::bigint[], ARRAY[$1]::date[], ARRAY['revoke'],
         ARRAY[$2]::float8[], ARRAY[1]::bigint[], ARRAY['revoked'], ARRAY['OH'], ARRAY[100]::bigint[], ARRAY['alipay'], ARRAY[NULL]::bigint[], ARRAY['h'],
         ARRAY[NULL]::bigint[], ARRAY[NULL], ARRAY[NULL], ARRAY['{}'], ARRAY[$2]::float8[], '[]'::jsonb, ARRAY[$1]::date[])`,
        [today, at],
      ),
      5_000,
      "H's own batch",
    );

    // A ships tomorrow's (a clock a little fast, or just after midnight): ensure_day waits at most its lock timeout, then
    // ends H's session that held what it waited for all along, and makes the partition.
    revokeThrough(a.db, businessDayStart(tomorrow) + 3_600_000, 700, 'wechat', 'alice', ['sending', 'revoked']);
    const took = await timedDrain(a.db, A.url, 10_000);
    expect(took).toBeGreaterThanOrEqual(PARTITION_LOCK_TIMEOUT_MS - 100);
    expect(took).toBeLessThan(PARTITION_LOCK_TIMEOUT_MS + 3_000);
    expect(await partitionOf(tomorrow)).not.toBeNull();
    const shipped = await ho.pg.query(db, "SELECT business_day::text AS day, count(*)::int AS n FROM fleet.events WHERE terminal_sn = 'TA' AND kind = 'revoke' GROUP BY 1 ORDER BY 1");
    expect(shipped.rows).toEqual([
      { day: today, n: 2 },
      { day: tomorrow, n: 2 },
    ]);
    const gone = await ho.pg.query(db, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [holderPid]);
    expect(gone.rows[0].n).toBe(0);
    expect(await codeOf(holder.query('SELECT 1'))).not.toBe('ok');

    // The open batch held nothing anyone waited for: it was left alone, and commits.
    await batch.query('COMMIT');
    const hRows = await ho.pg.query(db, "SELECT count(*)::int AS n FROM fleet.events WHERE terminal_sn = 'TH'");
    expect(hRows.rows[0].n).toBe(1);
    await Promise.all([holder.end().catch(() => undefined), batch.end()]);
    a.db.close();
  }, 60_000);
});
