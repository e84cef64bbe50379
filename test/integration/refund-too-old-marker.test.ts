/**
 * A refund handed to a person as TOO_OLD (it waited too long in the queue: not sent, no money moved, never
 * sent again without a person's tap) keeps that marker through every unclear answer to the re-check or to a
 * person's "query again" (a lost answer, a gateway error): a later "not applied" answer then ends it void,
 * and it is never sent again. Real HTTP to the sandbox (faults injected there), real SQLite; a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../main/common/time';
import type { Fault } from '../../main/sandbox/gateway';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const WHO = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };
const HOUR = 3_600_000;

const UNCLEAR: Array<[string, Fault]> = [
  ['an error page instead of the answer', { kind: 'http500_html' }],
  ['a gateway system error', { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' }],
  ['a cut-off answer', { kind: 'malformed_json' }],
];

describe('a TOO_OLD refund asked about with an unclear answer first', () => {
  it.each(UNCLEAR.flatMap(([what, fault]) => [['the re-check', what, fault] as const, ['a person’s "query again"', what, fault] as const]))(
    '%s gets %s, then "not applied" → void (TOO_OLD_NOT_SENT), never sent again',
    async (by, _what, fault) => {
      const clock = new ManualClock(Date.parse('2026-05-22T02:00:00Z'));
      h = await createHarness({ clock, sandbox: { gateway: { strict: false } }, runtime: { refundMaxAgeMs: HOUR } });
      const hh = h;
      const gw = hh.sandbox.gateway;
      const o = hh.paidOrder({ finishedAt: clock.now() });
      gw.inject('refund', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' }, 1000);
      const r = await hh.rt.refunds.request({ sn: o.sn }, 400, WHO, 'test');
      expect(r.state).toBe('queued');
      clock.advance(2 * HOUR);
      hh.rt.refunds.kick();
      const na = await until(() => hh.rt.refunds.get(r.id)!.state === 'needs_attention' && hh.rt.refunds.get(r.id)!, 5_000);
      expect(na.error?.code).toBe('TOO_OLD');
      gw.clearFaults();
      gw.clearLog();

      const ask = () => (by === 'the re-check' ? hh.rt.recheck.run() : hh.rt.refunds.queryAgain(r.id, 'cashier'));
      // First the unclear answer: nothing known, still a person's to decide.
      gw.inject('query', fault, 1);
      await ask();
      const unclear = hh.rt.refunds.get(r.id)!;
      // Then the gateway answers that the refund was never applied.
      clock.advance(60_000);
      await ask();
      const after = await until(() => hh.rt.refunds.get(r.id)!.state !== 'needs_attention' && hh.rt.refunds.get(r.id)!, 5_000);

      expect(after.state).toBe('rejected');
      expect(after.error?.code).toBe('TOO_OLD_NOT_SENT');
      expect(gw.log().filter((e) => e.endpoint === 'refund')).toHaveLength(0);
      expect(gw.effects('refund', o.sn)).toBe(0);
      expect(gw.log().filter((e) => e.endpoint === 'query').length).toBeGreaterThanOrEqual(2);
      // The marker and its words stayed while the answer was unclear.
      expect(unclear.state).toBe('needs_attention');
      expect(unclear.error?.code).toBe('TOO_OLD');
      expect(unclear.error?.messageZh).toContain('不会再自动发出');
    },
  );
});
