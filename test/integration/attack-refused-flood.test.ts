/**
 * Attack: a signed-in cashier window asks again and again to revoke an order
 * that cannot be revoked (yesterday's: NOT_TODAY, refused here with no
 * gateway call). Each refusal used to write a new `rejected` row, one money
 * event and two audit entries into the capped fleet outbox, so a flood pushed
 * a real, unshipped revoke's events out of the head-office feed and grew the
 * revokes table without bound. Now the first refusal is recorded and audited
 * once; every repeat for the same reason returns that refusal (the same
 * zh-CN/en words) and writes nothing. Through the handlers the IPC uses.
 */
import { describe, expect, it } from 'vitest';
import type { Result, RevokeView } from '../../main/ipc/contract';
import type { HandlerSet } from '../../main/ipc/handlers';
import { REVOKE_MESSAGES } from '../../main/operations/revoke/messages';
import { databaseOf } from '../../main/runtime';
import type { Db } from '../../main/store/db';
import { until, type Harness } from '../support/harness';
import { okValue, ShiftClock, signIn } from '../support/operators';
import { harnessWithHandlersEach } from '../support/operators-each';

const FLOOD = 300;
const DAY_MS = 86_400_000;

let h: Harness;
let set: HandlerSet;
let clock: ShiftClock;
harnessWithHandlersEach((fresh) => ({ h, set } = fresh), () => (clock = new ShiftClock()));

const outboxRows = (db: Db) => db.prepare('SELECT count(*) FROM fleet_outbox').pluck().get() as number;
const eventsOf = (db: Db, sn: string) => db.prepare("SELECT seq, op_state FROM fleet_outbox WHERE kind = 'revoke' AND order_sn = ? ORDER BY seq").all(sn);
const auditOf = (db: Db, sn: string) => db.prepare("SELECT action FROM audit_log WHERE subject = ? AND action LIKE 'revoke.%' ORDER BY id").pluck().all(sn);

const refusal = (r: Result<RevokeView>): RevokeView => okValue(r, 'a recorded refusal');

describe('a flood of revokes refused locally (NOT_TODAY)', () => {
  it('records and audits the first refusal once; repeats write nothing, so a real revoke\'s events survive the outbox cap', async () => {
    const db = databaseOf(h.rt);
    let cashier = await signIn(h.rt, set, 'cashier');
    const real = h.paidOrder({ totalCents: 8_880 });
    const stale = h.paidOrder({ totalCents: 500 });

    // A real revoke: a gateway call, its money events in the outbox (not shipped: no head office).
    const done = await cashier['revoke.request']({ sn: real.sn });
    expect(done).toMatchObject({ ok: true, value: { state: 'revoked' } });
    expect(h.sandbox.gateway.effects('revoke', real.sn)).toBe(1);
    // Its receipt's writes settle before the outbox is measured.
    await until(() => h.rt.printing.jobs({}).every((j) => j.state !== 'pending'));
    const realEvents = eventsOf(db, real.sn);
    expect(realEvents.map((e) => (e as { op_state: string }).op_state)).toEqual(['sending', 'revoked']);

    // The outbox has room for one refusal (a money event and two audit entries) and little more.
    db.prepare('UPDATE fleet_state SET outbox_cap = ? WHERE id = 1').run(outboxRows(db) + 6);

    // The next day the stale order is yesterday's; the session is renewed as a cashier would.
    clock.offset = DAY_MS;
    cashier = await signIn(h.rt, set, 'cashier');

    const first = refusal(await cashier['revoke.request']({ sn: stale.sn }));
    expect(first).toMatchObject({
      state: 'rejected',
      orderSn: stale.sn,
      error: { code: 'NOT_TODAY', messageZh: REVOKE_MESSAGES.NOT_TODAY.zh, messageEn: REVOKE_MESSAGES.NOT_TODAY.en, gatewayCode: null },
    });
    expect(auditOf(db, stale.sn)).toEqual(['revoke.requested', 'revoke.resolved']);
    const afterFirst = outboxRows(db);

    // The flood: one after another, then a burst at once; each answer is the first refusal, word for word.
    const answers: Array<Result<RevokeView>> = [];
    for (let i = 0; i < FLOOD; i++) answers.push(await cashier['revoke.request']({ sn: stale.sn }));
    answers.push(...(await Promise.all(Array.from({ length: 50 }, () => cashier['revoke.request']({ clientSn: stale.clientSn })))));
    for (const a of answers) expect(refusal(a)).toEqual(first);

    // At most one rejected row for that order and reason; no gateway call about it; one audit pair.
    expect(db.prepare("SELECT count(*) FROM revokes WHERE order_sn = ? AND state = 'rejected' AND error_code = 'NOT_TODAY'").pluck().get(stale.sn)).toBe(1);
    expect(db.prepare('SELECT count(*) FROM revokes WHERE order_sn = ?').pluck().get(stale.sn)).toBe(1);
    expect(h.sandbox.gateway.counters(stale.clientSn).revoke).toBe(0);
    expect(auditOf(db, stale.sn)).toEqual(['revoke.requested', 'revoke.resolved']);

    // The outbox did not grow, nothing was dropped, and the real revoke's events are all still there.
    expect(outboxRows(db)).toBe(afterFirst);
    expect(eventsOf(db, real.sn)).toEqual(realEvents);
    expect(db.prepare("SELECT count(*) FROM fleet_outbox WHERE kind = 'revoke' AND order_sn = ?").pluck().get(stale.sn)).toBe(1);
    expect(db.prepare('SELECT dropped_money FROM fleet_state WHERE id = 1').pluck().get()).toBe(0);

    // What the counter shows for the order is that one refusal.
    expect(h.rt.revokes.forOrder(stale.sn)).toMatchObject({ id: first.id, state: 'rejected' });
  });

  it('the CLI path (the engine with a fixed name) is bounded the same way', async () => {
    const db = databaseOf(h.rt);
    const stale = h.paidOrder({ totalCents: 700 });
    clock.offset = DAY_MS;
    const first = await h.rt.revokes.request({ sn: stale.sn }, 'it', 'cli');
    expect(first).toMatchObject({ state: 'rejected', error: { code: 'NOT_TODAY' } });
    for (let i = 0; i < 20; i++) expect(await h.rt.revokes.request({ sn: stale.sn }, 'it', 'cli')).toEqual(first);
    expect(db.prepare('SELECT count(*) FROM revokes WHERE order_sn = ?').pluck().get(stale.sn)).toBe(1);
    expect(auditOf(db, stale.sn)).toEqual(['revoke.requested', 'revoke.resolved']);
  });
});
