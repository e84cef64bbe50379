/**
 * A query asks with today's key: a revoke sent at 23:59:55 whose answer was
 * lost is asked about after midnight, when yesterday's key no longer signs
 * (the strict sandbox expires keys each UTC+8 day, as the gateway does), so
 * the query checks in first and settles the revoke. Before, every query
 * after midnight was answered ILLEGAL_SIGN and the revoke went to a person.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { businessDayStart, ManualClock } from '../../main/common/time';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MIN = 60_000;
const at = (day: string, hh: number, mm = 0, ss = 0) => businessDayStart(day) + ((hh * 60 + mm) * 60 + ss) * 1000;

describe('a query after midnight', () => {
  it('checks in first and settles the revoke sent before midnight (strict keys)', async () => {
    const clock = new ManualClock(at('2026-05-22', 22));
    h = await createHarness({ clock, runtime: { timing: { firstQueryMs: 10 * MIN, queryEveryMs: 10 * MIN, pendingWindowMs: 60 * MIN, backoffBaseMs: 30, backoffCapMs: 200 } } });
    h.rt.recheck.stop();
    const o = h.paidOrder({ finishedAt: at('2026-05-22', 23), totalCents: 1000 });
    clock.set(at('2026-05-22', 23, 59, 55));
    h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1); // applied; the answer lost
    const r = await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
    expect(r.state).toBe('pending');
    h.sandbox.gateway.clearLog();
    clock.set(at('2026-05-23', 0, 10));
    h.rt.revokes.kick();
    const done = await until(() => h!.rt.revokes.get(r.id)!.state === 'revoked' && h!.rt.revokes.get(r.id)!, 10_000);
    expect(done.state).toBe('revoked');
    const log = h.sandbox.gateway.log();
    expect(log.filter((e) => e.endpoint === 'checkin')).toHaveLength(1);
    expect(log.filter((e) => e.errorCode === 'ILLEGAL_SIGN' || e.bizResultCode === 'ILLEGAL_SIGN')).toHaveLength(0);
    expect(h.rt.terminal.info()!.lastCheckinDay).toBe('2026-05-23');
  });
});
