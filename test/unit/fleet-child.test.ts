/**
 * What head office says cannot forge or flood the counter's log, and the
 * shipper's process is given nothing of the environment it does not read.
 *
 * - A fake PostgreSQL answers the shipper's connect with an error whose
 *   message holds "\nFORGED …" and a megabyte: the shipper logs one line and
 *   stores one line in fleet_state.last_error, each at most 500 characters
 *   of head office's text.
 * - The supervisor (process.ts) folds what the child writes on stderr: a
 *   megabyte with no newline, sent in chunks, is one capped line; control
 *   characters are replaced; a character split across chunks is whole.
 * - A real child forked by the supervisor prints the names of its
 *   environment: only the allowed ones, never UPAY_VENDOR_KEY.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../main/common/time';
import { describeUrl } from '../../main/fleet/config';
import { FOLD_MAX, foldLine } from '../../main/fleet/fold';
import { backlog } from '../../main/fleet/outbox';
import { SHIPPER_ENV_NAMES, ShipperProcess, shipperEnv, type ShipperChild } from '../../main/fleet/process';
import { Shipper } from '../../main/fleet/shipper';
import type { Db } from '../../main/store/db';
import { counterDir, revokeThrough } from '../support/fleet-pg';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** One PostgreSQL backend message: type, length, body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** A server that speaks just enough PostgreSQL to refuse every connect with `text` as the error's message. */
async function refusingServer(code: string, text: string): Promise<{ port: number; connects: () => number }> {
  let connects = 0;
  const fields = (f: Array<[string, string]>) => Buffer.concat([...f.map(([k, v]) => Buffer.concat([Buffer.from(k), Buffer.from(v, 'utf8'), Buffer.from([0])])), Buffer.from([0])]);
  const error = message('E', fields([['S', 'FATAL'], ['V', 'FATAL'], ['C', code], ['M', text]]));
  const server = net.createServer((socket) => {
    connects++;
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(error));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as net.AddressInfo).port, connects: () => connects };
}

function counter(): Db {
  const c = counterDir('TF', { sn: 'S1', name: 's' });
  cleanup.push(() => {
    c.db.close();
    fs.rmSync(c.dir, { recursive: true, force: true });
  });
  revokeThrough(c.db, Date.now() - 60_000, 100, 'alipay', 'a', ['sending', 'revoked']);
  return c.db;
}

const HOSTILE = `password authentication failed\nFORGED upay-pos: fleet: shipped 999 events\r\u001b[2J${'A'.repeat(1 << 20)}`;

describe('head office’s error text is folded before it is logged or stored', () => {
  it('a fake PostgreSQL’s 1 MB error with "\\nFORGED": one capped line in the log and in fleet_state.last_error', async () => {
    const srv = await refusingServer('28P01', HOSTILE);
    const db = counter();
    const url = `postgres://u:secret-pw@127.0.0.1:${srv.port}/db`;
    const logs: string[] = [];
    const s = new Shipper({
      db,
      target: { url, shown: describeUrl(url), source: 'env' },
      clock: systemClock,
      timing: { pollMs: 10, backoffBaseMs: 10, backoffMaxMs: 20, connectTimeoutMs: 5_000, queryTimeoutMs: 5_000, heartbeatMs: 3_600_000 },
      log: (l) => logs.push(l),
    });
    const running = s.run();
    const deadline = Date.now() + 20_000;
    while (s.stats.failures < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    s.stop();
    await running;
    expect(s.stats.failures).toBeGreaterThanOrEqual(2);
    const failures = logs.filter((l) => l.startsWith('fleet: head office unreachable'));
    expect(failures.length).toBe(s.stats.failures);
    for (const line of [...failures, ...logs]) {
      expect(/[\r\n\u001b]/.test(line)).toBe(false); // eslint-disable-line no-control-regex
      expect(line.length).toBeLessThan(FOLD_MAX + 100);
    }
    expect(failures[0]).toMatch(/^fleet: head office unreachable \(28P01: password authentication failed FORGED upay-pos: fleet: shipped 999 events \ufffd\[2JA+…\); next try in \d+ s$/);
    // Nothing logged begins as a line of its own making.
    expect(logs.some((l) => l.startsWith('FORGED'))).toBe(false);
    const stored = backlog(db, Date.now()).lastError!;
    expect(stored.length).toBeLessThanOrEqual(FOLD_MAX);
    expect(/[\r\n\u001b]/.test(stored)).toBe(false); // eslint-disable-line no-control-regex
    expect(stored).toMatch(/^28P01: password authentication failed FORGED .*A…$/);
  });

  it('`fleet ship --once` (drain) throws the error with its message folded, its code kept', async () => {
    const srv = await refusingServer('28P01', HOSTILE);
    const db = counter();
    const url = `postgres://u:secret-pw@127.0.0.1:${srv.port}/db`;
    const s = new Shipper({ db, target: { url, shown: describeUrl(url), source: 'env' }, clock: systemClock, timing: { connectTimeoutMs: 5_000 } });
    const err = (await s.drain().then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string; message: string } | null;
    s.close();
    expect(err?.code).toBe('28P01');
    expect(err!.message.length).toBeLessThanOrEqual(FOLD_MAX);
    expect(err!.message).not.toContain('\n');
  });

  it('foldLine: one line, control and format characters replaced, at most the cap, no half surrogate pair', () => {
    expect(foldLine('a\r\n\tb\u2028c\u0000d\u202ee')).toBe('a b c\ufffdd\ufffde');
    expect(foldLine('x'.repeat(10), 5)).toBe('xxxx…');
    expect(foldLine(`xx😀😀`, 4)).toBe('xx…');
    expect(foldLine('ok')).toBe('ok');
  });
});

/** A fake fork: the supervisor gets this child, whose stderr the test writes. */
function fakeChild(): { fork: (m: string, a: string[], o: { env: NodeJS.ProcessEnv }) => ShipperChild; stderr: PassThrough; env: () => NodeJS.ProcessEnv } {
  const stderr = new PassThrough();
  let env: NodeJS.ProcessEnv = {};
  const child: ShipperChild = { pid: undefined, stderr, kill: () => true, once: () => child };
  return {
    fork: (_m, _a, o) => {
      env = o.env;
      return child;
    },
    stderr,
    env: () => env,
  };
}

describe('the supervisor folds what the child writes on stderr', () => {
  it('a 1 MB line in 64 KB chunks is one capped line; the next line is its own; control characters replaced; UTF-8 split across chunks kept whole', async () => {
    const f = fakeChild();
    const logs: string[] = [];
    const p = new ShipperProcess({ dataDir: '/nonexistent', fork: f.fork, log: (l) => logs.push(l), env: {} });
    p.start();
    const long = Buffer.from(`fleet: head office unreachable (XX000: ${'B'.repeat(1 << 20)})\n`);
    for (let i = 0; i < long.length; i += 65_536) f.stderr.write(long.subarray(i, i + 65_536));
    const zh = Buffer.from('fleet: 总部\u001b[31m red\r over\n');
    f.stderr.write(zh.subarray(0, 10)); // inside 总
    f.stderr.write(zh.subarray(10));
    f.stderr.write('\n\nlast line\n');
    await new Promise((r) => setImmediate(r));
    expect(logs).toEqual([expect.stringMatching(/^fleet: head office unreachable \(XX000: B+…$/), 'fleet: 总部\ufffd[31m red  over', 'last line']);
    expect(logs[0]!.length).toBe(FOLD_MAX);
    await p.stop(10);
  });
});

describe('the shipper’s process gets only the environment it reads', () => {
  const parent: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    UPAY_VENDOR_KEY: 'vendor-secret',
    UPAY_POS_FLEET_ADMIN_URL: 'postgres://admin:admin-secret@127.0.0.1/ho',
    UPAY_POS_FLEET_URL: 'postgres://counter:pw@127.0.0.1/ho',
    UPAY_POS_FLEET_POLL_MS: '50',
    UPAY_POS_FLEET_ALLOW_SSLMODE_REQUIRE: '1',
    UPAY_POS_DATA_DIR: '/elsewhere',
    UPAY_API_DOMAIN: 'https://gateway.example',
    NODE_OPTIONS: '--require /tmp/evil.js',
    PGPASSWORD: 'pg-secret',
    AWS_SECRET_ACCESS_KEY: 'cloud-secret',
  };

  it('shipperEnv keeps the allowed names only (Windows: whatever their case) and sets UPAY_POS_QUIET', () => {
    expect(Object.keys(shipperEnv(parent, 'linux')).sort()).toEqual(
      ['HOME', 'PATH', 'UPAY_POS_FLEET_ALLOW_SSLMODE_REQUIRE', 'UPAY_POS_FLEET_POLL_MS', 'UPAY_POS_FLEET_URL', 'UPAY_POS_QUIET'].sort(),
    );
    expect(shipperEnv({ Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', USERPROFILE: 'C:\\Users\\pos', UPAY_VENDOR_KEY: 'k' }, 'win32')).toEqual({
      Path: 'C:\\Windows',
      SystemRoot: 'C:\\Windows',
      USERPROFILE: 'C:\\Users\\pos',
      UPAY_POS_QUIET: '1',
    });
    for (const name of SHIPPER_ENV_NAMES) expect(name).not.toMatch(/VENDOR|ADMIN|^PG|NODE_OPTIONS/);
  });

  it('what the supervisor passes to fork, and what a real child sees, are the allowed names', async () => {
    const f = fakeChild();
    new ShipperProcess({ dataDir: '/nonexistent', fork: f.fork, env: parent }).start();
    expect(Object.keys(f.env()).sort()).toEqual(['HOME', 'PATH', 'UPAY_POS_FLEET_ALLOW_SSLMODE_REQUIRE', 'UPAY_POS_FLEET_POLL_MS', 'UPAY_POS_FLEET_URL', 'UPAY_POS_QUIET']);

    // A real fork (child_process.fork, as under plain Node): the child prints its environment's names on stderr.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-fleet-child-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'print-env.js');
    fs.writeFileSync(script, "process.stderr.write('ENV ' + JSON.stringify(Object.keys(process.env).sort()) + '\\n'); setTimeout(() => process.exit(0), 50);\n");
    const logs: string[] = [];
    const p = new ShipperProcess({ dataDir: dir, cliPath: script, env: parent, log: (l) => logs.push(l), restartBaseMs: 60_000 });
    p.start();
    const deadline = Date.now() + 15_000;
    while (!logs.some((l) => l.startsWith('ENV ')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await p.stop(1_000);
    const seen = JSON.parse(logs.find((l) => l.startsWith('ENV '))!.slice(4)) as string[];
    expect(seen).toEqual(['ELECTRON_RUN_AS_NODE', 'HOME', 'PATH', 'UPAY_POS_FLEET_ALLOW_SSLMODE_REQUIRE', 'UPAY_POS_FLEET_POLL_MS', 'UPAY_POS_FLEET_URL', 'UPAY_POS_QUIET']);
  });
});
