/**
 * Attacks on the gateway and the network, performed the way renderer code, a
 * hostile gateway or a careless operator would, each refused with nothing
 * written, stored or sent:
 * - renderer code changes the gateway through the IPC handlers;
 * - plain http to a host that is not this machine, from a flag, env, a
 *   stored setting, runtime options or the app's configuration;
 * - a 300 MB answer and an answer dripping one byte a second;
 * - gateway strings beyond their bounds; an imported order outside the order schema;
 * - a bad stored setting, repaired by exactly the command its error names.
 * CLI children run with test/support/net-guard.cjs preloaded: a connection
 * to anything but loopback is refused before any lookup and recorded, so
 * even a broken check could send nothing off this machine.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, storedSettings } from '../../main/electron/boot';
import { resolveGateway } from '../../main/electron/policy';
import { createRuntime, silentLogger } from '../../main/runtime';
import { openDb } from '../../main/store/db';
import { listAudit } from '../../main/store/audit';
import { acquireLease, releaseLease } from '../../main/store/locks';
import { setSettings } from '../../main/store/settings';
import { MAX_ANSWER_BYTES, UpayClient } from '../../main/upay/client';
import { checkGatewayUrl } from '../../main/upay/gateway-url';
import { createHarness, tempDir, type Harness } from '../support/harness';
import { cliEnv, describeRun, ensureCliBuilt, oneJson, removeCliSnapshot, runCli, type CliResult } from '../support/cli-run';
import { createHostileGateway, type HostileGateway } from '../support/hostile-gateway';
import { signedInHandlers } from '../support/operators';

const GUARD = path.resolve(__dirname, '../support/net-guard.cjs');

interface ErrorDoc {
  error: { code: string; message: string; messageZh: string; details?: Record<string, unknown> };
}

/** Row counts of the tables an attack must leave alone. */
function counts(dataDir: string): Record<string, number> {
  const db = new Database(dbFile(dataDir), { readonly: true });
  try {
    const n = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { revokes: n('revokes'), settings: n('settings'), audit_log: n('audit_log'), print_jobs: n('print_jobs'), orders: n('orders') };
  } finally {
    db.close();
  }
}

function dbFile(dataDir: string): string {
  const f = fs.readdirSync(dataDir).find((n) => n.endsWith('.db'));
  if (!f) throw new Error(`no database in ${dataDir}`);
  return path.join(dataDir, f);
}

function plantSetting(dataDir: string, key: string, value: unknown): void {
  const db = new Database(dbFile(dataDir));
  try {
    db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  } finally {
    db.close();
  }
}

describe('the https rule (one function decides it)', () => {
  it('accepts https anywhere and http only on loopback; refuses credentials, paths and other schemes', () => {
    for (const ok of ['https://vsi-api.shouqianba.com', 'https://hk-api.shouqianba.com/', 'http://127.0.0.1:8900', 'http://127.9.8.7', 'http://localhost:1', 'http://[::1]:2', 'http://127.1:3']) {
      expect(() => checkGatewayUrl(ok), ok).not.toThrow();
    }
    const refused = [
      'http://192.0.2.10:8080',
      'http://10.0.0.1',
      'http://upay-relay.example',
      'http://127.0.0.1.nip.io',
      'http://localhost.example',
      'http://[::ffff:c000:20a]',
      'javascript:alert(1)',
      'ftp://127.0.0.1',
      'https://user:pw@vsi-api.shouqianba.com',
      'https://vsi-api.shouqianba.com/upay',
      'https://vsi-api.shouqianba.com/?x=1',
      '',
      'not a url',
    ];
    for (const bad of refused) expect(() => checkGatewayUrl(bad, 'UPAY_API_DOMAIN'), bad).toThrow(/Invalid gateway address \(UPAY_API_DOMAIN\)/);
  });

  it('runtime options, the app configuration (env and stored) and the UpayClient refuse plain http to another host; nothing is created', () => {
    const dir = path.join(tempDir(), 'never-created');
    expect(() => createRuntime({ dataDir: dir, apiDomain: 'http://192.0.2.10:8080' })).toThrow(/plain http is allowed only for this machine/);
    expect(fs.existsSync(dir)).toBe(false);
    expect(() => resolveGateway({ UPAY_API_DOMAIN: 'http://upay-relay.example' }, undefined)).toThrow(/UPAY_API_DOMAIN/);
    expect(() => resolveGateway({}, 'http://10.0.0.1')).toThrow(/apiDomain/);
    expect(() => new UpayClient({ apiDomain: 'http://upay-relay.example' })).toThrow(/plain http/);
  });

  it('a stored apiDomain is checked when written (nothing stored or audited, credentials never) and when read (the app does not start)', async () => {
    const dir = tempDir();
    const db = openDb(dir);
    try {
      for (const bad of ['http://192.0.2.10', 'javascript:x', 'https://admin:s3cret@gw.example']) {
        expect(() => setSettings(db, { apiDomain: bad }, 'test', 1)).toThrow();
      }
      expect(listAudit(db)).toEqual([]);
      expect((db.prepare('SELECT COUNT(*) AS n FROM settings').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
    // Planted behind the program's back (an older version, a hand edit): the app refuses to start, naming the fix.
    plantSetting(dir, 'apiDomain', 'http://192.0.2.10');
    expect(() => storedSettings(dir)).toThrow(/upay-pos settings unset apiDomain/);
    await expect(boot({ dataDir: dir, env: {}, logger: silentLogger, vault: () => ({}) as never, vendorFile: null })).rejects.toMatchObject({ code: 'SETTING_INVALID' });
    expect(JSON.stringify(fs.readFileSync(dbFile(dir)).toString('latin1'))).not.toContain('s3cret');
  });
});

describe('renderer code cannot change the gateway (IPC handlers)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('settings.set with apiDomain (any value, null, or mixed with a valid change) is INVALID_INPUT; nothing stored, audited or sent', async () => {
    const handlers = await signedInHandlers(h.rt, { mode: 'production', version: '0.0.0', vendor: null, actor: 'renderer' });
    const before = counts(h.dataDir);
    const gatewayBefore = h.rt.apiDomain;
    h.sandbox.gateway.clearLog();
    const attempts: unknown[] = [
      { apiDomain: 'http://192.0.2.10:8080' },
      { apiDomain: 'https://upay-relay.example' },
      { apiDomain: null },
      { paperWidth: 58, apiDomain: 'https://upay-relay.example' },
      { mode: 'production' },
      { gateway: 'https://upay-relay.example' },
      JSON.parse('{"__proto__": {"apiDomain": "https://upay-relay.example"}}'),
    ];
    for (const input of attempts) {
      const r = await handlers['settings.set'](input);
      expect(r, JSON.stringify(input)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    expect(counts(h.dataDir)).toEqual(before);
    expect(h.rt.settings().paperWidth).toBe(80);
    expect(h.rt.apiDomain).toBe(gatewayBefore);
    expect(storedSettings(h.dataDir).apiDomain).toBeUndefined();
    expect(h.sandbox.gateway.log()).toEqual([]);
    // Still visible read-only.
    expect(await handlers['settings.get']({})).toMatchObject({ ok: true, value: { apiDomain: null } });
    expect(await handlers['app.info']({})).toMatchObject({ ok: true, value: { apiDomain: gatewayBefore } });
  });
});

describe('hostile gateway answers (in process)', () => {
  let h: Harness;
  let hostile: HostileGateway;
  beforeAll(async () => {
    h = await createHarness();
    hostile = await createHostileGateway(h.sandbox.gateway.url);
  });
  afterAll(async () => {
    await hostile.close();
    await h.close();
  });

  it('an answer dripping one byte a second ends at the call`s timeout (+1 s at most), as "maybe sent"', async () => {
    hostile.mode = () => 'drip';
    const client = new UpayClient({ apiDomain: hostile.url, timeoutMs: 2_000 });
    const order = h.paidOrder();
    try {
      const started = Date.now();
      const res = await client.revoke(h.rt.terminal.signer(), { sn: order.sn });
      const took = Date.now() - started;
      console.log(`drip: the revoke call ended after ${took} ms (timeout 2000 ms); ${hostile.written()} hostile bytes written`);
      expect(res).toEqual({ ok: false, kind: 'maybe_sent', reason: 'timeout', message: 'the gateway did not answer in time' });
      expect(took).toBeLessThan(3_000);
      expect(took).toBeGreaterThanOrEqual(1_900);
      // The revoke did reach the gateway: "maybe sent" is the truth, and a query settles it.
      expect(h.sandbox.gateway.getOrder(order.sn)?.orderStatus).toBe('CANCELED');
    } finally {
      hostile.mode = () => 'pass';
      await client.close();
    }
  });

  it('a declared or streamed answer over 64 KiB is cut off unread ("maybe sent", reason too_large)', async () => {
    const client = new UpayClient({ apiDomain: hostile.url, timeoutMs: 10_000 });
    const order = h.paidOrder();
    try {
      hostile.mode = (p) => (p.endsWith('/revoke') ? 'huge' : 'pass');
      hostile.hugeBytes = 300 * 1024 * 1024;
      const before = hostile.written();
      const res = await client.revoke(h.rt.terminal.signer(), { sn: order.sn });
      expect(res).toMatchObject({ ok: false, kind: 'maybe_sent', reason: 'too_large' });
      // The server writes only as fast as we read: far less than 300 MB went out.
      expect(hostile.written() - before).toBeLessThan(32 * 1024 * 1024);
      const q = await client.query(h.rt.terminal.signer(), { sn: order.sn });
      expect(q).toMatchObject({ ok: true, value: { order: { orderStatus: 'CANCELED' } } });
    } finally {
      hostile.mode = () => 'pass';
      await client.close();
    }
    // A content-length over the cap is refused before a byte of the body is read.
    const big = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_ANSWER_BYTES + 1) });
      res.write('{');
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', () => r()));
    const c2 = new UpayClient({ apiDomain: `http://127.0.0.1:${(big.address() as AddressInfo).port}`, timeoutMs: 5_000 });
    try {
      expect(await c2.query({ sn: '1', key: 'k' }, { sn: '1' })).toMatchObject({ ok: false, kind: 'maybe_sent', reason: 'too_large' });
    } finally {
      await c2.close();
      big.closeAllConnections();
      await new Promise<void>((r) => big.close(() => r()));
    }
  });

  it('gateway strings beyond their bounds are not believed; an imported order outside the order schema is not stored', async () => {
    const rt = h.runtime({ apiDomain: hostile.url });
    const order = h.paidOrder();
    const before = counts(h.dataDir);
    try {
      // 600-character error message: malformed, i.e. "maybe sent", never stored as a reason.
      hostile.mode = () => 'rewrite';
      hostile.rewrite = (_p, json) => ({ ...json, biz_response: { ...(json.biz_response as object), error_message: 'x'.repeat(600) } });
      const client = new UpayClient({ apiDomain: hostile.url });
      expect(await client.query(rt.terminal.signer(), { sn: order.sn }).finally(() => client.close())).toMatchObject({ ok: false, kind: 'maybe_sent', reason: 'malformed' });
      // A subject within the answer bound but beyond what a recorded order may hold: the import stores nothing.
      const other = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, totalCents: 4321, subject: 'ok' });
      hostile.rewrite = (_p, json) => {
        const biz = json.biz_response as { data: Record<string, unknown> };
        return { ...json, biz_response: { ...biz, data: { ...biz.data, subject: '长'.repeat(100) } } };
      };
      await expect(rt.orders.import({ sn: other.sn }, 'test')).rejects.toMatchObject({ code: 'GATEWAY_UNCERTAIN', details: { field: 'subject' } });
      expect(rt.orders.get(other.sn)).toBeUndefined();
      expect(counts(h.dataDir)).toEqual(before);
    } finally {
      hostile.mode = () => 'pass';
      hostile.rewrite = (_p, json) => json;
    }
  });
});

describe('the CLI (built bin, net guard preloaded)', () => {
  let h: Harness;
  let hostile: HostileGateway;
  let work: string;
  const guardEnv = (extra: NodeJS.ProcessEnv = {}) =>
    cliEnv({
      NODE_OPTIONS: `--require ${GUARD}`,
      UPAY_TEST_NET_LOG: path.join(work, 'net.log'),
      UPAY_POS_QUIET: '1',
      ...extra,
    });
  const netAttempts = () => (fs.existsSync(path.join(work, 'net.log')) ? fs.readFileSync(path.join(work, 'net.log'), 'utf8').split('\n').filter(Boolean) : []);

  beforeAll(async () => {
    ensureCliBuilt();
    // No workers in the harness's own runtime: what a CLI child leaves (a pending revoke) stays as it left it until the test queries it.
    h = await createHarness({ runtime: { startWorkers: false } });
    hostile = await createHostileGateway(h.sandbox.gateway.url);
    work = tempDir('upay-pos-sec-');
  }, 180_000);
  afterAll(async () => {
    await hostile.close();
    await h.close();
    removeCliSnapshot();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('plain http to a non-loopback host (flag, env, settings set): exit 2 up front, no revoke row, nothing stored, no connection attempted', async () => {
    const order = h.paidOrder();
    const before = counts(h.dataDir);
    h.sandbox.gateway.clearLog();
    const runs: CliResult[] = [
      await runCli(['revoke', '--sn', order.sn, '--json', '--data-dir', h.dataDir, '--api-domain', 'http://192.0.2.10:8080'], { env: guardEnv() }),
      await runCli(['revoke', '--sn', order.sn, '--json', '--data-dir', h.dataDir], { env: guardEnv({ UPAY_API_DOMAIN: 'http://upay-relay.example' }) }),
      await runCli(['checkin', '--json', '--data-dir', h.dataDir, '--api-domain', 'http://10.1.2.3'], { env: guardEnv() }),
      await runCli(['settings', 'set', 'apiDomain=http://192.0.2.10', '--json', '--data-dir', h.dataDir], { env: guardEnv() }),
      await runCli(['settings', 'set', 'apiDomain=https://admin:s3cret@gw.example', '--json', '--data-dir', h.dataDir], { env: guardEnv() }),
    ];
    for (const r of runs) {
      expect(r.code, describeRun(r)).toBe(2);
      const doc = oneJson<ErrorDoc>(r);
      expect(doc.error.code).toBe('INVALID_INPUT');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(oneJson<ErrorDoc>(runs[0]!).error.message).toMatch(/^Invalid gateway address \(--api-domain\): plain http is allowed only for this machine/);
    expect(oneJson<ErrorDoc>(runs[1]!).error.message).toMatch(/\(UPAY_API_DOMAIN\)/);
    expect(counts(h.dataDir)).toEqual(before);
    expect(h.rt.revokes.forOrder(order.sn)).toBeFalsy();
    expect(h.sandbox.gateway.log()).toEqual([]);
    expect(netAttempts()).toEqual([]);
    expect(fs.readFileSync(dbFile(h.dataDir)).toString('latin1')).not.toContain('s3cret');
  }, 60_000);

  it('a bad stored apiDomain: every command names the setting and the command that repairs it; exactly that command repairs it', async () => {
    const dir = tempDir();
    // Activate through the sandbox so the data dir is a real terminal's.
    const rt = createRuntime({ dataDir: dir, apiDomain: h.sandbox.gateway.url, startWorkers: false });
    const v = h.sandbox.gateway.vendor;
    h.sandbox.gateway.addActivationCode('77770001');
    await rt.terminal.activate({ appId: v.appId, code: '77770001', deviceId: 'repair', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
    await rt.close();
    for (const [planted, how] of [
      ['javascript:x', 'env'],
      ['http://192.0.2.10:8080', 'flag'],
    ] as const) {
      plantSetting(dir, 'apiDomain', planted);
      const env = guardEnv(how === 'env' ? { UPAY_POS_DATA_DIR: dir } : {});
      const dirArgs = how === 'flag' ? ['--data-dir', dir] : [];
      const broken = await runCli(['status', '--json', ...dirArgs], { env });
      expect(broken.code, describeRun(broken)).toBe(2);
      const err = oneJson<ErrorDoc>(broken).error;
      expect(err.code).toBe('SETTING_INVALID');
      expect(err.message).toContain('apiDomain');
      const fix = (err.details?.fix as string[])[0]!;
      expect(fix).toBe(how === 'env' ? 'upay-pos settings unset apiDomain' : `upay-pos settings unset apiDomain --data-dir ${dir}`);
      expect(err.message).toContain(`\`${fix}\``);
      // Run exactly what the error says (no other flag).
      const words = fix.split(' ').slice(1);
      const repaired = await runCli(words, { env });
      expect(repaired.code, describeRun(repaired)).toBe(0);
      const ok = await runCli(['status', '--json', ...dirArgs], { env });
      expect(ok.code, describeRun(ok)).toBe(0);
      expect(oneJson<{ apiDomain: string }>(ok).apiDomain).toBe('https://vsi-api.shouqianba.com');
    }
    // The other named command, with a real value, works as well.
    plantSetting(dir, 'apiDomain', 'javascript:x');
    const set = await runCli(['settings', 'set', `apiDomain=${h.sandbox.gateway.url}`, '--json', '--data-dir', dir], { env: guardEnv() });
    expect(set.code, describeRun(set)).toBe(0);
    const ok = await runCli(['status', '--json', '--data-dir', dir], { env: guardEnv() });
    expect(oneJson<{ apiDomain: string }>(ok).apiDomain).toBe(h.sandbox.gateway.url);
    expect(netAttempts()).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a 300 MB answer to a revoke: the CLI`s RSS grows < 50 MB, the revoke ends pending, then revoked by query once the gateway behaves', async () => {
    const rssOf = async (args: string[]) => {
      const file = path.join(work, `rss-${Date.now()}-${Math.random()}`);
      const r = await runCli(args, { env: guardEnv({ UPAY_TEST_RSS_FILE: file }), timeoutMs: 60_000 });
      return { r, rssKb: Number(fs.readFileSync(file, 'utf8')) };
    };
    // Baseline: the same command against a well-behaved gateway.
    hostile.mode = () => 'pass';
    const calm = h.paidOrder();
    const base = await rssOf(['revoke', '--sn', calm.sn, '--json', '--data-dir', h.dataDir, '--api-domain', hostile.url]);
    expect(base.r.code, describeRun(base.r)).toBe(0);

    const order = h.paidOrder();
    hostile.hugeBytes = 300 * 1024 * 1024;
    hostile.mode = (p) => (p.endsWith('/revoke') || p.endsWith('/query') ? 'huge' : 'pass');
    const writtenBefore = hostile.written();
    const attacked = await rssOf(['revoke', '--sn', order.sn, '--json', '--data-dir', h.dataDir, '--api-domain', hostile.url]);
    const growthMb = (attacked.rssKb - base.rssKb) / 1024;
    console.log(
      `300 MB answer: CLI peak RSS ${(attacked.rssKb / 1024).toFixed(1)} MB vs ${(base.rssKb / 1024).toFixed(1)} MB for the same revoke against a calm gateway ` +
        `(growth ${growthMb.toFixed(1)} MB); hostile bytes written ${((hostile.written() - writtenBefore) / 1048576).toFixed(1)} MB`,
    );
    expect(attacked.r.code, describeRun(attacked.r)).toBe(4);
    expect(oneJson<{ outcome: string }>(attacked.r).outcome).toBe('pending');
    expect(growthMb).toBeLessThan(50);
    // The gateway did apply it; the local state is "maybe sent" until a query says otherwise.
    expect(h.sandbox.gateway.getOrder(order.sn)?.orderStatus).toBe('CANCELED');
    expect(h.rt.revokes.forOrder(order.sn)?.state).toBe('pending');

    hostile.mode = () => 'pass';
    const resolved = await runCli(['revoke', 'query', '--sn', order.sn, '--json', '--data-dir', h.dataDir, '--api-domain', hostile.url], { env: guardEnv() });
    expect(resolved.code, describeRun(resolved)).toBe(0);
    expect(oneJson<{ outcome: string }>(resolved).outcome).toBe('revoked');
    expect(h.sandbox.gateway.effects('revoke', order.sn)).toBe(1);
    expect(netAttempts()).toEqual([]);
  }, 120_000);
});

describe('check-in is single-flight', () => {
  it('the SQLite lease is not re-entrant: the same owner cannot take it twice until it is released or expires', () => {
    const db = openDb(tempDir());
    try {
      expect(acquireLease(db, 'terminal.checkin', 'me', 1_000, 0)).toBe(true);
      expect(acquireLease(db, 'terminal.checkin', 'me', 1_000, 10)).toBe(false);
      expect(acquireLease(db, 'terminal.checkin', 'other', 1_000, 10)).toBe(false);
      releaseLease(db, 'terminal.checkin', 'me');
      expect(acquireLease(db, 'terminal.checkin', 'other', 1_000, 20)).toBe(true);
      expect(acquireLease(db, 'terminal.checkin', 'me', 1_000, 1_021)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('50 concurrent order imports right after activation: exactly one check-in at the gateway, zero ILLEGAL_SIGN', async () => {
    const h = await createHarness();
    try {
      // A fresh terminal that has not checked in today.
      const dir = tempDir();
      const rt = createRuntime({ dataDir: dir, apiDomain: h.sandbox.gateway.url, startWorkers: false });
      try {
        const v = h.sandbox.gateway.vendor;
        const code = h.sandbox.gateway.addActivationCode();
        await rt.terminal.activate({ appId: v.appId, code, deviceId: 'burst', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
        const sn = rt.terminal.info()!.terminalSn;
        const orders = Array.from({ length: 50 }, (_, i) => h.sandbox.gateway.seedOrder({ terminalSn: sn, totalCents: 100 + i }));
        h.sandbox.gateway.clearLog();
        const results = await Promise.allSettled(orders.map((o) => rt.orders.import({ sn: o.sn }, 'test')));
        const log = h.sandbox.gateway.log();
        const checkins = log.filter((e) => e.endpoint === 'checkin').length;
        const illegal = log.filter((e) => e.errorCode === 'ILLEGAL_SIGN').length;
        console.log(`50 concurrent imports after activation: ${checkins} check-in(s), ${illegal} ILLEGAL_SIGN, ${results.filter((r) => r.status === 'fulfilled').length} imported`);
        expect(checkins).toBe(1);
        expect(illegal).toBe(0);
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      } finally {
        await rt.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await h.close();
    }
  });

  it('several CLI processes at once right after activation: one check-in (the SQLite lease, re-checked after taking it), every import succeeds', async () => {
    ensureCliBuilt();
    const h = await createHarness();
    const dir = tempDir();
    try {
      const rt = createRuntime({ dataDir: dir, apiDomain: h.sandbox.gateway.url, startWorkers: false });
      const v = h.sandbox.gateway.vendor;
      await rt.terminal.activate({ appId: v.appId, code: h.sandbox.gateway.addActivationCode(), deviceId: 'procs', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
      const sn = rt.terminal.info()!.terminalSn;
      await rt.close();
      const orders = Array.from({ length: 4 }, (_, i) => h.sandbox.gateway.seedOrder({ terminalSn: sn, totalCents: 500 + i }));
      h.sandbox.gateway.clearLog();
      const runs = await Promise.all(
        orders.map((o) => runCli(['orders', 'import', '--sn', o.sn, '--json', '--data-dir', dir, '--api-domain', h.sandbox.gateway.url], { env: cliEnv({ UPAY_POS_QUIET: '1' }), timeoutMs: 60_000 })),
      );
      for (const r of runs) expect(r.code, describeRun(r)).toBe(0);
      const log = h.sandbox.gateway.log();
      console.log(`${runs.length} CLI processes at once: ${log.filter((e) => e.endpoint === 'checkin').length} check-in(s)`);
      expect(log.filter((e) => e.endpoint === 'checkin')).toHaveLength(1);
      expect(log.filter((e) => e.errorCode === 'ILLEGAL_SIGN')).toEqual([]);
    } finally {
      await h.close();
      fs.rmSync(dir, { recursive: true, force: true });
      removeCliSnapshot();
    }
  }, 120_000);
});
