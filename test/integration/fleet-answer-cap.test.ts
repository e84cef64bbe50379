/**
 * A hostile head office cannot make the shipper's process use gigabytes:
 * pg-protocol keeps a message whole in a Buffer outside the V8 heap (the
 * child's --max-old-space-size does not bound it), so the shipper frames
 * what the socket brings and closes it past a few MB (capped-socket.ts).
 *
 * A fake PostgreSQL on 127.0.0.1 (just enough of the protocol: the startup,
 * AuthenticationOk, ReadyForQuery) answers the shipper's first query with
 * 300 MB: one DataRow that declares it, or 64 KiB DataRows, or (before
 * ReadyForQuery) ParameterStatus messages, also over TLS (verify-full,
 * against a certificate made for the test). `upay-pos fleet ship --once`
 * runs as the shipper's process does (heap capped at 96 MB): it fails with
 * FLEET_ANSWER_TOO_LARGE well inside its 120 s query deadline, the server
 * could send only a few MB before the socket closed, the child's peak RSS
 * is within 100 MB of the same run against a server that answers with a
 * short error, and every event stays in the outbox.
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_TOO_LARGE, capStream } from '../../main/fleet/capped-socket';
import { SHIPPER_HEAP_MB } from '../../main/fleet/process';
import { openDb } from '../../main/store/db';
import { cliEnv, describeRun, ensureCliBuilt, removeCliSnapshot, runCli, type CliResult, oneJson } from '../support/cli-run';
import { counterDir, revokeThrough } from '../support/fleet-pg';

const MB = 1 << 20;
const FLOOD = 300 * MB;
const GUARD = path.join(__dirname, '../support/net-guard.cjs');

type Mode = 'calm' | 'one-row' | 'many-rows' | 'startup';

const msg = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const AUTH_OK = msg('R', int32(0));
const READY = msg('Z', Buffer.from('I'));
const ERROR = msg('E', Buffer.from('SERROR\0VERROR\0CXX000\0Mcalm test server says no\0\0', 'latin1'));

/** A DataRow of one column of `n` bytes. */
const dataRow = (n: number) => msg('D', Buffer.concat([Buffer.from([0, 1]), int32(n), Buffer.alloc(n, 0x78)]));
/** One text column named x. */
const ROW_DESCRIPTION = msg('T', Buffer.concat([Buffer.from([0, 1]), Buffer.from('x\0'), int32(0), Buffer.from([0, 0]), int32(25), Buffer.from([0xff, 0xff]), int32(-1), Buffer.from([0, 0])]));
const parameterStatus = (n: number) => msg('S', Buffer.concat([Buffer.from('x\0'), Buffer.alloc(n, 0x78), Buffer.from([0])]));

interface FakePg {
  port: number;
  /** Bytes written to the last connection (what the client let through before closing). */
  sent(): number;
  mode: Mode;
  close(): Promise<void>;
}

function drained(sock: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/** Writes `chunks` while the peer reads, until `total` bytes or the socket closes. */
async function flood(sock: net.Socket, first: Buffer, next: () => Buffer, total: number, count: (n: number) => void): Promise<void> {
  let out = 0;
  let chunk = first;
  while (out < total && !sock.destroyed && sock.writable) {
    const ok = sock.write(chunk);
    out += chunk.length;
    count(chunk.length);
    chunk = next();
    if (!ok) await drained(sock);
  }
}

async function fakePg(credentials: { key: Buffer; cert: Buffer } | null): Promise<FakePg> {
  let sent = 0;
  const state = { mode: 'calm' as Mode };
  const count = (n: number) => (sent += n);

  const speak = (sock: net.Socket, pending: Buffer) => {
    let buf = pending;
    let phase: 'startup' | 'ready' | 'answered' = 'startup';
    const onData = (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      if (phase === 'startup') {
        if (buf.length < 4 || buf.length < buf.readUInt32BE(0)) return;
        buf = Buffer.alloc(0);
        phase = 'ready';
        if (state.mode === 'startup') {
          const ps = parameterStatus(64 * 1024);
          void flood(sock, Buffer.concat([AUTH_OK, ps]), () => ps, FLOOD, count);
          return;
        }
        sock.write(Buffer.concat([AUTH_OK, READY]));
        return;
      }
      if (phase !== 'ready') return;
      phase = 'answered';
      if (state.mode === 'calm') {
        sock.write(Buffer.concat([ERROR, READY]));
      } else if (state.mode === 'one-row') {
        const head = Buffer.alloc(5);
        head.write('D', 0);
        head.writeUInt32BE(FLOOD + 4, 1);
        const body = Buffer.alloc(MB, 0x78);
        void flood(sock, head, () => body, FLOOD + 5, count);
      } else {
        const row = dataRow(64 * 1024);
        void flood(sock, Buffer.concat([ROW_DESCRIPTION, row]), () => row, FLOOD, count);
      }
    };
    sock.on('data', onData);
    if (pending.length) onData(Buffer.alloc(0));
  };

  const server = net.createServer((conn) => {
    sent = 0;
    conn.on('error', () => undefined);
    let first = Buffer.alloc(0);
    const onFirst = (b: Buffer) => {
      first = Buffer.concat([first, b]);
      if (first.length < 8) return;
      conn.off('data', onFirst);
      if (first.readUInt32BE(0) === 8 && first.readUInt32BE(4) === 80877103) {
        // SSLRequest
        if (!credentials) {
          conn.write('N');
          return;
        }
        conn.write('S');
        const t = new tls.TLSSocket(conn, { isServer: true, key: credentials.key, cert: credentials.cert });
        t.on('error', () => undefined);
        speak(t, Buffer.alloc(0));
        return;
      }
      speak(conn, first);
    };
    conn.on('data', onFirst);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => sent,
    get mode() {
      return state.mode;
    },
    set mode(m: Mode) {
      state.mode = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

let work: string;
let plain: FakePg;
let secure: FakePg | null = null;
let certFile = '';

function makeCertificate(dir: string): { key: Buffer; cert: Buffer } | null {
  const key = path.join(dir, 'key.pem');
  certFile = path.join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', certFile], { stdio: 'pipe' });
    return { key: fs.readFileSync(key), cert: fs.readFileSync(certFile) };
  } catch {
    return null;
  }
}

beforeAll(async () => {
  ensureCliBuilt();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-answer-cap-'));
  plain = await fakePg(null);
  const credentials = makeCertificate(work);
  if (credentials) secure = await fakePg(credentials);
}, 180_000);
afterAll(async () => {
  await plain?.close();
  await secure?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  removeCliSnapshot();
});

const outboxCount = (dir: string) => {
  const db = openDb(dir);
  try {
    return db.prepare("SELECT count(*) FROM fleet_outbox WHERE kind != 'heartbeat'").pluck().get() as number;
  } finally {
    db.close();
  }
};

/** `fleet ship --once` as the shipper's process runs (heap capped), its peak RSS in KiB. */
async function shipOnce(dir: string, url: string): Promise<{ r: CliResult; reason: string; rssKb: number; ms: number }> {
  const file = path.join(work, `rss-${Date.now()}-${Math.random()}`);
  const t = performance.now();
  const r = await runCli(['fleet', 'ship', '--once', '--json', '--data-dir', dir], {
    env: cliEnv({
      NODE_OPTIONS: `--require ${GUARD} --max-old-space-size=${SHIPPER_HEAP_MB}`,
      UPAY_TEST_RSS_FILE: file,
      UPAY_POS_QUIET: '1',
      UPAY_POS_FLEET_URL: url,
      // Far beyond what the test allows: the call must end on the cap, never on a deadline.
      UPAY_POS_FLEET_TIMEOUT_MS: '120000',
    }),
    timeoutMs: 150_000,
  });
  const ms = performance.now() - t;
  expect(r.code, describeRun(r)).not.toBe(0);
  const reason = String(oneJson<{ error: { details?: { reason?: string } } }>(r).error.details?.reason);
  return { r, reason, rssKb: Number(fs.readFileSync(file, 'utf8')), ms };
}

describe('fleet: what head office sends the shipper is capped on the socket', () => {
  const urlOf = (pg: FakePg, tlsOn: boolean) =>
    tlsOn
      ? `postgres://u:pw@127.0.0.1:${pg.port}/fleet?sslmode=verify-full&sslrootcert=${encodeURIComponent(certFile)}`
      : `postgres://u:pw@127.0.0.1:${pg.port}/fleet?sslmode=disable`;

  it.each([
    ['one 300 MB DataRow', 'one-row', false],
    ['300 MB of 64 KiB DataRows', 'many-rows', false],
    ['300 MB of ParameterStatus before ReadyForQuery (the connect)', 'startup', false],
    ['one 300 MB DataRow over TLS (verify-full)', 'one-row', true],
  ] as const)('%s: the call fails fast with FLEET_ANSWER_TOO_LARGE; RSS grows < 100 MB; nothing is lost', async (_name, mode, tlsOn) => {
    const pg = tlsOn ? secure : plain;
    if (!pg) {
      console.log('fleet-answer-cap: no openssl here to make a certificate; the TLS case is skipped');
      return;
    }
    const c = counterDir('TCAP', { sn: 'S1', name: 'store' });
    for (let i = 0; i < 3; i++) revokeThrough(c.db, Date.now(), 100 + i, 'alipay', 'alice', ['sending', 'revoked']);
    c.db.close();
    const before = outboxCount(c.dir);
    expect(before).toBeGreaterThan(0);

    pg.mode = 'calm';
    const calm = await shipOnce(c.dir, urlOf(pg, tlsOn));
    expect(calm.reason, describeRun(calm.r)).toContain('calm test server says no');

    pg.mode = mode;
    const attacked = await shipOnce(c.dir, urlOf(pg, tlsOn));
    const sentMb = pg.sent() / MB;
    const growthMb = (attacked.rssKb - calm.rssKb) / 1024;
    console.log(
      `fleet-answer-cap ${mode}${tlsOn ? ' tls' : ''}: failed in ${attacked.ms.toFixed(0)} ms; server got ${sentMb.toFixed(1)} MB out; ` +
        `peak RSS ${(attacked.rssKb / 1024).toFixed(1)} MB vs ${(calm.rssKb / 1024).toFixed(1)} MB calm (growth ${growthMb.toFixed(1)} MB)`,
    );
    // The child was not killed (no OOM): the shipper's call failed on the cap.
    expect(attacked.r.signal, describeRun(attacked.r)).toBeNull();
    expect(attacked.reason, describeRun(attacked.r)).toMatch(/^head office sent (a message|an answer) of .*; the connection was closed/);
    // Ended by the cap, not by the 120 s deadline (a loaded machine's process start included).
    expect(attacked.ms).toBeLessThan(30_000);
    // The socket closed after the cap (8 MiB), plus what the kernel's buffers held.
    expect(sentMb).toBeLessThan(48);
    // A safety bound, not a speed target: uncapped, the one-row case alone buffers 300 MB off the heap.
    expect(growthMb).toBeLessThan(100);
    expect(outboxCount(c.dir)).toBe(before);
    fs.rmSync(c.dir, { recursive: true, force: true });
  }, 240_000);
});

describe('capStream framing', () => {
  class FakeStream extends EventEmitter {
    destroyed: Error | null = null;
    destroy(err?: Error) {
      this.destroyed = err ?? new Error('destroyed');
    }
  }
  const feed = (s: FakeStream, data: Buffer, step: number) => {
    for (let i = 0; i < data.length && !s.destroyed; i += step) s.emit('data', data.subarray(i, i + step));
  };
  const caps = { maxMessageBytes: 1000, maxAnswerBytes: 3000 };

  it.each([1, 2, 3, 7, 4096])('answers under the caps pass in chunks of %i bytes, the count restarting at each ReadyForQuery', (step) => {
    const s = new FakeStream();
    const answered = capStream(s, caps);
    // Three answers of ~2,500 bytes each: 7,500 in all, each under the answer cap.
    const rows = Array.from({ length: 5 }, () => dataRow(480));
    const answer = Buffer.concat([...rows, READY]);
    feed(s, Buffer.concat([AUTH_OK, READY, answer, answer, answer]), step);
    expect(s.destroyed).toBeNull();
    expect(answered()).toBe(0);
    feed(s, dataRow(100), step);
    expect(answered()).toBe(dataRow(100).length);
  });

  it('a message declaring more than the cap is refused on its header, before its body', () => {
    const s = new FakeStream();
    capStream(s, caps);
    const row = dataRow(1000);
    s.emit('data', row.subarray(0, 3));
    expect(s.destroyed).toBeNull();
    s.emit('data', row.subarray(3, 5));
    expect((s.destroyed as { code?: string } | null)?.code).toBe(ANSWER_TOO_LARGE);
  });

  it('an answer of small messages past the answer cap is refused; a malformed length too', () => {
    const s = new FakeStream();
    capStream(s, caps);
    feed(s, Buffer.concat(Array.from({ length: 10 }, () => dataRow(480))), 64);
    expect(s.destroyed?.message).toMatch(/answer of more than 3000 bytes/);
    const bad = new FakeStream();
    capStream(bad, caps);
    bad.emit('data', Buffer.from([0x44, 0, 0, 0, 2]));
    expect(bad.destroyed?.message).toMatch(/malformed length/);
  });
});
