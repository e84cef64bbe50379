/**
 * `activate --force` while a check-in is running (review 3, defect 1): the
 * check-in's key must never land on the new terminal. Real SQLite, real HTTP
 * to the strict sandbox (keys expire with their UTC+8 day), two runtimes on
 * one data dir (the app and the CLI). Activation waits for the check-in's
 * lease; and if that lease was outrun, the rotation only replaces the key it
 * read, so the late answer is discarded (CHECKIN_SUPERSEDED), nothing
 * overwritten.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../main/common/time';
import type { PosError } from '../../main/errors';
import { databaseOf, type Runtime } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import { readLease } from '../../main/store/locks';
import { TerminalRepo } from '../../main/store/terminal';
import { UpayClient } from '../../main/upay/client';
import { createHarness, type Harness } from '../support/harness';

// 2026-03-10 12:00 in UTC+8: the middle of a business day.
const NOON = Date.UTC(2026, 2, 10, 4, 0, 0);
const MINUTE = 60_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(): Promise<{ h: Harness; clock: ManualClock; b: Runtime }> {
  const clock = new ManualClock(NOON);
  h = await createHarness({ clock, runtime: { startWorkers: false } });
  return { h, clock, b: h.runtime() };
}

function reactivate(harness: Harness, rt: Runtime) {
  const v = harness.sandbox.gateway.vendor;
  const code = harness.sandbox.gateway.activationCodes()[0]!;
  return rt.terminal.activate({ appId: v.appId, code, deviceId: 'test-counter', vendorSn: v.vendorSn, vendorKey: v.vendorKey, force: true }, 'it');
}

function stored(harness: Harness) {
  const row = new TerminalRepo(databaseOf(harness.rt)).get()!;
  return { sn: row.terminal_sn, key: harness.rt.vault.open(row.sealed_key), previous: row.sealed_prev_key ? harness.rt.vault.open(row.sealed_prev_key) : null };
}

/** A query signed with an explicit signer: does the gateway accept it (any business answer), or refuse the signature? */
async function accepted(harness: Harness, signer: { sn: string; key: string }): Promise<boolean> {
  const client = new UpayClient({ apiDomain: harness.sandbox.gateway.url, timeoutMs: 3_000 });
  try {
    const res = await client.query(signer, { sn: '7890000000000000' });
    if (res.ok) return true;
    if (res.kind === 'envelope' && res.errorCode === 'ILLEGAL_SIGN') return false;
    throw new Error(`unexpected answer: ${JSON.stringify(res)}`);
  } finally {
    await client.close();
  }
}

describe('activate --force during a check-in', () => {
  it('waits for the check-in (same lease): the stored key is the new terminal\'s and the gateway accepts it', async () => {
    const { h, b } = await start();
    const oldSn = h.terminalSn;
    h.sandbox.gateway.inject('checkin', { kind: 'delay', ms: 800 });

    const checkin = h.rt.terminal.checkin('app');
    // The check-in holds the lease from its first step (taken before its request goes out).
    expect(readLease(databaseOf(h.rt), 'terminal.checkin')).toBeDefined();
    const info = await reactivate(h, b);
    const checkedIn = await checkin;

    // The check-in finished, on the old terminal, before the activation was sent.
    expect(checkedIn.terminalSn).toBe(oldSn);
    expect(h.sandbox.gateway.log().map((e) => e.endpoint)).toEqual(['checkin', 'activate']);
    expect(info.terminalSn).not.toBe(oldSn);

    const newTerminal = h.sandbox.gateway.terminal(info.terminalSn)!;
    expect(stored(h)).toEqual({ sn: info.terminalSn, key: newTerminal.terminalKey, previous: null });
    expect(await accepted(h, { sn: info.terminalSn, key: stored(h).key })).toBe(true);

    // Both runtimes work on with the new terminal: the first call checks in (a new terminal) and is answered.
    const order = h.sandbox.gateway.seedOrder({ terminalSn: info.terminalSn, totalCents: 1200 });
    h.sandbox.gateway.clearLog();
    await expect(h.rt.orders.import({ sn: order.sn }, 'test')).resolves.toMatchObject({ sn: order.sn, status: 'PAID' });
    await expect(b.orders.import({ sn: order.sn }, 'test')).resolves.toMatchObject({ sn: order.sn });
    expect(h.sandbox.gateway.log().map((e) => [e.endpoint, e.authSn])).toEqual([
      ['checkin', info.terminalSn],
      ['query', info.terminalSn],
      ['query', info.terminalSn],
    ]);
    expect(stored(h).key).toBe(h.sandbox.gateway.terminal(info.terminalSn)!.terminalKey);
  });

  it('a check-in whose lease was outrun does not overwrite the new terminal: CHECKIN_SUPERSEDED, nothing changed', async () => {
    const { h, clock, b } = await start();
    const oldSn = h.terminalSn;
    h.sandbox.gateway.inject('checkin', { kind: 'delay', ms: 1_500 });

    const checkin = h.rt.terminal.checkin('app').then(
      () => null,
      (e: unknown) => e as PosError,
    );
    // As if the check-in's holder had hung past its lease (65 s by the clock): the activation takes the lease at once.
    clock.advance(10 * MINUTE);
    const info = await reactivate(h, b);
    const afterActivation = stored(h);
    const auditBefore = listAudit(databaseOf(h.rt)).length;

    const err = await checkin;
    expect(err?.code).toBe('CHECKIN_SUPERSEDED');
    expect(err?.messageZh).toContain(oldSn);
    expect(err?.messageEn).toContain('not stored');
    // The gateway did rotate the old terminal's key; the answer was discarded, the new terminal's key kept.
    expect(h.sandbox.gateway.effects('checkin', oldSn)).toBe(2);
    expect(stored(h)).toEqual(afterActivation);
    expect(stored(h)).toEqual({ sn: info.terminalSn, key: h.sandbox.gateway.terminal(info.terminalSn)!.terminalKey, previous: null });
    expect(listAudit(databaseOf(h.rt))).toHaveLength(auditBefore);
    expect(await accepted(h, { sn: info.terminalSn, key: stored(h).key })).toBe(true);
    // No back-off for that: the new terminal checks in on its first call.
    const order = h.sandbox.gateway.seedOrder({ terminalSn: info.terminalSn, totalCents: 800 });
    h.sandbox.gateway.clearLog();
    await h.rt.orders.import({ sn: order.sn }, 'test');
    expect(h.sandbox.gateway.log().map((e) => e.endpoint)).toEqual(['checkin', 'query']);
  });
});

describe('TerminalRepo.rotateKey', () => {
  it('replaces only the key it read, of the terminal it read: 0 rows otherwise, nothing overwritten', async () => {
    const { h } = await start();
    const repo = new TerminalRepo(databaseOf(h.rt));
    const row = repo.get()!;
    const other = h.rt.vault.seal('0'.repeat(32));
    const before = repo.get();

    expect(repo.rotateKey(other, { terminalSn: 'not-this-terminal', sealedKey: row.sealed_key }, '2026-03-10', NOON)).toBe(0);
    expect(repo.rotateKey(other, { terminalSn: row.terminal_sn, sealedKey: h.rt.vault.seal('f'.repeat(32)) }, '2026-03-10', NOON)).toBe(0);
    expect(repo.get()).toEqual(before);

    expect(repo.rotateKey(other, { terminalSn: row.terminal_sn, sealedKey: row.sealed_key }, '2026-03-11', NOON + 1)).toBe(1);
    expect(repo.get()).toMatchObject({ sealed_key: other, sealed_prev_key: row.sealed_key, last_checkin_day: '2026-03-11', key_updated_at: NOON + 1 });
  });
});
