/**
 * Attack: a page guesses one operator's PIN around the clock. Five wrong PINs
 * lock the operator; each lockout within a day of the last lasts twice as
 * long (5 min, 10, 20, ... up to a day), so a day of guessing gets ~45 PINs
 * hashed instead of 1,440. The victim's own sign-ins do not give the guesser
 * fresh tries; a quiet day, store IT's unlock or a new PIN start over.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HandlerSet } from '../../main/ipc/handlers';
import { LOCKOUT_MS } from '../../main/operators/service';
import { databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import type { Harness } from '../support/harness';
import { ensureOperator, harnessWithHandlers, newWindow, ShiftClock, TEST_PINS } from '../support/operators';

const MIN = 60_000;
const HOUR = 60 * MIN;

let h: Harness;
let set: HandlerSet;
let clock: ShiftClock;
let id: number;

beforeEach(async () => {
  clock = new ShiftClock();
  ({ h, set } = await harnessWithHandlers(clock));
  id = await ensureOperator(h.rt, 'supervisor');
});
afterEach(() => h.close());

const page = newWindow();
const guess = (pin = '0000') => set.handlers['session.signIn']({ operatorId: id, pin }, page);
const lockedUntil = () => h.rt.operators.list().find((o) => o.id === id)!.lockedUntil;
const hashed = () => listAudit(databaseOf(h.rt), 100_000).filter((e) => e.action === 'operator.pin_failed').length;

/** Five wrong PINs; returns how long the lockout they caused lasts. */
async function lockOnce(): Promise<number> {
  const start = clock.now();
  for (let i = 0; i < 5; i++) await guess();
  const until = lockedUntil();
  expect(until).not.toBeNull();
  return until! - start;
}

/** Waits (on the clock) until the lockout ends. */
function waitOut(): void {
  clock.offset += Math.max(0, lockedUntil()! - clock.now()) + 1;
}

describe('lockouts that grow', () => {
  it('a day of guessing around the clock gets at most ~45 PINs hashed; each lockout twice the last', async () => {
    const end = clock.now() + 24 * HOUR;
    const durations: number[] = [];
    while (clock.now() < end && hashed() < 200) {
      durations.push(await lockOnce());
      expect(await guess()).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED' } }); // refused unhashed
      waitOut();
    }
    expect(hashed()).toBeLessThanOrEqual(50);
    expect(durations.slice(0, 4).map((d) => Math.round(d / MIN))).toEqual([5, 10, 20, 40]);
    expect(Math.max(...durations)).toBeLessThanOrEqual(24 * HOUR + MIN);
    const locked = listAudit(databaseOf(h.rt), 100_000).filter((e) => e.action === 'operator.locked');
    expect(Math.max(...locked.map((e) => (e.details as { lockouts: number }).lockouts))).toBe(durations.length);
  });

  it("the victim's sign-in between lockouts gives the guesser no fresh start", async () => {
    expect(Math.round((await lockOnce()) / MIN)).toBe(5);
    waitOut();
    expect(await set.handlers['session.signIn']({ operatorId: id, pin: TEST_PINS.supervisor }, newWindow())).toMatchObject({ ok: true });
    expect(Math.round((await lockOnce()) / MIN)).toBe(10);
  });

  it('a day without a lockout, store IT’s unlock, or a new PIN starts over at 5 minutes', async () => {
    await lockOnce();
    waitOut();
    expect(Math.round((await lockOnce()) / MIN)).toBe(10);
    waitOut();
    clock.offset += 24 * HOUR + MIN;
    expect(Math.round((await lockOnce()) / MIN)).toBe(LOCKOUT_MS / MIN);
    waitOut();
    expect(Math.round((await lockOnce()) / MIN)).toBe(10);
    h.rt.operators.unlock(id, 'cli:it-desk');
    expect(Math.round((await lockOnce()) / MIN)).toBe(LOCKOUT_MS / MIN);
    waitOut();
    await h.rt.operators.resetPin(id, '246810', 'cli:it-desk');
    expect(Math.round((await lockOnce()) / MIN)).toBe(LOCKOUT_MS / MIN);
  });
});
