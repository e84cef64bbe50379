/**
 * The same-day deadline with an injected clock: a revoke queued late in the
 * business day warns the cashier at the lead time and, when the network only
 * comes back after midnight (UTC+8), expires without any gateway call.
 */
import { afterEach, expect, it } from 'vitest';
import { businessDayStart, ManualClock } from '../../main/common/time';
import { createHarness, until, type Harness } from '../support/harness';
import { createChaosProxy as createBlip, type ChaosProxy as Blip } from '../support/chaos-net';

let h: Harness | undefined;
let blip: Blip | undefined;
afterEach(async () => {
  await blip?.close();
  await h?.close();
  h = undefined;
  blip = undefined;
});

const MIN = 60_000;

it('queued at 23:20, warned at 23:30 (30 min lead), network back at 00:10 → expired, no gateway call', async () => {
  const day = '2026-11-26';
  const clock = new ManualClock(businessDayStart(day) + 23 * 60 * MIN + 10 * MIN); // 23:10 UTC+8
  h = await createHarness({ clock });
  blip = await createBlip(h.sandbox.gateway.port);
  const rt = h.runtime({ apiDomain: blip.url });
  const o = h.paidOrder({ finishedAt: clock.now() });
  const warnings: Array<{ deadlineAt: number; at: number; zh: string }> = [];
  rt.events.on('revoke.warning', (w) => warnings.push({ deadlineAt: w.deadlineAt, at: clock.now(), zh: w.messageZh }));

  await blip.down();
  clock.set(businessDayStart(day) + 23 * 60 * MIN + 20 * MIN); // 23:20
  const r = await rt.revokes.request({ sn: o.sn }, null, 'test');
  expect(r.state).toBe('queued');
  rt.revokes.kick();
  await new Promise((res) => setTimeout(res, 100));
  expect(warnings).toHaveLength(0);

  clock.set(businessDayStart(day) + 23 * 60 * MIN + 29 * MIN); // 23:29: still outside the lead
  rt.revokes.kick();
  await new Promise((res) => setTimeout(res, 100));
  expect(warnings).toHaveLength(0);

  clock.set(businessDayStart(day) + 23 * 60 * MIN + 30 * MIN); // 23:30: the lead time
  rt.revokes.kick();
  await until(() => warnings.length === 1);
  expect(warnings[0]!.deadlineAt).toBe(businessDayStart('2026-11-27'));
  expect(warnings[0]!.zh).toContain('退款');

  clock.set(businessDayStart(day) + 23 * 60 * MIN + 50 * MIN); // 23:50, still offline
  rt.revokes.kick();
  await new Promise((res) => setTimeout(res, 100));
  expect(rt.revokes.get(r.id)!.state).toBe('queued');
  expect(warnings).toHaveLength(1); // warned once

  h.sandbox.gateway.clearLog();
  clock.set(businessDayStart('2026-11-27') + 10 * MIN); // 00:10 next day
  await blip.up();
  rt.revokes.setOnline(true);
  const expired = await until(() => (rt.revokes.get(r.id)!.state === 'expired' ? rt.revokes.get(r.id) : undefined));
  expect(expired.error?.code).toBe('EXPIRED');
  expect(expired.error?.messageZh).toContain('退款');
  expect(expired.error?.messageEn).toContain('refund');
  await new Promise((res) => setTimeout(res, 200));
  expect(h.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke')).toHaveLength(0);
  expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(0);
  expect(h.rt.orders.get(o.sn)!.status).toBe('PAID');
});
