/**
 * Head office can trust the fleet (issue 22), on a real PostgreSQL 18: the
 * documented setup (migrate, grant, configure --url-file, ship) ships with a
 * credential per counter; counter B's credential cannot insert, read, alter
 * or move counter A's rows; a new day's partition is made by 8 sessions at
 * once; a poison event is set aside and the rest flows; a restored backup
 * loses nothing; identity is the one of the moment an event was written.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { businessDay, businessDayStart, systemClock } from '../../main/common/time';
import { backlog } from '../../main/fleet/outbox';
import { shipBatch } from '../../main/fleet/ship-batch';
import { Shipper } from '../../main/fleet/shipper';
import { openDb, type Db } from '../../main/store/db';
import { daysAgo } from '../support/days';
import { cli, counterDir, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';

const ho = pgForThisFile();

const target = targetOf;
/** Well inside the days a counter may ship (see test/support/days.ts). */
const DAY = daysAgo(17);
const T0 = businessDayStart(DAY) + 10 * 3_600_000;

const headOffice = (name: string) => ho.headOffice(name);

async function drain(db: Db, url: string): Promise<Shipper> {
  const s = new Shipper({ db, target: target(url), clock: systemClock, timing: FAST });
  try {
    await s.drain();
  } finally {
    s.close();
  }
  return s;
}

async function as<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? 'no code');

describe('fleet: a credential per counter, enforced by PostgreSQL', () => {
  it('the documented setup ships; B cannot insert, read, alter or move A’s rows; granting again rotates', async () => {
    const db = 'ho_trust';
    const admin = await ho.pg.database(db);
    const env = { UPAY_POS_QUIET: '1', UPAY_POS_FLEET_ADMIN_URL: admin };
    const a = counterDir('TA', { sn: 'S1', name: '一号店' });
    const b = counterDir('TB', { sn: 'S2', name: '二号店' });
    revokeThrough(a.db, T0, 88_800, 'alipay', 'alice', ['sending', 'pending']);
    revokeThrough(b.db, T0, 500, 'wechat', 'bob', ['sending', 'revoked']);
    a.db.close();
    b.db.close();

    // docs/fleet.md, "Setting up": head office migrates and grants; store IT configures from the file.
    expect((await cli(['fleet', 'migrate', '--data-dir', a.dir], env)).code).toBe(0);
    const secretA = path.join(a.dir, 'ta.secret');
    const secretB = path.join(b.dir, 'tb.secret');
    const gA = await cli(['fleet', 'grant', '--terminal', 'TA', '--store', 'S1', '--out', secretA, '--json'], env);
    expect(gA.code).toBe(0);
    expect((await cli(['fleet', 'grant', '--terminal', 'TB', '--store', 'S2', '--out', secretB], env)).code).toBe(0);
    expect(fs.statSync(secretA).mode & 0o777).toBe(0o600);
    const urlA = fs.readFileSync(secretA, 'utf8').trim();
    const urlB = fs.readFileSync(secretB, 'utf8').trim();
    const pwA = new URL(urlA).password;
    expect(gA.out).not.toContain(pwA);
    expect(JSON.parse(gA.out)).toMatchObject({ terminal: 'TA', store: 'S1', rotated: false });
    for (const c of [a, b]) {
      const secret = c === a ? secretA : secretB;
      expect((await cli(['fleet', 'configure', '--url-file', secret, '--data-dir', c.dir], { UPAY_POS_QUIET: '1' })).code).toBe(0);
      const once = await cli(['fleet', 'ship', '--once', '--json', '--data-dir', c.dir], { UPAY_POS_QUIET: '1' });
      expect(once.code, once.err).toBe(0);
      expect(once.out + once.err).not.toContain(new URL(secret === secretA ? urlA : urlB).password);
    }
    const aOps = async () => (await ho.pg.query(db, "SELECT terminal_sn, store_sn, state, amount_cents::int AS cents FROM fleet.operations WHERE terminal_sn = 'TA'")).rows;
    expect(await aOps()).toEqual([{ terminal_sn: 'TA', store_sn: 'S1', state: 'pending', cents: 88_800 }]);
    const eventsB = await ho.pg.query(db, "SELECT count(*)::int AS n FROM fleet.events WHERE terminal_sn = 'TB' AND kind != 'heartbeat'");
    expect(eventsB.rows[0].n).toBe(4);

    // B's credential, used directly against head office.
    await as(urlB, async (c) => {
      for (const sql of [
        'SELECT * FROM fleet.events',
        'SELECT * FROM fleet.operations',
        'SELECT * FROM fleet.terminals',
        'SELECT * FROM fleet.day_totals',
        'SELECT * FROM fleet.terminal_roles',
        "UPDATE fleet.operations SET state = 'rejected' WHERE terminal_sn = 'TA'",
        "UPDATE fleet.terminals SET store_sn = 'S2' WHERE terminal_sn = 'TA'",
        "DELETE FROM fleet.events WHERE terminal_sn = 'TA'",
        `INSERT INTO fleet.events (terminal_sn, seq, business_day, kind, at, payload, event_id) VALUES ('TA', 99, '${DAY}', 'revoke', now(), '{}', 'x')`,
        "UPDATE fleet.terminal_roles SET terminal_sn = 'TA'",
      ]) {
        expect(await codeOf(c.query(sql)), sql).toBe('42501');
      }
      // Through the one door it has: A's terminal, or its own terminal moved to A's store, are refused.
      const row = {
        seq: 1_000, kind: 'revoke' as const, at: T0 + 5_000, business_day: DAY, op_id: 1, op_state: 'rejected', order_sn: 'X', amount_cents: 88_800,
        payway: 'alipay', operator_id: null, operator_name: 'mallory', approver_id: null, approver_name: null, action: null,
        payload: JSON.stringify({ requested_at: T0 }), event_id: 'forged', epoch: 'e', terminal_sn: 'TA', store_sn: 'S1', store_name: null, merchant_sn: null,
      };
      const asA = { terminalSn: 'TA', storeSn: 'S1', storeName: null, merchantSn: null, epoch: 'e' };
      expect(await codeOf(shipBatch(c, asA, [row], []))).toBe('UP001');
      await c.query('ROLLBACK');
      expect(await codeOf(shipBatch(c, { ...asA, terminalSn: 'TB' }, [{ ...row, terminal_sn: 'TB' }], []))).toBe('UP001');
      await c.query('ROLLBACK');
      expect(await codeOf(c.query("SELECT fleet.ensure_day('1999-01-01')"))).toBe('22023');
    });
    expect(await aOps()).toEqual([{ terminal_sn: 'TA', store_sn: 'S1', state: 'pending', cents: 88_800 }]);
    const store = await ho.pg.query(db, "SELECT store_sn FROM fleet.terminals WHERE terminal_sn = 'TA'");
    expect(store.rows).toEqual([{ store_sn: 'S1' }]);

    // Rotation: granting A again hands out a new secret; the old one no longer logs in.
    const secretA2 = path.join(a.dir, 'ta-2.secret');
    const rot = await cli(['fleet', 'grant', '--terminal', 'TA', '--store', 'S1', '--out', secretA2, '--json'], env);
    expect(JSON.parse(rot.out)).toMatchObject({ rotated: true });
    expect(await codeOf(as(urlA, (c) => c.query('SELECT 1')))).toBe('28P01');
    expect(await codeOf(as(fs.readFileSync(secretA2, 'utf8').trim(), (c) => c.query('SELECT 1')))).toBe('ok');
    // --disable ends it.
    expect((await cli(['fleet', 'grant', '--terminal', 'TA', '--disable'], env)).code).toBe(0);
    expect(await codeOf(as(fs.readFileSync(secretA2, 'utf8').trim(), (c) => c.query('SELECT 1')))).toBe('28000');
    // Secrets never on argv: the old --url is refused.
    expect((await cli(['fleet', 'configure', '--url', urlB, '--data-dir', b.dir], { UPAY_POS_QUIET: '1' })).code).toBe(2);
  });
});

describe('fleet: no silent loss', () => {
  it('a new day: 8 sessions make its partition at once, and 8 shippers ship into it', async () => {
    const db = 'ho_newday';
    const url = await headOffice(db);
    const day = businessDay(Date.now() + 86_400_000);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(4242)');
    const sessions = Array.from({ length: 8 }, () =>
      as(url, (c) => c.query(`SELECT pg_advisory_lock_shared(4242); SELECT fleet.ensure_day('${day}')`)).then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    );
    // All 8 wait on the lock, then go at the same moment.
    for (;;) {
      const w = await holder.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      if (w.rows[0].n === 8) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await holder.query('SELECT pg_advisory_unlock(4242)');
    await holder.end();
    expect(await Promise.all(sessions)).toEqual(Array(8).fill('ok'));

    const day2 = businessDay(Date.now() + 2 * 86_400_000);
    const counters = Array.from({ length: 8 }, (_, i) => counterDir(`TN${i}`, { sn: 'S1', name: 's' }));
    for (const c of counters) revokeThrough(c.db, businessDayStart(day2) + 3_600_000, 100, 'alipay', 'a', ['sending', 'revoked']);
    const results = await Promise.all(counters.map((c) => drain(c.db, url).then(() => 'ok', (e: Error) => e.message)));
    expect(results).toEqual(Array(8).fill('ok'));
    const n = await ho.pg.query(db, `SELECT count(*)::int AS n FROM fleet.day_totals WHERE business_day = '${day2}'`);
    expect(n.rows[0].n).toBe(1);
    for (const c of counters) c.db.close();
  });

  it('a poison event is cleaned or set aside with an alert; later events keep flowing', async () => {
    const db = 'ho_poison';
    const url = await headOffice(db);
    const c = counterDir('TP', { sn: 'S1', name: 's' });
    // A gateway message and an operator name with U+0000 and a lone surrogate: cleaned, shipped.
    const { id } = revokeThrough(c.db, T0, 300, 'alipay', 'eve\u0000', ['sending']);
    c.db.prepare("UPDATE revokes SET state = 'rejected', gateway_message = ?, updated_at = ? WHERE id = ?").run('bad\u0000msg \ud800', T0 + 1000, id);
    // Something PostgreSQL refuses whatever is done: a day that does not exist.
    revokeThrough(c.db, T0 + 2000, 400, 'alipay', 'bob', ['sending', 'revoked']);
    const poison = c.db.prepare("SELECT max(seq) FROM fleet_outbox WHERE kind = 'revoke'").pluck().get() as number;
    c.db.prepare("UPDATE fleet_outbox SET business_day = '2026-02-30' WHERE seq = ?").run(poison);
    for (let i = 0; i < 5; i++) revokeThrough(c.db, T0 + 10_000 + i * 1000, 100, 'wechat', 'carol', ['sending', 'revoked']);
    const s = await drain(c.db, url);
    expect(s.stats.setAside).toBe(1);
    const b = backlog(c.db, Date.now());
    expect(b).toMatchObject({ events: 0, setAside: 1 });
    expect(b.warning).toContain('set aside');
    const st = await cli(['fleet', 'status', '--json', '--data-dir', c.dir], { UPAY_POS_QUIET: '1', UPAY_POS_FLEET_URL: url });
    expect(JSON.parse(st.out).cap).toEqual({ rows: 1, cap: 200_000, dropped: { heartbeats: 0, audit: 0, noMoney: 0, money: 0 } });
    expect(JSON.parse(st.out).setAsideEvents).toEqual([expect.objectContaining({ seq: poison, kind: 'revoke', reported: true, reason: expect.stringContaining('22008') })]);
    const alerts = await ho.pg.query(db, 'SELECT terminal_sn, kind, seq::int AS seq, event_kind, detail FROM fleet.alerts');
    expect(alerts.rows).toEqual([{ terminal_sn: 'TP', kind: 'set_aside', seq: poison, event_kind: 'revoke', detail: expect.stringContaining('22008') }]);
    const cleaned = await ho.pg.query(db, "SELECT operator_name, payload->>'gateway_message' AS m FROM fleet.events WHERE kind = 'revoke' AND op_state = 'rejected'");
    // (SQLite hands the lone surrogate back as invalid UTF-8 bytes, each one U+FFFD.)
    expect(cleaned.rows).toEqual([{ operator_name: 'eve\ufffd', m: expect.stringMatching(/^bad\ufffdmsg \ufffd+$/) }]);
    const totals = await ho.pg.query(db, 'SELECT operations::int AS n, amount_cents::int AS s FROM fleet.day_totals WHERE business_day = $1', [DAY]);
    expect(totals.rows).toEqual([{ n: 5, s: 500 }]);
    // Once what refused it is fixed, `fleet requeue` sends it again: it arrives, and is no sign of a restored backup.
    c.db.prepare('UPDATE fleet_outbox SET business_day = ? WHERE seq = ?').run(DAY, poison);
    expect(JSON.parse((await cli(['fleet', 'requeue', '--json', '--data-dir', c.dir], { UPAY_POS_QUIET: '1' })).out)).toEqual({ requeued: 1 });
    await drain(c.db, url);
    expect(backlog(c.db, Date.now())).toMatchObject({ events: 0, setAside: 0, restoreDetectedAt: null });
    const after = await ho.pg.query(db, 'SELECT sum(operations)::int AS n, sum(amount_cents)::int AS s FROM fleet.day_totals WHERE business_day = $1', [DAY]);
    expect(after.rows).toEqual([{ n: 6, s: 900 }]);
    expect((await ho.pg.query(db, 'SELECT kind FROM fleet.alerts')).rows).toEqual([{ kind: 'set_aside' }]);
    c.db.close();
  });

  it('a restored backup: new events reusing sequence numbers all arrive, the restore is detected, a new epoch starts', async () => {
    const db = 'ho_restore';
    const url = await headOffice(db);
    const c = counterDir('TR', { sn: 'S1', name: 's' });
    const R = ['sending', 'revoked'];
    revokeThrough(c.db, T0, 100, 'alipay', 'a', R);
    await drain(c.db, url);
    const backup = path.join(c.dir, 'backup.db');
    await c.db.backup(backup);
    const epochBefore = backlog(c.db, Date.now()).epoch;
    revokeThrough(c.db, T0 + 60_000, 200, 'alipay', 'a', R);
    revokeThrough(c.db, T0 + 120_000, 300, 'alipay', 'a', R);
    await drain(c.db, url);
    // Store IT restores yesterday's backup over the data dir.
    c.db.close();
    for (const f of ['upay-pos.db-wal', 'upay-pos.db-shm']) fs.rmSync(path.join(c.dir, f), { force: true });
    fs.copyFileSync(backup, path.join(c.dir, 'upay-pos.db'));
    let restored = openDb(c.dir);
    revokeThrough(restored, T0 + 180_000, 400, 'alipay', 'a', R);
    revokeThrough(restored, T0 + 240_000, 500, 'alipay', 'a', R);
    await drain(restored, url);
    const b = backlog(restored, Date.now());
    expect(b.restoreDetectedAt).not.toBeNull();
    expect(b.epoch).not.toBe(epochBefore);
    // Once more after the new epoch: no new alert.
    revokeThrough(restored, T0 + 300_000, 600, 'alipay', 'a', R);
    await drain(restored, url);
    restored.close();
    restored = openDb(c.dir);
    expect(backlog(restored, Date.now()).events).toBe(0);
    const totals = await ho.pg.query(db, 'SELECT operations::int AS n, amount_cents::int AS s FROM fleet.day_totals WHERE business_day = $1', [DAY]);
    expect(totals.rows).toEqual([{ n: 6, s: 2100 }]);
    const alerts = await ho.pg.query(db, 'SELECT kind FROM fleet.alerts');
    expect(alerts.rows).toEqual([{ kind: 'restored' }]);
    const reused = await ho.pg.query(db, "SELECT seq, count(*)::int AS n FROM fleet.events WHERE kind = 'revoke' GROUP BY seq HAVING count(*) > 1");
    expect(reused.rows.length).toBeGreaterThan(0);
    restored.close();
  });

  it('identity is captured when an event is written: events from before a re-activation keep their terminal and store', async () => {
    const db = 'ho_identity';
    const admin = await headOffice(db);
    const c = counterDir('TOLD', { sn: 'SOLD', name: 'old' });
    revokeThrough(c.db, T0, 100, 'alipay', 'a', ['sending', 'revoked']);
    // activate --force to another terminal of another store, the old events not shipped yet.
    c.db.prepare("UPDATE terminal SET terminal_sn = 'TNEW', store_sn = 'SNEW' WHERE id = 1").run();
    revokeThrough(c.db, T0 + 60_000, 200, 'alipay', 'a', ['sending', 'revoked']);
    c.db.close();
    const secret = path.join(c.dir, 'new.secret');
    const env = { UPAY_POS_QUIET: '1', UPAY_POS_FLEET_ADMIN_URL: admin };
    expect((await cli(['fleet', 'grant', '--terminal', 'TNEW', '--store', 'SNEW', '--out', secret], env)).code).toBe(0);
    expect((await cli(['fleet', 'configure', '--url-file', secret, '--data-dir', c.dir], env)).code).toBe(0);
    const once = await cli(['fleet', 'ship', '--once', '--data-dir', c.dir], { UPAY_POS_QUIET: '1' });
    expect(once.code, once.err).toBe(0);
    // The new credential may not ship the old terminal's events: they are set aside and reported, the new ones arrive.
    const ops = await ho.pg.query(db, 'SELECT terminal_sn, store_sn, amount_cents::int AS cents FROM fleet.operations');
    expect(ops.rows).toEqual([{ terminal_sn: 'TNEW', store_sn: 'SNEW', cents: 200 }]);
    const alerts = await ho.pg.query(db, 'SELECT terminal_sn, count(*)::int AS n FROM fleet.alerts GROUP BY 1');
    expect(alerts.rows).toEqual([{ terminal_sn: 'TNEW', n: 4 }]);
    // Head office's own role ships them under the terminal they were written by.
    const d = openDb(c.dir);
    d.prepare('UPDATE fleet_outbox SET set_aside_at = NULL').run();
    await drain(d, admin);
    const all = await ho.pg.query(db, 'SELECT terminal_sn, store_sn, amount_cents::int AS cents FROM fleet.operations ORDER BY cents');
    expect(all.rows).toEqual([
      { terminal_sn: 'TOLD', store_sn: 'SOLD', cents: 100 },
      { terminal_sn: 'TNEW', store_sn: 'SNEW', cents: 200 },
    ]);
    expect(backlog(d, Date.now()).shippedTotal).toBe(
      (await ho.pg.query(db, "SELECT count(*)::int AS n FROM fleet.events WHERE kind != 'heartbeat'")).rows[0].n,
    );
    d.close();
  });
});
