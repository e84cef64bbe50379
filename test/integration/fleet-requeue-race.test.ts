/**
 * Requeued events on a real PostgreSQL 18:
 *
 * - `fleet requeue` (another process: its own SQLite connection) running
 *   while a batch is in flight: the requeued event, with a lower seq than the
 *   batch, is not deleted with the batch nor counted as shipped; it stays in
 *   the outbox and goes with the next batch, and is no sign of a restore.
 * - More events set aside in one day than head office records alerts for
 *   (SET_ASIDE_PER_DAY): requeued and drained, they all arrive, and no
 *   "restored" alert or new epoch follows.
 * - The same after upgrading a version 3 head office that recorded the
 *   set-aside alert (the upgrade carries it over).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { businessDayStart, systemClock } from '../../main/common/time';
import { withHeadOffice } from '../../main/fleet/head-office';
import { backlog, requeueSetAside, setAside } from '../../main/fleet/outbox';
import { HEAD_OFFICE_VERSION, migrateHeadOffice } from '../../main/fleet/schema';
import { SET_ASIDE_PER_DAY } from '../../main/fleet/schema-v4';
import { Shipper } from '../../main/fleet/shipper';
import { openDb, type Db } from '../../main/store/db';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';

const ho = pgForThisFile();
const DAY = daysAgo(17);
const T0 = businessDayStart(DAY) + 10 * 3_600_000;
const R = ['sending', 'revoked'];

const shipper = (db: Db, url: string) => new Shipper({ db, target: targetOf(url), clock: systemClock, timing: FAST });

async function drain(db: Db, url: string): Promise<void> {
  const s = shipper(db, url);
  try {
    await s.drain();
  } finally {
    s.close();
  }
}

/** Runs `during` once, right after head office ran the next fleet.ship_batch and before its COMMIT (and the local delete). */
async function withRequeueDuringShipBatch<T>(during: () => void, fn: () => Promise<T>): Promise<T> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let armed = true;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    const answer = original.apply(this, args);
    if (!armed || typeof text !== 'string' || !text.includes('fleet.ship_batch')) return answer;
    armed = false;
    return (answer as Promise<unknown>).then((r) => {
      during();
      return r;
    });
  };
  try {
    return await fn();
  } finally {
    proto.query = original;
  }
}

const alertKinds = async (db: string) =>
  (await ho.pg.query(db, 'SELECT kind, count(*)::int AS n FROM fleet.alerts GROUP BY kind ORDER BY kind')).rows as Array<{ kind: string; n: number }>;
const arrived = async (db: string, ids: string[]) =>
  (await ho.pg.query(db, 'SELECT count(*)::int AS n FROM fleet.events WHERE event_id = ANY($1)', [ids])).rows[0].n as number;

describe('fleet requeue', () => {
  it('while a batch is in flight: the requeued event (lower seq) is not deleted or counted with the batch, ships next, and is no restore', async () => {
    const db = 'ho_requeue_race';
    const url = await ho.headOffice(db);
    const c = counterDir('TQ', { sn: 'S1', name: 's' });
    for (let i = 0; i < 3; i++) revokeThrough(c.db, T0 + i * 60_000, 100 + i, 'alipay', 'op', R);
    const rows = c.db.prepare('SELECT seq, event_id FROM fleet_outbox ORDER BY seq').all() as Array<{ seq: number; event_id: string }>;
    const poison = rows[0]!;
    // Set aside earlier (head office refused it); its alert is not reported yet, so it travels with the next batch.
    setAside(c.db, poison.seq, '22023: refused', Date.now());
    const epoch = backlog(c.db, Date.now()).epoch;

    let requeued = -1;
    const s = shipper(c.db, url);
    try {
      await withRequeueDuringShipBatch(
        () => {
          // Store IT runs `upay-pos fleet requeue`: another process, another connection to the data dir.
          const other = openDb(c.dir);
          try {
            requeued = requeueSetAside(other);
          } finally {
            other.close();
          }
        },
        () => s.shipOnce(),
      );
      expect(requeued).toBe(1);
      // The batch (every row but the poison) is gone; the poison, requeued meanwhile, is still here, not counted.
      expect(c.db.prepare('SELECT seq, set_aside_at FROM fleet_outbox').all()).toEqual([{ seq: poison.seq, set_aside_at: null }]);
      expect(backlog(c.db, Date.now()).shippedTotal).toBe(rows.length - 1);
      expect(await arrived(db, [poison.event_id])).toBe(0);
      // The next batch carries it.
      expect(await s.shipOnce()).toBe(1);
    } finally {
      s.close();
    }
    expect(await arrived(db, rows.map((r) => r.event_id))).toBe(rows.length);
    const b = backlog(c.db, Date.now());
    expect(b).toMatchObject({ events: 0, setAside: 0, shippedTotal: rows.length, restoreDetectedAt: null, epoch });
    expect(await alertKinds(db)).toEqual([{ kind: 'set_aside', n: 1 }]);
    c.db.close();
  });

  it(`more than ${SET_ASIDE_PER_DAY} events set aside in a day: requeued and drained, all arrive, no "restored" alert, no new epoch`, async () => {
    const db = 'ho_requeue_many';
    const url = await ho.headOffice(db);
    const c = counterDir('TM', { sn: 'S1', name: 's' });
    for (let i = 0; i < 15; i++) revokeThrough(c.db, T0 + i * 60_000, 100 + i, 'alipay', 'op', R);
    // 25 events head office refuses (a day that does not exist: 22008), before events it takes.
    const poisoned = c.db.prepare('SELECT seq, event_id FROM fleet_outbox ORDER BY seq LIMIT 25').all() as Array<{ seq: number; event_id: string }>;
    for (const p of poisoned) c.db.prepare("UPDATE fleet_outbox SET business_day = '2026-02-30' WHERE seq = ?").run(p.seq);
    const epoch = backlog(c.db, Date.now()).epoch;
    await drain(c.db, url);
    expect(backlog(c.db, Date.now()).setAside).toBe(25);
    // Head office recorded SET_ASIDE_PER_DAY of their alerts and counted the rest.
    expect(await alertKinds(db)).toEqual([
      { kind: 'capped', n: 1 },
      { kind: 'set_aside', n: SET_ASIDE_PER_DAY },
    ]);
    // Head office fixed what refused them (here: the day); store IT requeues; the shipper drains.
    c.db.prepare('UPDATE fleet_outbox SET business_day = ? WHERE set_aside_at IS NOT NULL').run(DAY);
    expect(requeueSetAside(c.db)).toBe(25);
    await drain(c.db, url);
    expect(await arrived(db, poisoned.map((p) => p.event_id))).toBe(25);
    expect(backlog(c.db, Date.now())).toMatchObject({ events: 0, setAside: 0, restoreDetectedAt: null, epoch });
    expect((await alertKinds(db)).map((a) => a.kind)).toEqual(['capped', 'set_aside']);
    // What exempted them is gone with their arrival.
    expect((await ho.pg.query(db, "SELECT count(*)::int AS n FROM fleet.set_aside_events WHERE terminal_sn = 'TM'")).rows[0].n).toBe(0);
    c.db.close();
  });

  it('upgrading a version 3 head office keeps the events already set aside exempt: requeued after the upgrade, no "restored" alert', async () => {
    const db = 'ho_requeue_upgrade';
    const url = await ho.pg.database(db);
    await withHeadOffice(targetOf(url), (client) => migrateHeadOffice(client, 3));
    const c = counterDir('TV', { sn: 'S1', name: 's' });
    for (let i = 0; i < 3; i++) revokeThrough(c.db, T0 + i * 60_000, 100 + i, 'alipay', 'op', R);
    const poison = c.db.prepare('SELECT seq, event_id FROM fleet_outbox ORDER BY seq LIMIT 1').get() as { seq: number; event_id: string };
    c.db.prepare("UPDATE fleet_outbox SET business_day = '2026-02-30' WHERE seq = ?").run(poison.seq);
    await drain(c.db, url);
    expect(backlog(c.db, Date.now()).setAside).toBe(1);
    expect(await withHeadOffice(targetOf(url), migrateHeadOffice)).toEqual({ from: 3, to: HEAD_OFFICE_VERSION });
    expect((await ho.pg.query(db, 'SELECT terminal_sn, event_id FROM fleet.set_aside_events')).rows).toEqual([{ terminal_sn: 'TV', event_id: poison.event_id }]);
    c.db.prepare('UPDATE fleet_outbox SET business_day = ? WHERE seq = ?').run(DAY, poison.seq);
    expect(requeueSetAside(c.db)).toBe(1);
    await drain(c.db, url);
    expect(await arrived(db, [poison.event_id])).toBe(1);
    expect(backlog(c.db, Date.now())).toMatchObject({ events: 0, setAside: 0, restoreDetectedAt: null });
    expect(await alertKinds(db)).toEqual([{ kind: 'set_aside', n: 1 }]);
    c.db.close();
  });
});
