/**
 * Head office books every revoke, refund and payment on the day the
 * counter's 日结 counts it (local migration 19, head office version 5), on a
 * real PostgreSQL 18: a revoke sent at 23:59:55 whose answer was lost and
 * that settled at 00:10, a refund asked at 23:59:58 in the same way, a QR code
 * shown at 23:59 and paid at 00:00:30. Each operation's earlier events reached
 * head office before midnight (the shipper runs all along); its final event
 * carries the counting day, and day_totals groups by it. Also: the frozen
 * SQL of migration 19 is what the generator makes; a payment's paid event
 * takes its order's day (stored after it in the same transaction); events in
 * the outbox before migration 19 are filled; a counter not upgraded yet
 * (version 4's ship_batch) and an upgraded counter against a head office at
 * version 4 still ship; day_totals of one day is read by an index.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { businessDayStart, ManualClock, systemClock } from '../../main/common/time';
import { grantTerminal } from '../../main/fleet/grant';
import { withHeadOffice } from '../../main/fleet/head-office';
import { countingDayBackfillSql, countingDayTriggersSql, LATER_FLEET_TRIGGER_MIGRATIONS } from '../../main/fleet/outbox-sql';
import { migrateHeadOffice } from '../../main/fleet/schema';
import { COUNTER_ROLE_SETTINGS, SHIP_BATCH_V5_SIGNATURE } from '../../main/fleet/schema-v5';
import { Shipper } from '../../main/fleet/shipper';
import { openDb, type Db } from '../../main/store/db';
import { migrate } from '../../main/store/migrate';
import { M019_BACKFILL_SQL, M019_FLEET_TRIGGERS_SQL, m019 } from '../../main/store/migrations/019-counting-day';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';
import { createHarness, until, type Harness } from '../support/harness';

const ho = pgForThisFile();

const D = daysAgo(5);
const D1 = daysAgo(4);
const at = (day: string, hh: number, mm = 0, ss = 0) => businessDayStart(day) + ((hh * 60 + mm) * 60 + ss) * 1000;
const MIN = 60_000;
/** The runtime never re-queries on its own before the test moves its clock. */
const SLOW = { firstQueryMs: 10 * MIN, queryEveryMs: 10 * MIN, pendingWindowMs: 60 * MIN, backoffBaseMs: 30, backoffCapMs: 200 };
const WHO: Accountable = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };
const ZERO = { count: 0, cents: 0 };

async function drain(db: Db, url: string): Promise<void> {
  const s = new Shipper({ db, target: targetOf(url), clock: systemClock, timing: FAST });
  try {
    await s.drain();
  } finally {
    s.close();
  }
}

/** The counter ships now (the shipper runs all along in production). */
async function shipNow(h: Harness, url: string): Promise<void> {
  const db = openDb(h.dataDir);
  try {
    await drain(db, url);
  } finally {
    db.close();
  }
}

type Figures = Record<'revoke' | 'refund' | 'payment', { count: number; cents: number }>;

/** What the counter's 日结 of `day` counts: revokes, refunds and the payments taken at this counter. */
function counterFigures(h: Harness, day: string): Figures {
  const r = h.rt.dayReport(day);
  return { revoke: r.revokes, refund: r.refunds, payment: r.counterPayments?.taken ?? ZERO };
}

/** What head office's day_totals counts on `day`. */
async function headOfficeFigures(db: string, day: string): Promise<Figures> {
  const rows = await ho.pg.query(db, 'SELECT kind, sum(operations)::int AS count, sum(amount_cents)::int AS cents FROM fleet.day_totals WHERE business_day = $1 GROUP BY kind', [day]);
  const of = (kind: string) => {
    const r = rows.rows.find((x: { kind: string }) => x.kind === kind) as { count: number; cents: number } | undefined;
    return r ? { count: r.count, cents: r.cents } : ZERO;
  };
  return { revoke: of('revoke'), refund: of('refund'), payment: of('payment') };
}

/** The counter's 日结 and head office agree on both days; the operation counts on D+1 (`kind`, `cents`). */
async function expectSameDays(h: Harness, db: string, kind: keyof Figures, cents: number): Promise<void> {
  for (const day of [D, D1]) expect(await headOfficeFigures(db, day), day).toEqual(counterFigures(h, day));
  expect(counterFigures(h, D)[kind]).toEqual(ZERO);
  expect(counterFigures(h, D1)[kind]).toEqual({ count: 1, cents });
}

describe('head office books an operation on the day the counter’s 日结 counts it', () => {
  it('the live generator reproduces migration 19’s frozen SQL; migration 19 is literal SQL', () => {
    expect(LATER_FLEET_TRIGGER_MIGRATIONS.map((m) => m.migration)).toEqual([m019.name]);
    expect(LATER_FLEET_TRIGGER_MIGRATIONS[0]!.sql()).toBe(M019_FLEET_TRIGGERS_SQL);
    expect(countingDayTriggersSql()).toBe(M019_FLEET_TRIGGERS_SQL);
    expect(countingDayBackfillSql()).toBe(M019_BACKFILL_SQL);
    const source = fs.readFileSync(path.join(__dirname, '../../main/store/migrations/019-counting-day.ts'), 'utf8');
    expect(source).not.toMatch(/from '.*fleet/);
  });

  it('a revoke sent at 23:59:55, its answer lost, settled at 00:10: the next day, at the counter and at head office', async () => {
    const url = await ho.headOffice('ho_cd_revoke');
    const clock = new ManualClock(at(D, 22));
    const h = await createHarness({ clock, sandbox: { gateway: { strict: false } }, runtime: { timing: SLOW } });
    try {
      const o = h.paidOrder({ finishedAt: at(D, 23), totalCents: 1000 });
      clock.set(at(D, 23, 59, 55));
      h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
      const r = await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
      expect(r.state).toBe('pending');
      await shipNow(h, url);
      clock.set(at(D1, 0, 10));
      h.rt.revokes.kick();
      await until(() => h.rt.revokes.get(r.id)!.state === 'revoked');
      await shipNow(h, url);
      await expectSameDays(h, 'ho_cd_revoke', 'revoke', 1000);
      // The event keeps its own day (the order's: its partition); the operation counts on the day it was revoked.
      const ev = await ho.pg.query('ho_cd_revoke', "SELECT op_state, business_day::text AS day, counting_day::text AS counting FROM fleet.events WHERE kind = 'revoke' ORDER BY seq");
      expect(ev.rows).toEqual([
        { op_state: 'sending', day: D, counting: null },
        { op_state: 'pending', day: D, counting: null },
        { op_state: 'revoked', day: D, counting: D1 },
      ]);
    } finally {
      await h.close();
    }
  });

  it('a refund asked at 23:59:58, its answer lost, settled at 00:10: the next day', async () => {
    const url = await ho.headOffice('ho_cd_refund');
    const clock = new ManualClock(at(D, 10));
    const h = await createHarness({ clock, sandbox: { gateway: { strict: false } }, runtime: { timing: SLOW } });
    try {
      const o = h.paidOrder({ finishedAt: at(D, 10), totalCents: 3000 });
      clock.set(at(D, 23, 59, 58));
      h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1);
      const r = await h.rt.refunds.request({ sn: o.sn }, 1000, WHO, 'test');
      expect(r.state).toBe('pending');
      await shipNow(h, url);
      clock.set(at(D1, 0, 10));
      h.rt.refunds.kick();
      await until(() => h.rt.refunds.get(r.id)!.state === 'refunded');
      await shipNow(h, url);
      await expectSameDays(h, 'ho_cd_refund', 'refund', 1000);
    } finally {
      await h.close();
    }
  });

  it('a QR code shown at 23:59 and paid at 00:00:30: the next day; its order sn, unknown when it was shown, is kept', async () => {
    const url = await ho.headOffice('ho_cd_qr');
    const clock = new ManualClock(at(D, 23, 59));
    const h = await createHarness({
      clock,
      sandbox: { gateway: { strict: false } },
      runtime: { payTiming: { qrFastMs: 30, qrFastForMs: 150, qrSlowMs: 60, qrLifetimeMs: 240_000, leaseMs: 2000 } },
    });
    try {
      const p = await h.rt.payments.request({ amountCents: 8800, method: 'qr', payway: '3' }, WHO, 'test');
      // Its creation (no order sn yet) reaches head office first.
      await shipNow(h, url);
      clock.set(at(D1, 0, 0, 30));
      h.sandbox.gateway.customerPays(p.clientSn);
      await until(() => h.rt.payments.get(p.id)?.state === 'paid', 8000);
      await shipNow(h, url);
      await expectSameDays(h, 'ho_cd_qr', 'payment', 8800);
      const paid = h.rt.payments.get(p.id)!;
      expect(paid.orderSn).toBeTruthy();
      const ops = await ho.pg.query('ho_cd_qr', "SELECT state, order_sn, business_day::text AS day, counting_day::text AS counting FROM fleet.operations WHERE kind = 'payment'");
      expect(ops.rows).toEqual([{ state: 'paid', order_sn: paid.orderSn, day: D, counting: D1 }]);
    } finally {
      await h.close();
    }
  });

  it('a paid payment takes its order’s day, stored after its paid event in the same transaction', async () => {
    const c = counterDir('TP', { sn: 'S1', name: 's' });
    const db = c.db;
    const requested = at(D, 23, 59, 50);
    const id = Number(
      db
        .prepare(
          `INSERT INTO payments (client_sn, method, amount_cents, subject, state, operator, requested_at, requested_day, updated_at, window_until)
           VALUES ('CP1', 'qr', 500, 's', 'sending', 'alice', ?, ?, ?, ?)`,
        )
        .run(requested, D, requested, requested + 240_000).lastInsertRowid,
    );
    // The answer arrives at 00:00:05 (the counter's clock); the gateway paid it at 23:59:59.
    db.transaction(() => {
      db.prepare("UPDATE payments SET state = 'paid', order_sn = 'SNP1', paid_at = ?, updated_at = ? WHERE id = ?").run(at(D1, 0, 0, 5), at(D1, 0, 0, 5), id);
      db.prepare(
        `INSERT INTO orders (sn, client_sn, total_cents, net_cents, payway, operator, finished_at, status, business_day, updated_at)
         VALUES ('SNP1', 'CP1', 500, 500, '3', 'alice', ?, 'PAID', ?, ?)`,
      ).run(at(D, 23, 59, 59), D, at(D1, 0, 0, 5));
    })();
    const events = db.prepare("SELECT op_state, counting_day FROM fleet_outbox WHERE kind = 'payment' ORDER BY seq").all();
    expect(events).toEqual([
      { op_state: 'sending', counting_day: null },
      { op_state: 'paid', counting_day: D },
    ]);
    // A later answer moving the order's day moves it too, while the event waits in the outbox.
    db.prepare('UPDATE orders SET business_day = ? WHERE sn = ?').run(D1, 'SNP1');
    expect(db.prepare("SELECT counting_day FROM fleet_outbox WHERE kind = 'payment' AND op_state = 'paid'").pluck().get()).toBe(D1);
    c.db.close();
  });

  it('migration 19 fills the counting day of the events already in the outbox', () => {
    const db = new Database(':memory:');
    migrate(db, 18);
    const { id } = revokeThrough(db, at(D, 23, 59), 400, 'alipay', 'alice', ['sending', 'pending']);
    db.prepare("UPDATE revokes SET state = 'revoked', revoked_at = ?, updated_at = ? WHERE id = ?").run(at(D1, 0, 5), at(D1, 0, 5), id);
    migrate(db, 19);
    const rows = db.prepare("SELECT op_state, counting_day FROM fleet_outbox WHERE kind = 'revoke' ORDER BY seq").all();
    expect(rows).toEqual([
      { op_state: 'sending', counting_day: null },
      { op_state: 'pending', counting_day: null },
      { op_state: 'revoked', counting_day: D1 },
    ]);
    db.close();
  });

  it('a counter not upgraded yet ships as before on version 5; an upgraded one ships to version 4; day_totals of a day is read by an index', async () => {
    const admin = await ho.pg.database('ho_cd_compat');
    await withHeadOffice(targetOf(admin), (c) => migrateHeadOffice(c, 4));
    // An upgraded counter, head office still at version 4: its batches go without counting days.
    const c = counterDir('TU', { sn: 'S1', name: 's' });
    const { id } = revokeThrough(c.db, at(D, 23, 59), 600, 'alipay', 'alice', ['sending', 'pending']);
    c.db.prepare("UPDATE revokes SET state = 'revoked', revoked_at = ?, updated_at = ? WHERE id = ?").run(at(D1, 0, 5), at(D1, 0, 5), id);
    await drain(c.db, admin);
    c.db.close();
    // A counter granted at version 4 (its role made by hand here: `fleet grant` needs the newest version).
    const role = `upay_t_cd_${process.pid}`;
    await ho.pg.query('ho_cd_compat', `CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA fleet TO ${role}`);
    await ho.pg.query('ho_cd_compat', "INSERT INTO fleet.terminal_roles (role_name, terminal_sn, store_sn) VALUES ($1, 'TV4', 'S1')", [role]);
    expect(await withHeadOffice(targetOf(admin), migrateHeadOffice)).toEqual({ from: 4, to: 5 });
    const granted = await ho.pg.query(
      'ho_cd_compat',
      `SELECT has_function_privilege($1, '${SHIP_BATCH_V5_SIGNATURE}', 'EXECUTE') AS v5,
              (SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1) AS settings`,
      [role],
    );
    expect(granted.rows[0].v5).toBe(true);
    expect([...granted.rows[0].settings].sort()).toEqual(COUNTER_ROLE_SETTINGS.map(([k, v]) => `${k}=${v}`).sort());
    await ho.pg.query('ho_cd_compat', `DELETE FROM fleet.terminal_roles WHERE role_name = $1`, [role]);
    await ho.pg.query('ho_cd_compat', `DROP OWNED BY ${role}; DROP ROLE ${role}`);
    // What came before version 5 counts on its business day, as it did.
    expect(await headOfficeFigures('ho_cd_compat', D)).toEqual({ revoke: { count: 1, cents: 600 }, refund: ZERO, payment: ZERO });
    // A counter whose app still calls version 4's ship_batch, with its own credential.
    const old = await withHeadOffice(targetOf(admin), (a) => grantTerminal(a, admin, 'TO', 'S1', null));
    const client = new pg.Client({ connectionString: old.url });
    await client.connect();
    try {
      await client.query('SELECT fleet.ensure_day($1::date)', [D1]);
      const t = at(D1, 9);
      const r = await client.query(
        `SELECT inserted FROM fleet.ship_batch('TO', 'S1', 's', 'M1', 'eo', ARRAY['o1'], ARRAY[1]::bigint[], ARRAY[$1]::date[], ARRAY['refund'], ARRAY[$2]::float8[],
           ARRAY[1]::bigint[], ARRAY['refunded'], ARRAY['SNO'], ARRAY[250]::bigint[], ARRAY['wechat'], ARRAY[NULL]::bigint[], ARRAY['bob'], ARRAY[NULL]::bigint[],
           ARRAY[NULL], ARRAY[NULL], ARRAY['{}'], ARRAY[$2]::float8[], '[]'::jsonb)`,
        [D1, t],
      );
      expect(r.rows).toEqual([{ inserted: 1 }]);
    } finally {
      await client.end();
    }
    expect((await headOfficeFigures('ho_cd_compat', D1)).refund).toEqual({ count: 1, cents: 250 });
    // One day's totals by the index on the counting day (the bench's 10M rows rely on it).
    const plan = await withHeadOffice(targetOf(admin), async (a) => {
      await a.query('SET enable_seqscan = off');
      return (await a.query('EXPLAIN SELECT * FROM fleet.day_totals WHERE business_day = $1::date', [D])).rows.map((x: Record<string, string>) => Object.values(x)[0]).join('\n');
    });
    expect(plan).toContain('operations_counting_day');
  });
});
