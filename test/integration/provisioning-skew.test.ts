/**
 * A key dated to the day before by clock skew (review 3, defect 3). The POS
 * clock is 30 s ahead of the gateway's: a call at 00:00:15 local checks in
 * at 23:59:45 gateway time, and the strict sandbox dates that key to the day
 * that is ending; after the gateway's midnight every call is ILLEGAL_SIGN.
 * `Provisioning.keyRefused` (called where every terminal-signed answer is
 * heard: the operations' skeleton and the order import) makes the next call check
 * in first, at most once per 5 minutes across the processes of the data dir.
 * Also: the check-in's day is the day its request left, not the day its
 * answer came back. Real SQLite, real HTTP; only the two clocks are faked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { businessDay, ManualClock, type Clock } from '../../main/common/time';
import { createRuntime, type Runtime } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import { KEY_REFUSED_EVERY_MS, refusesKey } from '../../main/terminal/provisioning';
import { UpayClient } from '../../main/upay/client';
import { until } from '../support/harness';

const SKEW = 30_000; // the POS clock is 30 s ahead of the gateway's
const D_NOON = Date.UTC(2026, 2, 10, 4, 0, 0); // 2026-03-10 12:00 UTC+8 (gateway time)
const D_END = Date.UTC(2026, 2, 10, 16, 0, 0); // 2026-03-11 00:00 UTC+8 (gateway time)
const MINUTE = 60_000;

let gwClock: ManualClock;
let sandbox: Sandbox;
let dir: string;
let runtimes: Runtime[];

beforeEach(async () => {
  gwClock = new ManualClock(D_NOON);
  sandbox = await createSandbox({ clock: gwClock, gateway: { strict: true } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-skew-'));
  runtimes = [];
});

afterEach(async () => {
  for (const r of runtimes) await r.close();
  await sandbox.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function runtime(clock: Clock): Runtime {
  const rt = createRuntime({ dataDir: dir, apiDomain: sandbox.gateway.url, clock, printer: 'none', startWorkers: false, timeoutMs: 3_000 });
  runtimes.push(rt);
  return rt;
}

async function activated(clock: Clock): Promise<Runtime> {
  const rt = runtime(clock);
  const v = sandbox.gateway.vendor;
  await rt.terminal.activate({ appId: v.appId, code: sandbox.gateway.activationCodes()[0]!, deviceId: 'c1', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 't');
  await rt.terminal.checkin('t');
  return rt;
}

function endpoints(): string[] {
  return sandbox.gateway.log().map((e) => e.endpoint);
}

describe('a key the gateway dated to the day before (POS clock 30 s ahead)', () => {
  it('after the first ILLEGAL_SIGN, keyRefused forces one check-in and the next call succeeds', async () => {
    const posClock = { now: () => gwClock.now() + SKEW };
    const rt = await activated(posClock);
    const sn = rt.terminal.info()!.terminalSn;
    const order = sandbox.gateway.seedOrder({ terminalSn: sn, totalCents: 100 });

    // 00:00:15 on D+1 for the POS, 23:59:45 on D for the gateway: the day's check-in, and the key is dated D.
    gwClock.set(D_END - 15_000);
    sandbox.gateway.clearLog();
    await rt.orders.import({ sn: order.sn }, 't');
    expect(endpoints()).toEqual(['checkin', 'query']);
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-11');

    // After the gateway's midnight the key is refused.
    gwClock.set(D_END + MINUTE);
    const used = rt.terminal.signer();
    sandbox.gateway.clearLog();
    await expect(rt.orders.import({ sn: order.sn }, 't')).rejects.toMatchObject({ code: 'GATEWAY_AUTH', details: { gatewayCode: 'ILLEGAL_SIGN' } });
    expect(endpoints()).toEqual(['query']);

    // The import reported the refused key (orders/service.ts): the next call checks in first.
    expect(rt.terminal.keyRefused(used)).toBe(false); // already marked by the call site
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-10');

    sandbox.gateway.clearLog();
    await expect(rt.orders.import({ sn: order.sn }, 't')).resolves.toMatchObject({ sn: order.sn, status: 'PAID' });
    expect(endpoints()).toEqual(['checkin', 'query']);
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-11');
    sandbox.gateway.clearLog();
    await rt.orders.import({ sn: order.sn }, 't');
    expect(endpoints()).toEqual(['query']);
  });

  it('a payment answered ILLEGAL_SIGN has the next payment check in first, and it is paid', async () => {
    const posClock = { now: () => gwClock.now() + SKEW };
    const rt = await activated(posClock);
    gwClock.set(D_END - 15_000);
    const who = { operatorId: null, operatorName: 'c1', approverId: null, approverName: null };
    await rt.orders.import({ sn: sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents: 100 }).sn }, 't');
    gwClock.set(D_END + MINUTE);
    sandbox.gateway.clearLog();
    const refused = await rt.payments.request({ amountCents: 1200, method: 'barcode', barcode: '134567890123456789' }, who, 't');
    expect(refused.state).not.toBe('paid');
    expect(endpoints()).not.toContain('checkin');
    sandbox.gateway.clearLog();
    const paid = await rt.payments.request({ amountCents: 1300, method: 'barcode', barcode: '134567890123456789' }, who, 't');
    expect(paid.state).toBe('paid');
    expect(endpoints()[0]).toBe('checkin');
  });

  it('forces at most one check-in per 5 minutes (in any process of the data dir), and never for a key already replaced', async () => {
    const posClock = { now: () => gwClock.now() + SKEW };
    const rt = await activated(posClock);
    const other = runtime(posClock);
    const order = sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents: 100 });
    gwClock.set(D_END - 15_000);
    await rt.orders.import({ sn: order.sn }, 't');
    gwClock.set(D_END + MINUTE);
    const stale = rt.terminal.signer();

    expect(rt.terminal.keyRefused(stale)).toBe(true);
    expect(other.terminal.keyRefused(stale)).toBe(false); // already marked (not "checked in today")
    await rt.orders.import({ sn: order.sn }, 't'); // the forced check-in
    // A late answer to a call signed with the replaced key changes nothing.
    expect(other.terminal.keyRefused(stale)).toBe(false);
    expect(rt.terminal.keyRefused(stale)).toBe(false);
    // A refusal of the current key within 5 min of the forced check-in: not again (another process included).
    expect(other.terminal.keyRefused()).toBe(false);
    expect(rt.terminal.keyRefused(rt.terminal.signer())).toBe(false);
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-11');

    gwClock.advance(KEY_REFUSED_EVERY_MS);
    expect(other.terminal.keyRefused(other.terminal.signer())).toBe(true);
    sandbox.gateway.clearLog();
    await rt.orders.import({ sn: order.sn }, 't');
    expect(endpoints()).toEqual(['checkin', 'query']);
  });

  it('refusesKey tells an ILLEGAL_SIGN answer from any other', async () => {
    const posClock = { now: () => gwClock.now() + SKEW };
    const rt = await activated(posClock);
    const good = rt.terminal.signer();
    const client = new UpayClient({ apiDomain: sandbox.gateway.url, timeoutMs: 3_000 });
    try {
      expect(refusesKey(await client.query(good, { sn: '7890000000000000' }))).toBe(false);
      expect(refusesKey(await client.query({ sn: good.sn, key: 'f'.repeat(32) }, { sn: '7890000000000000' }))).toBe(true);
      gwClock.advance(24 * 60 * MINUTE); // the key's day is over (strict)
      expect(refusesKey(await client.query(good, { sn: '7890000000000000' }))).toBe(true);
      expect(refusesKey({ ok: false, kind: 'maybe_sent', reason: 'timeout', message: 'no answer' })).toBe(false);
    } finally {
      await client.close();
    }
  });
});

describe("the check-in's day", () => {
  it('is the day the request left: a key asked for at 23:59:59.5 and answered after midnight does not count for the new day', async () => {
    // One clock for both sides here. The last check-in was on D-1.
    gwClock.set(D_NOON - 24 * 60 * MINUTE);
    const rt = await activated(gwClock);
    const order = sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents: 100 });
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-09');

    gwClock.set(D_END - 500); // 23:59:59.5 on D: the call checks in first
    sandbox.gateway.inject('checkin', { kind: 'delay', ms: 300 });
    sandbox.gateway.clearLog();
    const call = rt.orders.import({ sn: order.sn }, 't').then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    );
    // The gateway has the request (and dated the key to D); the answer comes back after midnight.
    await until(() => sandbox.gateway.log().some((e) => e.endpoint === 'checkin'));
    gwClock.set(D_END + 500);
    expect(await call).toBe('GATEWAY_AUTH'); // the query at 00:00:00.5 with a key of D (strict)
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-10');
    expect(businessDay(gwClock.now())).toBe('2026-03-11');

    // So the next call, on D+1, checks in again and gets a key of D+1.
    sandbox.gateway.clearLog();
    await expect(rt.orders.import({ sn: order.sn }, 't')).resolves.toMatchObject({ status: 'PAID' });
    expect(endpoints()).toEqual(['checkin', 'query']);
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-11');
  });
});
