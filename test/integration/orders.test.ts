/** Orders in the real SQLite store: record, list the business day, search, retention. */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import { CHANGE_LOG_KEEP } from '../../main/store/order-changes';
import { businessDayStart, ManualClock } from '../../main/common/time';
import { tempDir } from '../support/harness';

let rt: Runtime | undefined;
let dir = '';
afterEach(async () => {
  await rt?.close();
  rt = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const today = businessDayStart('2026-11-26');

function make(clock: ManualClock): Runtime {
  dir ||= tempDir();
  return createRuntime({ dataDir: dir, apiDomain: 'http://127.0.0.1:9', clock, startWorkers: false });
}

describe('orders', () => {
  it('records orders, lists the UTC+8 business day, searches by sn, client_sn and amount', () => {
    const clock = new ManualClock(today + 12 * 3_600_000);
    rt = make(clock);
    rt.orders.record({ sn: '7890000000000001', clientSn: 'A-001', totalCents: 1250, finishedAt: today + 1000 });
    rt.orders.record({ sn: '7890000000000002', clientSn: 'A-002', totalCents: 990, finishedAt: today + 2000, paywayName: '微信' });
    rt.orders.record({ sn: '7890000000000003', clientSn: 'B_%1', totalCents: 1250, finishedAt: today - 1000 }); // 23:59:59 yesterday
    expect(rt.orders.listDay().map((o) => o.sn)).toEqual(['7890000000000002', '7890000000000001']);
    expect(rt.orders.listDay('2026-11-25').map((o) => o.sn)).toEqual(['7890000000000003']);
    expect(rt.orders.search({ text: '7890000000000001' }).map((o) => o.clientSn)).toEqual(['A-001']);
    expect(rt.orders.search({ text: 'A-' }).map((o) => o.sn)).toHaveLength(2);
    expect(rt.orders.search({ amountCents: 1250 })).toHaveLength(2);
    expect(rt.orders.search({ amountCents: 1250, day: '2026-11-26' })).toHaveLength(1);
    // LIKE metacharacters are literal.
    expect(rt.orders.search({ text: '%' })).toHaveLength(0);
    expect(rt.orders.search({ text: 'B_%' }).map((o) => o.sn)).toEqual(['7890000000000003']);
    expect(rt.orders.search({ text: "' OR 1=1 --" })).toHaveLength(0);
  });

  it('refuses a bad order with a typed error and keeps nothing', () => {
    rt = make(new ManualClock(today));
    for (const bad of [
      { sn: 'abc', clientSn: 'x', totalCents: 1, finishedAt: today },
      { sn: '1', clientSn: 'x', totalCents: 0, finishedAt: today },
      { sn: '1', clientSn: 'x', totalCents: 1.5, finishedAt: today },
      { sn: '1', clientSn: 'x'.repeat(33), totalCents: 1, finishedAt: today },
      { sn: '1', clientSn: 'x', totalCents: 1, finishedAt: today, extra: true },
    ]) {
      expect(() => rt!.orders.record(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    rt.orders.record({ sn: '1', clientSn: 'dup', totalCents: 1, finishedAt: today });
    expect(() => rt!.orders.record({ sn: '2', clientSn: 'dup', totalCents: 1, finishedAt: today })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(rt.orders.count()).toBe(1);
  });

  it('prunes orders older than the retention at startup and keeps the audit log', async () => {
    const clock = new ManualClock(today);
    rt = make(clock);
    rt.orders.record({ sn: '1', clientSn: 'old', totalCents: 1, finishedAt: today - 31 * DAY });
    rt.orders.record({ sn: '2', clientSn: 'edge', totalCents: 1, finishedAt: today - 30 * DAY });
    rt.orders.record({ sn: '3', clientSn: 'new', totalCents: 1, finishedAt: today });
    const audited = listAudit(databaseOf(rt)).length;
    await rt.close();
    rt = make(clock);
    expect(rt.orders.search({}).map((o) => o.clientSn).sort()).toEqual(['edge', 'new']);
    const audit = listAudit(databaseOf(rt));
    expect(audit.length).toBe(audited + 1);
    expect(audit[0]).toMatchObject({ action: 'orders.pruned', details: { count: 1, retentionDays: 30 } });
    // Configurable.
    rt.updateSettings({ retentionDays: 1 }, 'it');
    await rt.close();
    rt = make(clock);
    expect(rt.orders.search({}).map((o) => o.clientSn)).toEqual(['new']);
  });

  it('a runtime left running applies retention when its day moves on (hourly maintenance), and trims the order change log', () => {
    const clock = new ManualClock(today);
    rt = make(clock);
    rt.orders.record({ sn: '1', clientSn: 'day0', totalCents: 1, finishedAt: today });
    expect(rt.maintain()).toBe(0);
    clock.advance(31 * DAY);
    expect(rt.maintain()).toBe(1);
    expect(rt.orders.count()).toBe(0);
    const logged = databaseOf(rt).prepare('SELECT count(*) FROM order_changes').pluck().get() as number;
    expect(logged).toBeGreaterThan(0);
    expect(logged).toBeLessThanOrEqual(CHANGE_LOG_KEEP);
  });
});
