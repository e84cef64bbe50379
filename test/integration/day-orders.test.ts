/**
 * The day's order list kept from the order change log (main/ipc/day-orders.ts,
 * migration 003): after any mix of writes (new orders, revokes and their state
 * changes, order updates, deletions, other days' orders) made by this
 * connection or by a second one (another process on the same file), the kept
 * list equals a fresh full read; nothing changed means the very same array;
 * a pruned log or too many waiting changes fall back to a full read.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DayOrders } from '../../main/orders/day-orders';
import { toOrderView } from '../../main/ipc/handlers';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { openDb, type Db } from '../../main/store/db';
import { lastChangeSeq, pruneChangeLog } from '../../main/store/order-changes';
import { mulberry32 } from '../../main/util/prng';
import { businessDayStart, ManualClock } from '../../main/common/time';
import { tempDir } from '../support/harness';
import { signedInHandlers } from '../support/operators';

const DAY = '2026-11-26';
const start = businessDayStart(DAY);
let rt: Runtime | undefined;
let other: Db | undefined;
let dir = '';
afterEach(async () => {
  other?.close();
  other = undefined;
  await rt?.close();
  rt = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

function setup(): { rt: Runtime; other: Db; clock: ManualClock } {
  dir = tempDir();
  const clock = new ManualClock(start + 12 * 3_600_000);
  rt = createRuntime({ dataDir: dir, apiDomain: 'http://127.0.0.1:9', clock, startWorkers: false, printer: 'none' });
  other = openDb(dir);
  return { rt, other, clock };
}

/** What a full read gives: the reference. */
function fullRead(r: Runtime, day = DAY) {
  const revokes = r.revokes.forDay(day);
  return r.orders.listDay(day).map((o) => toOrderView(o, revokes.get(o.sn)));
}

const sn = (n: number) => String(7_896_000_000_000_000 + n);

function insertOrder(db: Db, n: number, day = DAY, finishedAt = businessDayStart(day) + 1_000 * (n % 5_000)) {
  db.prepare(
    `INSERT INTO orders (sn, client_sn, total_cents, net_cents, payway_name, subject, finished_at, status, business_day, updated_at)
     VALUES (?, ?, ?, ?, '微信', '商品', ?, 'PAID', ?, ?)`,
  ).run(sn(n), `DAY-${n}`, 100 + n, 100 + n, finishedAt, day, finishedAt);
}

function insertRevoke(db: Db, n: number, state: string) {
  db.prepare(
    `INSERT INTO revokes (order_sn, client_sn, state, operator, requested_at, updated_at, deadline_day, attempts, lease_owner)
     VALUES (?, ?, ?, 'op', ?, ?, ?, 1, NULL)`,
  ).run(sn(n), `DAY-${n}`, state, start, start, DAY);
}

describe('the day list kept from the order change log', () => {
  it('equals a full read after 400 random writes from this connection and another one', () => {
    const { rt, other } = setup();
    const list = new DayOrders(rt, toOrderView);
    const rand = mulberry32(20261126);
    let next = 0;
    const orders: number[] = [];
    const withRevoke = new Set<number>();
    for (let i = 0; i < 40; i++) {
      insertOrder(databaseOf(rt), next);
      orders.push(next++);
    }
    expect(list.list(DAY)).toEqual(fullRead(rt));
    for (let step = 0; step < 400; step++) {
      const db = rand() < 0.5 ? databaseOf(rt) : other;
      const pick = orders[Math.floor(rand() * orders.length)]!;
      const r = rand();
      if (r < 0.25) {
        insertOrder(db, next, rand() < 0.2 ? '2026-11-25' : DAY);
        orders.push(next++);
      } else if (r < 0.45 && !withRevoke.has(pick)) {
        insertRevoke(db, pick, rand() < 0.5 ? 'sending' : 'queued');
        withRevoke.add(pick);
      } else if (r < 0.65) {
        db.prepare("UPDATE revokes SET state = 'revoked', revoked_at = ?, updated_at = updated_at + 1 WHERE order_sn = ? AND state != 'revoked'").run(start + step, sn(pick));
        db.prepare("UPDATE orders SET status = 'CANCELED', net_cents = 0 WHERE sn = ? AND EXISTS (SELECT 1 FROM revokes WHERE order_sn = sn AND state = 'revoked')").run(sn(pick));
      } else if (r < 0.8) {
        db.prepare('UPDATE orders SET subject = ?, finished_at = finished_at + ? WHERE sn = ?').run(`改 ${step}`, Math.floor(rand() * 5_000), sn(pick));
      } else if (r < 0.88 && !withRevoke.has(pick)) {
        // As retention does: an order goes only without a money row (no ON DELETE CASCADE since version 9).
        db.prepare('DELETE FROM orders WHERE sn = ?').run(sn(pick));
        orders.splice(orders.indexOf(pick), 1);
      } else if (r < 0.93) {
        // A transaction that rolls back leaves no trace in the log.
        try {
          db.transaction(() => {
            insertOrder(db, 900_000 + step);
            throw new Error('rolled back');
          })();
        } catch {
          /* expected */
        }
      }
      // Not every write is followed by a read: changes pile up between two reads.
      if (rand() < 0.6) expect(list.list(DAY), `after step ${step}`).toEqual(fullRead(rt));
    }
    expect(list.list(DAY)).toEqual(fullRead(rt));
    expect(list.list('2026-11-25')).toEqual(fullRead(rt, '2026-11-25'));
    expect(list.list(DAY)).toEqual(fullRead(rt));
  });

  it('the same array while nothing of the day changed; a new one after a change; another day changing leaves it alone', () => {
    const { rt, other } = setup();
    const list = new DayOrders(rt, toOrderView);
    for (let n = 0; n < 5; n++) insertOrder(databaseOf(rt), n);
    const first = list.list(DAY);
    expect(list.list(DAY)).toBe(first);
    insertOrder(other, 100, '2026-11-25');
    expect(list.list(DAY)).toBe(first);
    insertRevoke(other, 2, 'sending');
    const second = list.list(DAY);
    expect(second).not.toBe(first);
    expect(second.find((o) => o.sn === sn(2))?.revoke?.state).toBe('sending');
    expect(second).toEqual(fullRead(rt));
  });

  it('a log pruned past the reader, or more changes waiting than it takes, falls back to a full read', () => {
    const { rt, other } = setup();
    const list = new DayOrders(rt, toOrderView);
    for (let n = 0; n < 5; n++) insertOrder(databaseOf(rt), n);
    list.list(DAY);
    for (let n = 5; n < 30; n++) insertOrder(other, n);
    expect(pruneChangeLog(other, 3)).toBeGreaterThan(0);
    expect(list.list(DAY)).toEqual(fullRead(rt));
    other.transaction(() => {
      for (let n = 30; n < 1_300; n++) insertOrder(other!, n);
    })();
    expect(list.list(DAY)).toEqual(fullRead(rt));
    expect(list.list(DAY)).toHaveLength(1_300);
  });

  it('the log only grows at its new end: seq after a prune continues from the newest entry', () => {
    const { rt } = setup();
    for (let n = 0; n < 10; n++) insertOrder(databaseOf(rt), n);
    const before = lastChangeSeq(databaseOf(rt));
    pruneChangeLog(databaseOf(rt), 1);
    insertOrder(databaseOf(rt), 10);
    expect(lastChangeSeq(databaseOf(rt))).toBe(before + 1);
  });

  it('orders.list through the handler sees an order another process recorded, and answers the same object until then', async () => {
    const { rt, other } = setup();
    const h = await signedInHandlers(rt, { mode: 'sandbox', version: 'test', vendor: null });
    insertOrder(databaseOf(rt), 1);
    const a = await h['orders.list']({});
    const b = await h['orders.list']({});
    if (!a.ok || !b.ok) throw new Error('orders.list failed');
    expect(b.value).toBe(a.value);
    insertOrder(other, 2);
    const c = await h['orders.list']({});
    if (!c.ok) throw new Error('orders.list failed');
    expect(c.value.orders.map((o) => o.sn)).toEqual([sn(2), sn(1)]);
  });
});
