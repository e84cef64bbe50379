/**
 * Rotating a counter's credential ends the sessions opened with the old one
 * (a real PostgreSQL 18): whoever holds the old secret and CONNECTION LIMIT
 * sessions with it can no longer ship as that terminal, nor keep the
 * counter's new password out.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { businessDayStart, systemClock } from '../../main/common/time';
import { grantTerminal } from '../../main/fleet/grant';
import { migrateHeadOffice } from '../../main/fleet/schema';
import { withHeadOffice } from '../../main/fleet/head-office';
import { backlog } from '../../main/fleet/outbox';
import { Shipper } from '../../main/fleet/shipper';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';

const ho = pgForThisFile();
const DAY = daysAgo(17);
const T0 = businessDayStart(DAY) + 10 * 3_600_000;

async function session(url: string): Promise<{ c: pg.Client; errors: Error[] }> {
  const errors: Error[] = [];
  const c = new pg.Client({ connectionString: url });
  c.on('error', (e) => errors.push(e));
  await c.connect();
  return { c, errors };
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message?: string }) => e.code ?? e.message ?? 'no code');

describe('fleet grant: rotation', () => {
  it('ends the sessions of the old password: they cannot ship, the old password no longer logs in, the new one ships at once', async () => {
    const db = 'ho_rotation';
    const admin = await ho.headOffice(db);
    const grant = () => withHeadOffice(targetOf(admin), (c) => grantTerminal(c, admin, 'TR', 'S1', null));
    const first = await grant();
    expect(first.rotated).toBe(false);

    // A thief with the old secret holds every session the role may have (CONNECTION LIMIT 4).
    const stolen = await Promise.all([0, 1, 2, 3].map(() => session(first.url)));
    expect(await codeOf(session(first.url).then((s) => s.c.end()))).toBe('53300'); // too many connections for the role
    for (const s of stolen) expect(await codeOf(s.c.query('SELECT 1'))).toBe('ok');

    const second = await grant();
    expect(second.rotated).toBe(true);
    expect(second.role).toBe(first.role);

    // The old sessions are gone: a query on them fails.
    for (const s of stolen) expect(await codeOf(s.c.query('SELECT fleet.ensure_day($1::date)', [DAY]))).not.toBe('ok');
    // (A terminated backend leaves pg_stat_activity as it exits.)
    const left = async () => (await ho.pg.query(db, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [first.role])).rows[0].n as number;
    for (const until = Date.now() + 5_000; (await left()) > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    expect(await left()).toBe(0);
    for (const s of stolen) await s.c.end().catch(() => undefined);

    // ship_batch with the old password: no login.
    const c = counterDir('TR', { sn: 'S1', name: 's' });
    revokeThrough(c.db, T0, 100, 'alipay', 'op', ['sending', 'revoked']);
    const ship = async (url: string) => {
      const s = new Shipper({ db: c.db, target: targetOf(url), clock: systemClock, timing: FAST });
      try {
        return await s.drain();
      } finally {
        s.close();
      }
    };
    expect(await codeOf(ship(first.url))).toBe('28P01');
    expect(backlog(c.db, Date.now()).events).toBe(4);
    // The counter's new password logs in (the thief's sessions no longer fill the role's limit) and ships.
    expect(await ship(second.url)).toBe(4);
    const shipped = await ho.pg.query(db, "SELECT count(*)::int AS n FROM fleet.events WHERE terminal_sn = 'TR'");
    expect(shipped.rows[0].n).toBe(4);
    c.db.close();
  });
});

describe('fleet grant: rotation by an admin that is not a superuser', () => {
  it('without pg_signal_backend the rotation is refused and nothing changes (the old sessions and password stay); with it, it rotates', async () => {
    const db = 'ho_rotation_admin';
    await ho.pg.database(db);
    // (CREATEDB too: granting again alters the role NOCREATEDB, which only a role with CREATEDB may.)
    await ho.pg.query('postgres', "CREATE ROLE ho_admin LOGIN CREATEROLE CREATEDB PASSWORD 'ho-admin-pw'");
    await ho.pg.query('postgres', `GRANT CREATE, CONNECT ON DATABASE ${db} TO ho_admin WITH GRANT OPTION`);
    const admin = ho.pg.url(db).replace('postgres:fleet-test-pw@', 'ho_admin:ho-admin-pw@');
    await withHeadOffice(targetOf(admin), migrateHeadOffice);
    const grant = () => withHeadOffice(targetOf(admin), (c) => grantTerminal(c, admin, 'TS', 'S1', null));
    const first = await grant();
    const held = await session(first.url);
    const err = await grant().then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toMatch(/pg_signal_backend.*nothing was changed/);
    expect(await codeOf(held.c.query('SELECT 1'))).toBe('ok');
    expect(await codeOf(session(first.url).then((s) => s.c.end()))).toBe('ok');
    await ho.pg.query('postgres', 'GRANT pg_signal_backend TO ho_admin');
    expect((await grant()).rotated).toBe(true);
    expect(await codeOf(held.c.query('SELECT 1'))).not.toBe('ok');
    await held.c.end().catch(() => undefined);
    expect(await codeOf(session(first.url).then((s) => s.c.end()))).toBe('28P01');
  });
});
