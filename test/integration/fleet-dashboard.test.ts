/**
 * The Grafana dashboard (docs/grafana/upay-pos-fleet.json) is code: every
 * panel's SQL runs against the views on the embedded PostgreSQL, as the
 * read-only role docs/fleet.md sets up, and its result equals a day computed
 * by hand: three terminals in two stores, revokes and refunds, approvals, a
 * stuck revoke, an expired one, a silent counter and an event set aside.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { businessDayStart, systemClock } from '../../main/common/time';
import { appVersion, writeHeartbeat } from '../../main/fleet/outbox';
import { Shipper } from '../../main/fleet/shipper';
import type { Db } from '../../main/store/db';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough } from '../support/fleet-pg';
import { pgForThisFile, targetOf } from '../support/fleet-server';

const ho = pgForThisFile();

const DASHBOARD = path.resolve(__dirname, '../../docs/grafana/upay-pos-fleet.json');
/** Well inside the days a counter may ship (see test/support/days.ts). */
const DAY = daysAgo(17);
const VOLATILE = ['order_sn', 'open_minutes', 'raised_at'];
const T0 = businessDayStart(DAY) + 10 * 3_600_000;

let orders = 0;
/** A paid order and a refund of part of it walked through `states`, approved by `approver`. */
function refundThrough(db: Db, at: number, cents: number, payway: string, operator: string, approver: string, states: string[]): void {
  const sn = `RSN${++orders}${at}`;
  db.prepare(
    `INSERT INTO orders (sn, client_sn, total_cents, net_cents, payway, payway_name, operator, finished_at, status, business_day, updated_at)
     VALUES (?, ?, ?, ?, '3', ?, 'payer', ?, 'PAID', ?, ?)`,
  ).run(sn, `C${sn}`, cents * 2, cents * 2, payway, at - 60_000, DAY, at);
  const id = db
    .prepare(
      `INSERT INTO refunds (order_sn, client_sn, request_no, amount_cents, net_before_cents, state, operator_id, operator, approver_id, approver_name, requested_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, 2, ?, ?, ?)`,
    )
    .run(sn, `C${sn}`, `RN${sn}`, cents, cents * 2, states[0], operator, approver, at, at).lastInsertRowid;
  states.slice(1).forEach((s, i) => db.prepare('UPDATE refunds SET state = ?, updated_at = ? WHERE id = ?').run(s, at + (i + 1) * 1000, id));
}

/** pg hands bigint and numeric back as text: numbers compare as numbers. */
const norm = (rows: Array<Record<string, unknown>>) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v])));

describe('fleet: the Grafana dashboard against a hand-computed day', () => {
  it('every panel’s SQL, as the read-only role, equals the day computed by hand', async () => {
    const db = 'ho_dash';
    const url = await ho.headOffice(db);
    const R = ['sending', 'revoked'];
    const t1 = counterDir('T1', { sn: 'S1', name: '一号店' });
    const t2 = counterDir('T2', { sn: 'S1', name: '一号店' });
    const t3 = counterDir('T3', { sn: 'S2', name: '二号店' });
    revokeThrough(t1.db, T0, 1000, 'alipay', 'alice', R);
    revokeThrough(t1.db, T0 + 60_000, 2500, 'wechat', 'alice', R);
    refundThrough(t1.db, T0 + 120_000, 300, 'alipay', 'alice', 'sue', ['sending', 'refunded']);
    revokeThrough(t2.db, T0, 3000, 'alipay', 'bob', R);
    revokeThrough(t2.db, T0 + 60_000, 900, 'wechat', 'carol', ['sending', 'pending', 'needs_attention']);
    refundThrough(t2.db, T0 + 120_000, 500, 'wechat', 'carol', 'sue', ['sending', 'rejected']);
    revokeThrough(t3.db, T0, 1200, 'alipay', 'dave', R);
    refundThrough(t3.db, T0 + 60_000, 700, 'alipay', 'dave', 'tom', ['sending', 'refunded']);
    revokeThrough(t3.db, T0 + 120_000, 5000, 'wechat', 'erin', ['queued', 'expired']);
    // T3's first audit entry is one head office refuses (a day that does not exist): set aside, alerted.
    const poison = t3.db.prepare("SELECT min(seq) FROM fleet_outbox WHERE kind = 'audit'").pluck().get() as number;
    t3.db.prepare("UPDATE fleet_outbox SET business_day = '2026-02-30' WHERE seq = ?").run(poison);
    for (const c of [t1, t2, t3]) {
      writeHeartbeat(c.db, T0 + 3 * 3_600_000);
      const s = new Shipper({ db: c.db, target: targetOf(url), clock: systemClock, timing: { batchRows: 4 } });
      await s.drain();
      s.close();
      c.db.close();
    }
    await ho.pg.query(db, "UPDATE fleet.terminals SET last_seen = now() - interval '20 minutes' WHERE terminal_sn = 'T3'");

    // The read-only role of docs/fleet.md ("Dashboards").
    await ho.pg.query(db, "CREATE ROLE fleet_reader_dash LOGIN PASSWORD 'reader-pw'");
    await ho.pg.query(db, 'GRANT USAGE ON SCHEMA fleet TO fleet_reader_dash');
    await ho.pg.query(db, 'GRANT SELECT ON fleet.day_totals, fleet.open_operations, fleet.attention, fleet.terminal_health, fleet.counter_lag, fleet.approvals, fleet.alerts TO fleet_reader_dash');
    const reader = new pg.Client({ connectionString: url.replace('postgres:fleet-test-pw', 'fleet_reader_dash:reader-pw') });
    await reader.connect();

    // By hand. Backlogs at the heartbeat: T1 2 revokes × (2 states + 2 audit) + 2 refund states = 10;
    // T2 4 + (3 + 3) + 2 = 12; T3 4 + 2 + 4 = 10. Lag: the oldest event (T0) 3 h before the heartbeat.
    const health = (terminal: string, store: string, silent: number, backlog: number, alerts: number) => ({
      terminal_sn: terminal, store_sn: store, silent_minutes: silent, backlog, lag_seconds: 10_800, set_aside: 0, dropped: 0, alerts, printer_state: 'ok', app_version: appVersion(),
    });
    const expected: Record<string, Array<Record<string, unknown>>> = {
      'Day totals by store and payway': [
        { store_sn: 'S1', payway: 'alipay', kind: 'refund', operations: 1, amount_cents: 300, yuan: 3 },
        { store_sn: 'S1', payway: 'alipay', kind: 'revoke', operations: 2, amount_cents: 4000, yuan: 40 },
        { store_sn: 'S1', payway: 'wechat', kind: 'revoke', operations: 1, amount_cents: 2500, yuan: 25 },
        { store_sn: 'S2', payway: 'alipay', kind: 'refund', operations: 1, amount_cents: 700, yuan: 7 },
        { store_sn: 'S2', payway: 'alipay', kind: 'revoke', operations: 1, amount_cents: 1200, yuan: 12 },
      ],
      'Open operations': [
        { store_sn: 'S1', terminal_sn: 'T2', kind: 'revoke', op_id: 2, state: 'needs_attention', amount_cents: 900, operator_name: 'carol', approver_name: null },
      ],
      'Needs attention': [
        { store_sn: 'S1', terminal_sn: 'T2', kind: 'revoke', op_id: 2, state: 'needs_attention', amount_cents: 900, reason: 'unresolved after the polling window' },
        { store_sn: 'S2', terminal_sn: 'T3', kind: 'revoke', op_id: 2, state: 'expired', amount_cents: 5000, reason: 'never sent before the day ended: refund instead' },
      ],
      "Counters' health and lag": [health('T3', 'S2', 20, 10, 1), health('T1', 'S1', 0, 10, 0), health('T2', 'S1', 0, 12, 0)],
      'Silent counters': [{ silent: 1 }],
      'Approvals by supervisor': [
        { approver_name: 'sue', store_sn: 'S1', kind: 'refund', operations: 2, succeeded: 1, amount_cents: 800 },
        { approver_name: 'tom', store_sn: 'S2', kind: 'refund', operations: 1, succeeded: 1, amount_cents: 700 },
      ],
      Alerts: [{ terminal_sn: 'T3', store_sn: 'S2', kind: 'set_aside', seq: poison, event_kind: 'audit', detail: expect.stringContaining('22008') }],
    };

    const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ rawSql: string }> }> };
    expect(dash.panels.map((p) => p.title).sort()).toEqual(Object.keys(expected).sort());
    for (const panel of dash.panels) {
      for (const t of panel.targets) {
        // Grafana's interpolation of the dashboard's variables is textual.
        const sql = t.rawSql.replace(/\$day/g, DAY).replace(/\$silent_minutes/g, '15');
        // What changes with the clock or the generated order numbers is left out.
        const rows = norm((await reader.query(sql)).rows).map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !VOLATILE.includes(k))));
        expect(rows, panel.title).toEqual(expected[panel.title]);
      }
    }
    // The reader reads the views only: not the raw tables, not the credentials.
    await expect(reader.query('SELECT * FROM fleet.terminal_roles')).rejects.toMatchObject({ code: '42501' });
    await reader.end();
  });
});
