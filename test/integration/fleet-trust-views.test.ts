/**
 * A hostile counter cannot blind head office to the other counters (head
 * office v4), on a real PostgreSQL 18. Counter B, with its own credential
 * and nothing but fleet.ship_batch and fleet.ensure_day, ships heartbeats
 * the views used to cast into an error ({"backlog":"x"}, {"keyAgeHours":1e10},
 * dropped counts whose sum overflows), floods alerts, and asks for
 * partitions far from today; the dashboard's read-only role (docs/fleet.md,
 * "Dashboards") still reads every view and every panel of
 * docs/grafana/upay-pos-fleet.json, with counter A's values and A's alerts.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { businessDay, businessDayStart, systemClock } from '../../main/common/time';
import { dayReport, withHeadOffice } from '../../main/fleet/head-office';
import { grantTerminal } from '../../main/fleet/grant';
import { writeHeartbeat, type OutboxRow, type PendingAlert } from '../../main/fleet/outbox';
import { HEAD_OFFICE_VERSION, migrateHeadOffice } from '../../main/fleet/schema';
import { ALERTS_PER_BATCH, COUNTER_DAYS_BACK, OTHER_PER_DAY, SET_ASIDE_PER_DAY } from '../../main/fleet/schema-v4';
import { shipBatch, type BatchIdentity } from '../../main/fleet/ship-batch';
import { Shipper } from '../../main/fleet/shipper';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';

const ho = pgForThisFile();

/** Well inside the days a counter may ship (see test/support/days.ts). */
const DAY = daysAgo(17);
const T0 = businessDayStart(DAY) + 10 * 3_600_000;
const DASHBOARD = path.resolve(__dirname, '../../docs/grafana/upay-pos-fleet.json');
const VIEWS = 'fleet.day_totals, fleet.open_operations, fleet.attention, fleet.terminal_health, fleet.counter_lag, fleet.approvals, fleet.alerts';

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? `no code: ${String(e)}`);

async function as<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Head office at `version`, counters A (store S1) and B (store S2) granted, and the dashboard's read-only role. */
async function setup(db: string, version = HEAD_OFFICE_VERSION) {
  const admin = await ho.pg.database(db);
  await withHeadOffice(targetOf(admin), (c) => migrateHeadOffice(c, version));
  const grant = async (terminal: string, store: string) =>
    version === HEAD_OFFICE_VERSION ? (await withHeadOffice(targetOf(admin), (c) => grantTerminal(c, admin, terminal, store, null))).url : admin;
  const urlA = await grant(`${db}_A`, 'S1');
  const urlB = await grant(`${db}_B`, 'S2');
  const reader = `${db}_reader`;
  await ho.pg.query(db, `CREATE ROLE ${reader} LOGIN PASSWORD 'reader-pw'`);
  await ho.pg.query(db, `GRANT USAGE ON SCHEMA fleet TO ${reader}`);
  await ho.pg.query(db, `GRANT SELECT ON ${VIEWS} TO ${reader}`);
  const readerUrl = admin.replace('postgres:fleet-test-pw', `${reader}:reader-pw`);
  return { admin, urlA, urlB, readerUrl, A: `${db}_A`, B: `${db}_B` };
}

/** Counter A ships the normal way (revokes, then a heartbeat); returns the heartbeat it shipped. */
async function shipA(url: string, terminal: string): Promise<Record<string, unknown>> {
  const a = counterDir(terminal, { sn: 'S1', name: '一号店' });
  revokeThrough(a.db, T0, 1000, 'alipay', 'alice', ['sending', 'revoked']);
  revokeThrough(a.db, T0 + 60_000, 700, 'alipay', 'alice', ['sending', 'pending']);
  writeHeartbeat(a.db, Date.now());
  const hb = JSON.parse(a.db.prepare("SELECT payload FROM fleet_outbox WHERE kind = 'heartbeat'").pluck().get() as string) as Record<string, unknown>;
  const s = new Shipper({ db: a.db, target: targetOf(url), clock: systemClock, timing: FAST });
  try {
    await s.drain();
  } finally {
    s.close();
    a.db.close();
  }
  return hb;
}

let ids = 0;
function row(over: Partial<OutboxRow> = {}): OutboxRow {
  const at = over.at ?? Date.now();
  return {
    seq: ++ids, kind: 'heartbeat', at, business_day: over.business_day ?? businessDay(at), op_id: null, op_state: null, order_sn: null, amount_cents: null, payway: null,
    operator_id: null, operator_name: null, approver_id: null, approver_name: null, action: null, payload: '{}', event_id: `ev-${process.pid}-${ids}`,
    epoch: 'eb', terminal_sn: null, store_sn: 'S2', store_name: '二号店', merchant_sn: null, ...over,
  };
}

/** One batch, as the shipper sends it (partitions first, then BEGIN, ship_batch, COMMIT). */
async function ship(c: pg.Client, who: BatchIdentity, rows: OutboxRow[], alerts: PendingAlert[] = []) {
  for (const d of new Set(rows.map((r) => r.business_day))) await c.query('SELECT fleet.ensure_day($1::date)', [d]);
  try {
    return await shipBatch(c, who, rows, alerts);
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const panels = () =>
  (JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ rawSql: string }> }> }).panels.flatMap((p) =>
    p.targets.map((t) => ({ title: p.title, sql: t.rawSql.replace(/\$day/g, DAY).replace(/\$silent_minutes/g, '15') })),
  );

/** Every panel of the dashboard, as the read-only role: each must succeed. */
async function dashboard(readerUrl: string): Promise<Record<string, Array<Record<string, unknown>>>> {
  return as(readerUrl, async (c) => {
    const out: Record<string, Array<Record<string, unknown>>> = {};
    for (const p of panels()) {
      const r = await c.query(p.sql).catch((e: { code?: string; message?: string }) => {
        throw new Error(`panel "${p.title}" failed: ${e.code} ${e.message}`);
      });
      out[p.title] = r.rows;
    }
    return out;
  });
}

describe('fleet v4: one hostile counter cannot blind head office', () => {
  it('hostile heartbeats: every view and dashboard panel still reads, with A’s values', async () => {
    const s = await setup('ho_hb');
    const hbA = await shipA(s.urlA, s.A);
    const whoB: BatchIdentity = { terminalSn: s.B, storeSn: 'S2', storeName: '二号店', merchantSn: null, epoch: 'eb' };
    const expectA = async () => {
      const r = await as(s.readerUrl, async (c) => ({
        health: (await c.query('SELECT * FROM fleet.terminal_health ORDER BY terminal_sn')).rows,
        lag: (await c.query('SELECT * FROM fleet.counter_lag ORDER BY terminal_sn')).rows,
      }));
      const health = r.health.find((x) => x.terminal_sn === s.A);
      const lag = r.lag.find((x) => x.terminal_sn === s.A);
      expect(health).toMatchObject({
        store_sn: 'S1', silent_minutes: 0, backlog: hbA.backlog, key_age_hours: hbA.keyAgeHours, open_operations: 1,
        printer_state: 'ok', app_version: hbA.appVersion, business_day: hbA.businessDay,
      });
      expect(lag).toMatchObject({ backlog: hbA.backlog, lag_seconds: hbA.lagSeconds, set_aside: 0, dropped: 0, alerts: '0', printer_state: 'ok' });
      expect(r.lag).toHaveLength(2);
      return { health: r.health.find((x) => x.terminal_sn === s.B), lag: r.lag.find((x) => x.terminal_sn === s.B) };
    };

    await as(s.urlB, async (c) => {
      let at = Date.now();
      // The reviewer's two heartbeats, and more of the kind: each stored as the views can read it.
      const hostile = [
        { backlog: 'x', appVersion: 'evil' },
        { keyAgeHours: 1e10, backlog: 3 },
        { openOperations: 1.5e300, oldestOpenMinutes: -1e20, lagSeconds: '12', setAside: true, dropped: { money: 2147483647, audit: 2147483647 } },
        { printer: 'x', businessDay: { a: 1 }, backlogWarning: 'w'.repeat(100_000), junk: 'j'.repeat(70_000), backlog: 5 },
        [1, 2, 3],
        'just a string',
      ];
      for (const hb of hostile) {
        at += 1000;
        await ship(c, whoB, [row({ at, payload: JSON.stringify(hb) })]);
        const b = await expectA();
        expect(b.health).toBeDefined();
      }
    });
    // What head office kept of B's last object heartbeat: the known fields, bounded; nothing the views cannot read.
    const stored = await ho.pg.query('ho_hb', 'SELECT heartbeat FROM fleet.terminals WHERE terminal_sn = $1', [s.B]);
    const kept = stored.rows[0].heartbeat as Record<string, unknown>;
    expect(kept).toEqual({ backlog: 5, backlogWarning: 'w'.repeat(2000) });
    const b = await expectA();
    expect(b.lag).toMatchObject({ backlog: 5, lag_seconds: null, set_aside: 0, dropped: 0 });

    // A heartbeat stored before version 4 (straight into the table): the views' casts cannot fail either.
    await ho.pg.query(
      'ho_hb',
      `UPDATE fleet.terminals SET heartbeat = '{"backlog":"x","keyAgeHours":1e10,"openOperations":1.5,"oldestOpenMinutes":-3e9,"lagSeconds":"1",
         "setAside":1e400,"dropped":{"money":2147483647,"audit":2147483647},"printer":"x","businessDay":{"a":1}}' WHERE terminal_sn = $1`,
      [s.B],
    );
    const after = await expectA();
    expect(after.health).toMatchObject({ backlog: null, key_age_hours: null, open_operations: 2, oldest_open_minutes: null, printer_state: null, business_day: null });
    expect(after.lag).toMatchObject({ lag_seconds: null, set_aside: 0, dropped: 2147483647 });

    // Every panel of the dashboard reads; the health-and-lag panel shows A as A shipped it.
    const dash = await dashboard(s.readerUrl);
    expect(dash["Counters' health and lag"]!.find((r) => r.terminal_sn === s.A)).toMatchObject({ backlog: hbA.backlog, lag_seconds: hbA.lagSeconds, dropped: 0 });
    // B still has only its two functions: not the helpers, not the quota table.
    await as(s.urlB, async (c) => {
      expect(await codeOf(c.query("SELECT fleet.clean_heartbeat('{}')"))).toBe('42501');
      expect(await codeOf(c.query(`SELECT fleet.raise_alerts('${s.A}', 'S1', 'restored', '[{"reason":"forged"}]')`))).toBe('42501');
      expect(await codeOf(c.query('SELECT * FROM fleet.alert_quota'))).toBe('42501');
    });
  });

  it('times and amounts no counter makes are refused (the counter sets them aside); the panels and fleet report still read', async () => {
    const s = await setup('ho_rows');
    await shipA(s.urlA, s.A);
    const whoB: BatchIdentity = { terminalSn: s.B, storeSn: 'S2', storeName: '二号店', merchantSn: null, epoch: 'eb' };
    const revoke = (over: Partial<OutboxRow>) =>
      row({ kind: 'revoke', at: T0, business_day: DAY, op_id: 1, op_state: 'pending', order_sn: 'B1', amount_cents: 100, payway: 'alipay', payload: JSON.stringify({ requested_at: T0 }), ...over });
    await as(s.urlB, async (c) => {
      for (const bad of [
        { payload: JSON.stringify({ requested_at: 1e15 }) }, // opened in the year 33658: "open for" overflows the panel's int
        { payload: JSON.stringify({ requested_at: -1e12 }) },
        { at: Number.NaN },
        { at: Number.POSITIVE_INFINITY },
        { at: 1e15 },
        { amount_cents: 9_000_000_000_000_000 }, // two of them overflow the panel's sum(...)::bigint
        { amount_cents: -5 },
      ]) {
        expect(await codeOf(ship(c, whoB, [revoke(bad)])), JSON.stringify(bad)).toBe('22023');
      }
      // Large but possible: an amount over 2^31 cents and a local id over 2^31 arrive, and fleet report reads them.
      await ship(c, whoB, [revoke({ op_id: 2 ** 40, amount_cents: 3_000_000_000 })]);
    });
    const dash = await dashboard(s.readerUrl);
    expect(dash['Open operations']!.map((r) => r.terminal_sn).sort()).toEqual([s.A, s.B]);
    const report = await withHeadOffice(targetOf(s.admin), (c) => dayReport(c, DAY, 'S2'));
    expect(report.open).toEqual([expect.objectContaining({ terminal_sn: s.B, op_id: 2 ** 40, amount_cents: 3_000_000_000 })]);
  });

  it('alerts are capped per batch and per terminal and day: A’s set-aside and restored alerts stay on the dashboard', async () => {
    const s = await setup('ho_alerts');
    const whoA: BatchIdentity = { terminalSn: s.A, storeSn: 'S1', storeName: '一号店', merchantSn: null, epoch: 'ea' };
    const whoB: BatchIdentity = { terminalSn: s.B, storeSn: 'S2', storeName: '二号店', merchantSn: null, epoch: 'eb' };
    const alertA: PendingAlert = { seq: 7, event_id: 'a-poison', kind: 'revoke', business_day: DAY, reason: '22008: A’s poison event' };
    await as(s.urlA, async (c) => {
      await ship(c, whoA, [], [alertA]);
      // A's data dir restored: a new event at a sequence number head office already had.
      await ship(c, whoA, [row({ seq: 5, at: T0, epoch: 'ea', store_sn: 'S1' })]);
      const r = await ship(c, whoA, [row({ seq: 3, at: T0 + 1000, epoch: 'ea', store_sn: 'S1' })]);
      expect(r.rewound).toBe(true);
    });
    const flood = (n: number, tag: string, reason = 'r'): PendingAlert[] =>
      Array.from({ length: n }, (_, i) => ({ seq: i, event_id: `${tag}-${i}`, kind: 'revoke', business_day: DAY, reason }));
    const started = Date.now();
    await as(s.urlB, async (c) => {
      await ship(c, whoB, [], flood(ALERTS_PER_BATCH, 'long', 'x'.repeat(10_000)));
      await ship(c, whoB, [], flood(20_000, 'big')); // one batch far over the batch cap
      for (let i = 0; i < 29; i++) await ship(c, whoB, [], flood(ALERTS_PER_BATCH, `b${i}`));
      // Restored data dirs, one epoch after another.
      for (let e = 0; e < 10; e++) {
        const who = { ...whoB, epoch: `eb${e}` };
        await ship(c, who, [row({ seq: 10, epoch: who.epoch })]);
        expect((await ship(c, who, [row({ seq: 9, epoch: who.epoch })])).rewound).toBe(true);
      }
    });
    expect(Date.now() - started).toBeLessThan(60_000);
    // A sends its alert again (an answer lost after COMMIT): nothing new, nothing counted against A.
    await as(s.urlA, (c) => ship(c, whoA, [], [alertA]));

    const shown = (await dashboard(s.readerUrl)).Alerts!;
    const ofA = shown.filter((r) => r.terminal_sn === s.A);
    expect(ofA.map((r) => r.kind).sort()).toEqual(['restored', 'set_aside']);
    expect(ofA.find((r) => r.kind === 'set_aside')).toMatchObject({ seq: '7', event_kind: 'revoke', detail: alertA.reason });
    const ofB = shown.filter((r) => r.terminal_sn === s.B);
    const count = (kind: string) => ofB.filter((r) => r.kind === kind).length;
    expect([count('set_aside'), count('restored'), count('capped')]).toEqual([SET_ASIDE_PER_DAY, OTHER_PER_DAY, 2]);
    expect(ofB.filter((r) => r.kind === 'set_aside').every((r) => (r.detail as string).length === 2000)).toBe(true);
    // What was not recorded is counted: 80 of the first 100, then 20,000 (the first 100 read), then 29 × 100.
    const dropped = ALERTS_PER_BATCH - SET_ASIDE_PER_DAY + 20_000 + 29 * ALERTS_PER_BATCH;
    const capped = ofB.filter((r) => r.kind === 'capped').map((r) => r.detail as string);
    expect(capped).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${dropped} more set_aside alerts`)),
        expect.stringMatching(new RegExp(`^${10 - OTHER_PER_DAY} more restored alerts`)),
      ]),
    );
    const all = await ho.pg.query('ho_alerts', 'SELECT terminal_sn, count(*)::int AS n FROM fleet.alerts GROUP BY 1 ORDER BY 1');
    expect(all.rows).toEqual([
      { terminal_sn: s.A, n: 2 },
      { terminal_sn: s.B, n: SET_ASIDE_PER_DAY + OTHER_PER_DAY + 2 },
    ]);
  });

  it('concurrent batches of one terminal count in turn, at any isolation level', async () => {
    const s = await setup('ho_alerts_race');
    for (const isolation of ['READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']) {
      const terminal = `race_${isolation.replace(' ', '_')}`;
      const url = (await withHeadOffice(targetOf(s.admin), (c) => grantTerminal(c, s.admin, terminal, 'S2', null))).url;
      const who: BatchIdentity = { terminalSn: terminal, storeSn: 'S2', storeName: '二号店', merchantSn: null, epoch: 'e' };
      const results = await Promise.all(
        Array.from({ length: 3 }, (_, k) =>
          as(url, async (c) => {
            await c.query(`SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL ${isolation}`);
            const alerts = Array.from({ length: ALERTS_PER_BATCH }, (_, i) => ({ seq: i, event_id: `${isolation}-${k}-${i}`, kind: 'revoke', business_day: DAY, reason: 'r' }));
            return codeOf(ship(c, who, [], alerts));
          }),
        ),
      );
      // Read committed waits its turn; the others may be told to try again (40001), never let through.
      for (const r of results) expect(['ok', '40001']).toContain(r);
      if (isolation === 'READ COMMITTED') expect(results).toEqual(['ok', 'ok', 'ok']);
      expect(results).toContain('ok');
      const n = await ho.pg.query('ho_alerts_race', "SELECT count(*)::int AS n FROM fleet.alerts WHERE kind = 'set_aside' AND terminal_sn = $1", [terminal]);
      expect(n.rows[0].n).toBe(SET_ASIDE_PER_DAY);
    }
  });

  it('ensure_day: a counter makes partitions near today only; head office opens an older day', async () => {
    const s = await setup('ho_days');
    const utc = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    const partitions = async () =>
      (await ho.pg.query('ho_days', "SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'fleet.events'::regclass")).rows[0].n as number;
    const before = await partitions();
    await as(s.urlB, async (c) => {
      for (const d of [utc(-(COUNTER_DAYS_BACK + 30)), utc(-3000), utc(30), utc(400), '1999-01-01', '9999-12-31']) {
        expect(await codeOf(c.query('SELECT fleet.ensure_day($1::date)', [d])), d).toBe('22023');
      }
      // Its session's time zone does not move "today".
      await c.query("SET TimeZone = 'Etc/GMT-14'");
      expect(await codeOf(c.query('SELECT fleet.ensure_day($1::date)', [utc(8)]))).toBe('22023');
      expect(await partitions()).toBe(before);
      // Within the window: fine.
      for (const d of [utc(-300), utc(0), utc(3)]) expect(await codeOf(c.query('SELECT fleet.ensure_day($1::date)', [d])), d).toBe('ok');
    });
    expect(await partitions()).toBe(before + 3);
    // A counter back after more than a year: head office opens the day, the counter's events then arrive.
    const old = utc(-(COUNTER_DAYS_BACK + 30));
    await ho.pg.query('ho_days', 'SELECT fleet.ensure_day($1::date)', [old]);
    const whoB: BatchIdentity = { terminalSn: s.B, storeSn: 'S2', storeName: '二号店', merchantSn: null, epoch: 'eb' };
    const at = Date.parse(`${old}T04:00:00Z`);
    const r = await as(s.urlB, (c) => ship(c, whoB, [row({ kind: 'audit', at, business_day: old, action: 'x' })]));
    expect(r.inserted).toBe(1);
  });

  it('upgrading a version 3 head office whose views a heartbeat already broke: the views read again, the reader keeps its grants', async () => {
    const s = await setup('ho_upgrade', 3);
    const who: BatchIdentity = { terminalSn: 'TB', storeSn: 'S2', storeName: '二号店', merchantSn: null, epoch: 'eb' };
    await as(s.admin, (c) => ship(c, who, [row({ payload: JSON.stringify({ backlog: 'x', keyAgeHours: 1e10, appVersion: '9' }) })]));
    // The reviewer's finding, on version 3.
    await as(s.readerUrl, async (c) => {
      expect(['22P02', '22003']).toContain(await codeOf(c.query('SELECT * FROM fleet.counter_lag')));
      expect(['22P02', '22003']).toContain(await codeOf(c.query('SELECT * FROM fleet.terminal_health')));
    });
    expect(await withHeadOffice(targetOf(s.admin), migrateHeadOffice)).toEqual({ from: 3, to: HEAD_OFFICE_VERSION });
    await as(s.readerUrl, async (c) => {
      const lag = await c.query('SELECT terminal_sn, backlog, app_version FROM fleet.counter_lag');
      expect(lag.rows).toEqual([{ terminal_sn: 'TB', backlog: null, app_version: '9' }]);
      expect((await c.query('SELECT key_age_hours FROM fleet.terminal_health')).rows).toEqual([{ key_age_hours: null }]);
    });
    // The stored heartbeat was cleaned by the upgrade too.
    const hb = await ho.pg.query('ho_upgrade', "SELECT heartbeat FROM fleet.terminals WHERE terminal_sn = 'TB'");
    expect(hb.rows[0].heartbeat).toEqual({ appVersion: '9' });
    await dashboard(s.readerUrl);
  });
});
