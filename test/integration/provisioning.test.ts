/**
 * Terminal provisioning through createRuntime against the sandbox gateway
 * (real HTTP on loopback, real SQLite file, real FileKeyVault; only the
 * clock is faked, for the business-day boundary): activation, re-activation
 * (refused without --force), check-in key rotation, a lost check-in answer,
 * the automatic check-in on a new business day, the cross-process check-in
 * lease, and the key at rest (never in clear in any file of the data dir).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PosError } from '../../main/errors';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import { listAudit } from '../../main/store/audit';
import { TerminalRepo } from '../../main/store/terminal';
import { FileKeyVault, VAULT_KEY_FILE, VaultError } from '../../main/terminal/vault';
import { UpayClient } from '../../main/upay/client';
import { businessDay, ManualClock } from '../../main/common/time';
import { rejection } from '../support/harness';

// 2026-03-10 23:50:00 in UTC+8: ten minutes before the business day ends.
const LATE_EVENING = Date.UTC(2026, 2, 10, 15, 50, 0);
const MINUTE = 60_000;

let clock: ManualClock;
let sandbox: Sandbox;
let root: string;
let dataDir: string;
let runtimes: Runtime[];
/** The terminal key the sandbox held right after each check-in effect (also for answers the client never got). */
let keysIssued: string[];

beforeEach(async () => {
  clock = new ManualClock(LATE_EVENING);
  keysIssued = [];
  const ref: { sb?: Sandbox } = {};
  sandbox = await createSandbox({
    clock,
    gateway: {
      onRequest: (e) => {
        if ((e.endpoint === 'checkin' || e.endpoint === 'activate') && e.effect && e.terminalSn && ref.sb) {
          const t = ref.sb.gateway.terminal(e.terminalSn);
          if (t) keysIssued.push(t.terminalKey);
        }
      },
    },
  });
  ref.sb = sandbox;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-prov-'));
  dataDir = path.join(root, 'data'); // does not exist yet: openDb creates it
  runtimes = [];
});

afterEach(async () => {
  for (const r of runtimes) await r.close();
  await sandbox.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function runtime(): Runtime {
  const rt = createRuntime({ dataDir, apiDomain: sandbox.gateway.url, clock, printer: 'none', startWorkers: false, timeoutMs: 3_000 });
  runtimes.push(rt);
  return rt;
}

async function activate(rt: Runtime, opts: { force?: boolean } = {}) {
  const v = sandbox.gateway.vendor;
  const code = sandbox.gateway.activationCodes()[0]!;
  const info = await rt.terminal.activate({ appId: v.appId, code, deviceId: 'counter-1', vendorSn: v.vendorSn, vendorKey: v.vendorKey, name: '一号收银台', force: opts.force }, 'test');
  return { info, code };
}

/** The key the data dir holds, opened with its own vault (current and previous). */
function storedKeys(rt: Runtime): { current: string; previous: string | null } {
  const row = new TerminalRepo(databaseOf(rt)).get()!;
  return { current: rt.vault.open(row.sealed_key), previous: row.sealed_prev_key ? rt.vault.open(row.sealed_prev_key) : null };
}

function endpoints(): string[] {
  return sandbox.gateway.log().map((e) => e.endpoint);
}

/** A signed query with an explicit key: does the gateway accept that key? */
async function gatewayAccepts(terminalSn: string, key: string): Promise<boolean> {
  const client = new UpayClient({ apiDomain: sandbox.gateway.url, timeoutMs: 3_000 });
  try {
    const res = await client.query({ sn: terminalSn, key }, { sn: '7890000000000000' });
    if (res.ok) return true;
    if (res.kind === 'envelope' && res.errorCode === 'ILLEGAL_SIGN') return false;
    throw new Error(`unexpected answer: ${JSON.stringify(res)}`);
  } finally {
    await client.close();
  }
}

describe('activation', () => {
  it('activates with the vendor credentials and an activation code; stores the terminal and its key sealed', async () => {
    const rt = runtime();
    expect(rt.terminal.info()).toBeNull();
    const { info, code } = await activate(rt);
    const [gwTerminal] = sandbox.gateway.terminals();
    expect(gwTerminal).toBeDefined();
    expect(info).toMatchObject({
      terminalSn: gwTerminal!.terminalSn,
      deviceId: 'counter-1',
      merchantName: '收钱吧沙箱商户',
      storeName: '沙箱一号店',
      activatedAt: LATE_EVENING,
      lastCheckinDay: null,
    });
    expect(sandbox.gateway.activationCodes()).not.toContain(code);
    expect(storedKeys(rt)).toEqual({ current: gwTerminal!.terminalKey, previous: null });
    expect(rt.terminal.signer()).toEqual({ sn: gwTerminal!.terminalSn, key: gwTerminal!.terminalKey });
    expect(listAudit(databaseOf(rt)).map((a) => a.action)).toEqual(['terminal.activated']);
    expect(JSON.stringify(listAudit(databaseOf(rt)))).not.toContain(gwTerminal!.terminalKey);
  });

  it('refuses to re-activate without force (ALREADY_ACTIVATED, no gateway call) and re-activates with force', async () => {
    const rt = runtime();
    const first = (await activate(rt)).info;
    sandbox.gateway.clearLog();
    const codesBefore = sandbox.gateway.activationCodes();

    const err = await rejection(activate(rt));
    expect(err).toBeInstanceOf(PosError);
    expect(err.code).toBe('ALREADY_ACTIVATED');
    expect(err.messageEn).toContain(first.terminalSn);
    expect(err.messageEn).toContain('--force');
    expect(sandbox.gateway.log()).toEqual([]);
    expect(sandbox.gateway.activationCodes()).toEqual(codesBefore);
    expect(rt.terminal.info()).toEqual(first);

    clock.advance(MINUTE);
    const { info: second, code } = await activate(rt, { force: true });
    expect(second.terminalSn).not.toBe(first.terminalSn);
    expect(sandbox.gateway.activationCodes()).not.toContain(code);
    expect(endpoints()).toEqual(['activate']);
    const gw = sandbox.gateway.terminal(second.terminalSn)!;
    expect(storedKeys(rt)).toEqual({ current: gw.terminalKey, previous: null });
    expect(listAudit(databaseOf(rt))[0]).toMatchObject({ action: 'terminal.activated', subject: second.terminalSn, details: { forced: true } });
  });

  it('a refused activation (used code) stores nothing', async () => {
    const rt = runtime();
    const { code } = await activate(rt);
    const other = createRuntime({ dataDir: path.join(root, 'other'), apiDomain: sandbox.gateway.url, clock, printer: 'none', startWorkers: false });
    runtimes.push(other);
    const v = sandbox.gateway.vendor;
    const err = await rejection(other.terminal.activate({ appId: v.appId, code, deviceId: 'counter-2', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test'));
    expect(err).toBeInstanceOf(PosError);
    expect(JSON.stringify({ message: err.messageZh, details: err.details ?? null })).toContain('激活码已被使用');
    expect(other.terminal.info()).toBeNull();
    expect(sandbox.gateway.terminals()).toHaveLength(1);
  });
});

describe('check-in', () => {
  it('rotates the key: the sandbox issues a new key, the old one becomes the previous key on both sides', async () => {
    const rt = runtime();
    const { info } = await activate(rt);
    const k0 = sandbox.gateway.terminal(info.terminalSn)!.terminalKey;
    sandbox.gateway.clearLog();
    clock.advance(MINUTE);

    const after = await rt.terminal.checkin('test');
    const gw = sandbox.gateway.terminal(info.terminalSn)!;
    expect(gw.terminalKey).not.toBe(k0);
    expect(gw.previousKey).toBe(k0);
    expect(storedKeys(rt)).toEqual({ current: gw.terminalKey, previous: k0 });
    expect(after.lastCheckinDay).toBe(businessDay(clock.now()));
    expect(after.keyUpdatedAt).toBe(clock.now());
    expect(endpoints()).toEqual(['checkin']);
    expect(sandbox.gateway.effects('checkin', info.terminalSn)).toBe(1);

    // The new key signs; a second rotation retires k0 for good.
    expect(await gatewayAccepts(info.terminalSn, gw.terminalKey)).toBe(true);
    await rt.terminal.checkin('test');
    expect(await gatewayAccepts(info.terminalSn, k0)).toBe(false);
    expect(await gatewayAccepts(info.terminalSn, storedKeys(rt).current)).toBe(true);
    expect(listAudit(databaseOf(rt)).filter((a) => a.action === 'terminal.checkin')).toHaveLength(2);
  });

  it('a lost check-in answer is retried with the old key and succeeds; the undelivered key is dead', async () => {
    const rt = runtime();
    const { info } = await activate(rt);
    const k0 = storedKeys(rt).current;
    sandbox.gateway.clearLog();
    keysIssued = [];
    sandbox.gateway.inject('checkin', { kind: 'drop_after' });

    await rt.terminal.checkin('test');

    const log = sandbox.gateway.log();
    expect(log.map((e) => [e.endpoint, e.fault ?? null, e.effect])).toEqual([
      ['checkin', 'drop_after', true],
      ['checkin', null, true],
    ]);
    expect(keysIssued).toHaveLength(2);
    const [lost, fresh] = keysIssued as [string, string];
    const gw = sandbox.gateway.terminal(info.terminalSn)!;
    expect(gw.terminalKey).toBe(fresh);
    expect(gw.previousKey).toBe(k0); // the retry was signed with the old key
    expect(storedKeys(rt)).toEqual({ current: fresh, previous: k0 });
    expect(await gatewayAccepts(info.terminalSn, lost)).toBe(false);
    expect(await gatewayAccepts(info.terminalSn, fresh)).toBe(true);
    expect(listAudit(databaseOf(rt))[0]).toMatchObject({ action: 'terminal.checkin', details: { attempt: 2 } });
  });

  it('two lost answers (one applied, one not) are still recovered by a third attempt with the old key', async () => {
    const rt = runtime();
    await activate(rt);
    const k0 = storedKeys(rt).current;
    sandbox.gateway.clearLog();
    sandbox.gateway.inject('checkin', { kind: 'malformed_json' });
    sandbox.gateway.inject('checkin', { kind: 'drop_before' });

    await rt.terminal.checkin('test');

    expect(sandbox.gateway.log().map((e) => [e.fault ?? null, e.effect])).toEqual([
      ['malformed_json', true],
      ['drop_before', false],
      [null, true],
    ]);
    expect(storedKeys(rt).previous).toBe(k0);
    expect(await gatewayAccepts(rt.terminal.info()!.terminalSn, storedKeys(rt).current)).toBe(true);
    expect(listAudit(databaseOf(rt))[0]).toMatchObject({ action: 'terminal.checkin', details: { attempt: 3 } });
  });

  it('every answer lost: CHECKIN_UNCERTAIN (zh-CN and en, no key in it), the stored key unchanged; running it again works', async () => {
    const rt = runtime();
    await activate(rt);
    const before = storedKeys(rt);
    sandbox.gateway.inject('checkin', { kind: 'drop_before' }, 3);

    const err = (await rt.terminal.checkin('test').catch((e: unknown) => e)) as PosError;
    expect(err.code).toBe('CHECKIN_UNCERTAIN');
    expect(err.messageZh).toContain('再次签到');
    expect(err.messageEn).toContain('Run check-in again');
    expect(JSON.stringify(err)).not.toContain(before.current);
    expect(storedKeys(rt)).toEqual(before);

    await rt.terminal.checkin('test');
    expect(storedKeys(rt).previous).toBe(before.current);
  });

  it('checks in automatically before the first gateway call of a new business day (UTC+8), once', async () => {
    const rt = runtime();
    await activate(rt);
    await rt.terminal.checkin('test');
    const today = businessDay(clock.now());
    expect(today).toBe('2026-03-10');
    clock.advance(5 * MINUTE); // 23:55
    const order = sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents: 1234 });

    // Same day: no check-in.
    sandbox.gateway.clearLog();
    await rt.orders.import({ sn: order.sn }, 'test');
    expect(endpoints()).toEqual(['query']);

    clock.advance(10 * MINUTE); // 00:05 on 2026-03-11 in UTC+8 (16:05 UTC, same UTC day)
    expect(new Date(clock.now()).toISOString().slice(0, 10)).toBe('2026-03-10');
    expect(businessDay(clock.now())).toBe('2026-03-11');
    sandbox.gateway.clearLog();
    const keyBefore = storedKeys(rt).current;
    const imported = await rt.orders.import({ sn: order.sn }, 'test');
    expect(endpoints()).toEqual(['checkin', 'query']);
    expect(imported).toMatchObject({ sn: order.sn, status: 'PAID', businessDay: '2026-03-10' });
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-11');
    expect(storedKeys(rt).previous).toBe(keyBefore);

    sandbox.gateway.clearLog();
    await rt.orders.import({ clientSn: order.clientSn }, 'test');
    expect(endpoints()).toEqual(['query']);
  });

  it('a failed daily check-in does not block the call, and is tried again once its back-off (1 min) is over', async () => {
    const rt = runtime();
    await activate(rt);
    await rt.terminal.checkin('test');
    const order = sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents: 500 });
    clock.advance(20 * MINUTE); // next business day
    sandbox.gateway.clearLog();
    sandbox.gateway.inject('checkin', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' });

    await rt.orders.import({ sn: order.sn }, 'test');
    expect(sandbox.gateway.log().map((e) => [e.endpoint, e.fault ?? null])).toEqual([
      ['checkin', 'envelope'],
      ['query', null],
    ]);
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-10');

    // Within the back-off: the current key at once, no check-in.
    sandbox.gateway.clearLog();
    await rt.orders.import({ sn: order.sn }, 'test');
    expect(endpoints()).toEqual(['query']);

    clock.advance(MINUTE);
    sandbox.gateway.clearLog();
    await rt.orders.import({ sn: order.sn }, 'test');
    expect(endpoints()).toEqual(['checkin', 'query']);
    expect(rt.terminal.info()!.lastCheckinDay).toBe('2026-03-11');
  });

  it('two runtimes on one data dir never rotate at once (lease): one gets CHECKIN_BUSY, the stored key stays valid', async () => {
    const a = runtime();
    const { info } = await activate(a);
    const b = runtime();
    sandbox.gateway.inject('checkin', { kind: 'delay', ms: 300 });
    const before = sandbox.gateway.effects('checkin', info.terminalSn);

    const results = await Promise.allSettled([a.terminal.checkin('a'), b.terminal.checkin('b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect((refused?.reason as PosError).code).toBe('CHECKIN_BUSY');
    expect(sandbox.gateway.effects('checkin', info.terminalSn)).toBe(before + 1);

    const gw = sandbox.gateway.terminal(info.terminalSn)!;
    expect(storedKeys(a).current).toBe(gw.terminalKey);
    expect(storedKeys(b).current).toBe(gw.terminalKey);
    // The lease is released: the other runtime can check in now.
    await b.terminal.checkin('b');
    expect(storedKeys(a).current).toBe(sandbox.gateway.terminal(info.terminalSn)!.terminalKey);
  });
});

describe('the key at rest', () => {
  /** Every encoding of a secret we look for: text (both cases), hex and base64 of its bytes, and its raw bytes. */
  function needles(secret: string): Array<{ label: string; bytes: Buffer }> {
    const utf8 = Buffer.from(secret, 'utf8');
    const out = [
      { label: 'utf8', bytes: utf8 },
      { label: 'utf8 upper', bytes: Buffer.from(secret.toUpperCase(), 'utf8') },
      { label: 'hex of utf8', bytes: Buffer.from(utf8.toString('hex'), 'utf8') },
      { label: 'base64 of utf8', bytes: Buffer.from(utf8.toString('base64'), 'utf8') },
      { label: 'base64url of utf8', bytes: Buffer.from(utf8.toString('base64url'), 'utf8') },
      { label: 'utf16le', bytes: Buffer.from(secret, 'utf16le') },
    ];
    if (/^[0-9a-f]+$/i.test(secret) && secret.length % 2 === 0) {
      const rawBytes = Buffer.from(secret, 'hex');
      out.push({ label: 'raw bytes', bytes: rawBytes }, { label: 'base64 of raw bytes', bytes: Buffer.from(rawBytes.toString('base64'), 'utf8') });
    }
    return out;
  }

  function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  }

  function leaks(secrets: string[]): string[] {
    const found: string[] = [];
    for (const file of filesUnder(dataDir)) {
      const bytes = fs.readFileSync(file);
      for (const [i, s] of secrets.entries()) {
        for (const n of needles(s)) if (bytes.includes(n.bytes)) found.push(`${path.basename(file)}: secret #${i} as ${n.label}`);
      }
    }
    return found;
  }

  it('no file of the data dir (db, -wal, -shm, vault.key) holds a terminal key in clear; vault.key is 0600', async () => {
    const rt = runtime();
    const { info } = await activate(rt);
    await rt.terminal.checkin('test');
    sandbox.gateway.inject('checkin', { kind: 'drop_after' });
    await rt.terminal.checkin('test'); // a lost answer: one more key that was issued but never delivered
    await rt.terminal.activate(
      { appId: sandbox.gateway.vendor.appId, code: sandbox.gateway.activationCodes()[0]!, deviceId: 'counter-1', vendorSn: sandbox.gateway.vendor.vendorSn, vendorKey: sandbox.gateway.vendor.vendorKey, force: true },
      'test',
    );
    await rt.terminal.checkin('test');

    const secrets = new Set<string>(keysIssued);
    for (const t of sandbox.gateway.terminals()) {
      secrets.add(t.terminalKey);
      if (t.previousKey) secrets.add(t.previousKey);
    }
    secrets.add(sandbox.gateway.vendor.vendorKey);
    expect(secrets.size).toBeGreaterThanOrEqual(7);

    // While the runtime is open the WAL and shared-memory files exist too.
    const names = fs.readdirSync(dataDir).sort();
    expect(names).toEqual(expect.arrayContaining(['upay-pos.db', 'upay-pos.db-shm', 'upay-pos.db-wal', VAULT_KEY_FILE]));
    expect(leaks([...secrets])).toEqual([]);

    // The key is there, sealed: the data dir's own vault opens it, another vault does not.
    const current = sandbox.gateway.terminals().find((t) => t.terminalSn === rt.terminal.info()!.terminalSn)!;
    expect(rt.terminal.info()!.terminalSn).not.toBe(info.terminalSn);
    expect(storedKeys(rt).current).toBe(current.terminalKey);
    const sealed = new TerminalRepo(databaseOf(rt)).get()!.sealed_key;
    const stranger = new FileKeyVault(path.join(root, 'elsewhere'));
    expect(() => stranger.open(sealed)).toThrow(VaultError);

    await rt.close();
    runtimes = runtimes.filter((r) => r !== rt);
    // After close (WAL checkpointed into the db file) still nothing in clear.
    expect(leaks([...secrets])).toEqual([]);

    const vaultKey = fs.statSync(path.join(dataDir, VAULT_KEY_FILE));
    expect(vaultKey.mode & 0o777).toBe(0o600);
    expect(vaultKey.size).toBe(32);
    expect(fs.statSync(dataDir).mode & 0o077).toBe(0);
  });

  it('a vault.key with loose permissions is tightened to 0600 when the data dir is opened', async () => {
    const rt = runtime();
    await activate(rt);
    await rt.close();
    runtimes = [];
    fs.chmodSync(path.join(dataDir, VAULT_KEY_FILE), 0o644);
    const again = runtime();
    expect(again.terminal.signer().key).toBe(sandbox.gateway.terminals()[0]!.terminalKey);
    expect(fs.statSync(path.join(dataDir, VAULT_KEY_FILE)).mode & 0o777).toBe(0o600);
  });
});
