/**
 * The store's file format over time: every migration applies to an empty file
 * and to a file at every earlier version with its rows intact; the frozen
 * version-1 fixture (test/fixtures/schema-v1.sql, a file as version 1 of the
 * code wrote it) upgrades to the latest schema and the latest code reads it;
 * a file newer than the code is refused with STORE_TOO_NEW; the pragmas the
 * product relies on are in force; the audit log is append-only.
 * (Transactional migrations with fake later versions: store-migrate-tx.test.ts.)
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { audit, listAudit } from '../../main/store/audit';
import { DB_FILE, openDb, PAGE_CACHE_KIB, PAGE_SIZE, StoreError, type Db } from '../../main/store/db';
import { LATEST_VERSION, migrate, schemaVersion } from '../../main/store/migrate';
import { MIGRATIONS } from '../../main/store/migrations';
import { OrdersRepo } from '../../main/store/orders';
import { RevokesRepo, toRevoke } from '../../main/store/revokes';
import { getSettings } from '../../main/store/settings';
import { TerminalRepo } from '../../main/store/terminal';

const FIXTURE_V1 = path.resolve(__dirname, '../fixtures/schema-v1.sql');

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A raw connection to `<dir>/upay-pos.db`, without openDb's pragmas or migration. */
function raw(dir: string): Db {
  return new Database(path.join(dir, DB_FILE));
}

/** The schema as sqlite_master holds it (whitespace-normalised), for comparing two files. */
function schemaOf(db: Db): Array<{ type: string; name: string; sql: string }> {
  return (
    db.prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as Array<{
      type: string;
      name: string;
      sql: string;
    }>
  ).map((r) => ({ ...r, sql: r.sql.replace(/\s+/g, ' ').trim() }));
}

function freshSchema(): ReturnType<typeof schemaOf> {
  const db = openDb(tempDir());
  try {
    return schemaOf(db);
  } finally {
    db.close();
  }
}

function count(db: Db, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

// 2026-03-10 10:00 UTC+8
const T0 = Date.UTC(2026, 2, 10, 2, 0, 0);

/**
 * Representative rows, each valid from schema version `since` on, written
 * with raw SQL in that version's shape (never through today's repositories,
 * which follow the latest schema). When a migration changes a table, add a
 * seed for the new version here; the table-driven test below then covers
 * every upgrade path.
 */
interface Seed {
  since: number;
  name: string;
  insert(db: Db): void;
  /** Runs on the upgraded file: raw checks plus today's repositories reading old rows. */
  check(db: Db): void;
}

const SEEDS: Seed[] = [
  {
    since: 1,
    name: 'v1: terminal, orders, revokes, print jobs, audit, locks, settings',
    insert(db) {
      db.prepare(
        `INSERT INTO terminal (id, terminal_sn, device_id, app_id, merchant_sn, merchant_name, store_sn, store_name, key_vault, sealed_key, sealed_prev_key, key_updated_at, activated_at, last_checkin_day)
         VALUES (1, '10012345678901', 'counter-1', '2026112600000001', '1680001234567', '收钱吧沙箱商户', '1580001234567', '沙箱一号店', 'file-aes-256-gcm', ?, ?, ?, ?, '2026-03-10')`,
      ).run(Buffer.from('01aabbcc', 'hex'), Buffer.from('01ddeeff', 'hex'), T0, T0 - 86_400_000);
      const order = db.prepare(
        `INSERT INTO orders (sn, client_sn, trade_no, total_cents, net_cents, payway, payway_name, subject, operator, finished_at, status, business_day, updated_at)
         VALUES (?, ?, ?, ?, ?, '3', '微信', '测试商品', '收银员 1', ?, ?, ?, ?)`,
      );
      order.run('7890000000000001', 'POS-0001', 'T1', 8800, 0, T0, 'CANCELED', '2026-03-10', T0);
      order.run('7890000000000002', 'POS-0002', null, 1999, 1999, T0 + 1000, 'PAID', '2026-03-10', T0);
      const revoke = db.prepare(
        `INSERT INTO revokes (order_sn, client_sn, state, operator, requested_at, updated_at, attempts, queries, deadline_day, revoked_at, error_code, last_result_code)
         VALUES (?, ?, ?, '收银员 1', ?, ?, ?, 0, '2026-03-10', ?, ?, ?)`,
      );
      revoke.run('7890000000000001', 'POS-0001', 'revoked', T0 + 5000, T0 + 6000, 1, T0 + 6000, null, 'CANCEL_SUCCESS');
      revoke.run('7890000000000002', 'POS-0002', 'queued', T0 + 7000, T0 + 7000, 1, null, 'QUEUED', null);
      db.prepare(
        `INSERT INTO print_jobs (revoke_id, order_sn, kind, copy, state, receipt, bytes, attempts, created_at, printed_at)
         VALUES (1, '7890000000000001', 'revoke', 0, 'printed', '{"version":1,"items":[]}', X'1b40', 1, ?, ?)`,
      ).run(T0 + 6000, T0 + 6500);
      db.prepare("INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, 'cli:it', 'terminal.activated', '10012345678901', '{\"deviceId\":\"counter-1\"}')").run(T0);
      db.prepare("INSERT INTO locks (name, owner, until) VALUES ('terminal.checkin', 'checkin:1:abc', ?)").run(T0);
      db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('paperWidth', '58', ?), ('printer', '\"tcp://192.168.1.50:9100\"', ?)").run(T0, T0);
    },
    check(db) {
      expect(count(db, 'orders')).toBe(2);
      expect(count(db, 'revokes')).toBe(2);
      expect(count(db, 'print_jobs')).toBe(1);
      expect(count(db, 'audit_log')).toBe(1);
      expect(count(db, 'locks')).toBe(1);
      const t = new TerminalRepo(db).get();
      expect(t?.terminal_sn).toBe('10012345678901');
      expect(t?.sealed_key.toString('hex')).toBe('01aabbcc');
      expect(t?.sealed_prev_key?.toString('hex')).toBe('01ddeeff');
      expect(t?.last_checkin_day).toBe('2026-03-10');
      const orders = new OrdersRepo(db);
      expect(orders.get('7890000000000001')).toMatchObject({ clientSn: 'POS-0001', totalCents: 8800, netCents: 0, status: 'CANCELED', businessDay: '2026-03-10', subject: '测试商品' });
      expect(orders.listDay('2026-03-10').map((o) => o.sn)).toEqual(['7890000000000002', '7890000000000001']);
      const revokes = new RevokesRepo(db);
      expect(toRevoke(revokes.live('7890000000000001')!)).toMatchObject({ state: 'revoked', attempts: 1, lastResultCode: 'CANCEL_SUCCESS' });
      expect(revokes.open().map((r) => r.order_sn)).toEqual(['7890000000000002']);
      expect(revokes.counts().queued).toBe(1);
      expect(getSettings(db)).toMatchObject({ paperWidth: 58, printer: 'tcp://192.168.1.50:9100', receiptChinese: true });
      expect(listAudit(db)[0]).toMatchObject({ action: 'terminal.activated', details: { deviceId: 'counter-1' } });
    },
  },
];

describe('migrations', () => {
  it('MIGRATIONS is one named migration per version, 1..LATEST_VERSION', () => {
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
    expect(LATEST_VERSION).toBeGreaterThanOrEqual(1);
    expect(new Set(MIGRATIONS.map((m) => m.name)).size).toBe(MIGRATIONS.length);
    // 'operators' and 'refunds' are placeholders in a branch that comes before them; the merge replaces them.
    // Numbers are reserved per change, so a branch may lack a lower one (the merge orders them): each name has its
    // three-digit number, never below its version, and the numbers increase.
    const numbers = MIGRATIONS.map((m, i) => (['operators', 'refunds'].includes(m.name) ? i + 1 : Number(/^(\d{3})-/.exec(m.name)?.[1])));
    numbers.forEach((n, i) => expect(n, MIGRATIONS[i]!.name).toBeGreaterThanOrEqual(i + 1));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    // Every version has representative rows from some seed (add one with each migration that changes tables).
    expect(SEEDS.some((s) => s.since === 1)).toBe(true);
  });

  it('apply to a missing file and to an existing empty (0-byte) file', () => {
    const missing = tempDir();
    const a = openDb(path.join(missing, 'nested'));
    expect(schemaVersion(a)).toBe(LATEST_VERSION);
    expect(count(a, 'orders')).toBe(0);
    a.close();

    const empty = tempDir();
    fs.writeFileSync(path.join(empty, DB_FILE), '');
    const b = openDb(empty);
    expect(schemaVersion(b)).toBe(LATEST_VERSION);
    expect(schemaOf(b)).toEqual(freshSchema());
    b.close();
  });

  // Table-driven over every earlier version: v = 0 .. LATEST-1.
  const from = Array.from({ length: LATEST_VERSION }, (_, v) => v);
  it.each(from)('a file at version %i upgrades to the latest version with its rows intact', (v) => {
    const dir = tempDir();
    const old = raw(dir);
    migrate(old, v);
    expect(schemaVersion(old)).toBe(v);
    const seeds = SEEDS.filter((s) => s.since <= v);
    for (const s of seeds) old.transaction(() => s.insert(old))();
    old.close();

    const db = openDb(dir);
    try {
      expect(schemaVersion(db)).toBe(LATEST_VERSION);
      for (const s of seeds) s.check(db);
      expect(schemaOf(db)).toEqual(freshSchema());
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      db.close();
    }
    // Opening again is a no-op.
    const again = openDb(dir);
    expect(schemaVersion(again)).toBe(LATEST_VERSION);
    for (const s of seeds) s.check(again);
    again.close();
  });

  it('the frozen version-1 file (test/fixtures/schema-v1.sql) upgrades to the latest schema and the latest code reads it', () => {
    const dir = tempDir();
    const v1 = raw(dir);
    v1.exec(fs.readFileSync(FIXTURE_V1, 'utf8'));
    expect(schemaVersion(v1)).toBe(1);
    const before = Object.fromEntries(['terminal', 'orders', 'revokes', 'print_jobs', 'audit_log', 'locks', 'settings'].map((t) => [t, count(v1, t)]));
    expect(before).toEqual({ terminal: 1, orders: 3, revokes: 3, print_jobs: 2, audit_log: 12, locks: 0, settings: 9 });
    v1.close();

    const db = openDb(dir);
    try {
      expect(schemaVersion(db)).toBe(LATEST_VERSION);
      for (const [t, n] of Object.entries(before)) expect(count(db, t), t).toBe(n);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);

      const t = new TerminalRepo(db).get()!;
      expect(t).toMatchObject({ terminal_sn: '10060828805094', device_id: 'counter-1', last_checkin_day: '2026-03-10' });
      expect(t.sealed_key.length).toBeGreaterThan(29);
      expect(t.sealed_prev_key).not.toBeNull();

      const orders = new OrdersRepo(db);
      expect(orders.listDay('2026-03-10').map((o) => [o.clientSn, o.status]).sort()).toEqual([
        ['POS-20260310-0001', 'CANCELED'],
        ['POS-20260310-0002', 'PAID'],
      ]);
      expect(orders.getByClientSn('POS-20260309-0007')).toMatchObject({ totalCents: 4250, businessDay: '2026-03-09', subject: '咖啡豆' });

      const revokes = new RevokesRepo(db);
      const states = (db.prepare('SELECT id FROM revokes ORDER BY id').all() as Array<{ id: number }>).map((r) => toRevoke(revokes.get(r.id)!).state);
      expect(states).toEqual(['revoked', 'rejected', 'pending']);
      expect(toRevoke(revokes.get(2)!).error).toMatchObject({ code: 'NOT_TODAY' });
      expect(revokes.open().map((r) => r.id)).toEqual([3]);

      const jobs = db.prepare('SELECT revoke_id, copy, receipt FROM print_jobs ORDER BY id').all() as Array<{ revoke_id: number; copy: number; receipt: string }>;
      expect(jobs.map((j) => [j.revoke_id, j.copy])).toEqual([
        [1, 0],
        [1, 1],
      ]);
      const model = JSON.parse(jobs[0]!.receipt) as { items: Array<{ type: string; text?: string }> };
      expect(model.items.some((i) => i.text?.includes('撤销凭证'))).toBe(true);

      expect(getSettings(db)).toMatchObject({ paperWidth: 58, printer: 'tcp://192.168.1.50:9100', retentionDays: 60 });
      expect(listAudit(db, 1000)).toHaveLength(12);
    } finally {
      db.close();
    }
  });

  // Version 1 is frozen as released (fixture above); later schema changes come as new migrations.
  it('the frozen version-1 file ends with the schema of a fresh install, and a re-activation can be stored', () => {
    const dir = tempDir();
    const v1 = raw(dir);
    v1.exec(fs.readFileSync(FIXTURE_V1, 'utf8'));
    v1.close();
    const db = openDb(dir);
    try {
      // A file born at v1 ends with exactly the schema a new install gets.
      expect(schemaOf(db)).toEqual(freshSchema());
      // What `activate --force` writes must fit the upgraded file.
      const repo = new TerminalRepo(db);
      const row = repo.get()!;
      repo.put({ ...row, key_vault: 'file-aes-256-gcm' });
      expect(repo.get()?.terminal_sn).toBe(row.terminal_sn);
    } finally {
      db.close();
    }
  });

  it('a file newer than the code is refused with STORE_TOO_NEW and left untouched', () => {
    const dir = tempDir();
    const db = raw(dir);
    migrate(db);
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('paperWidth', '58', 1)").run();
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();

    let caught: unknown;
    try {
      openDb(dir).close();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).code).toBe('STORE_TOO_NEW');
    expect((caught as StoreError).message).toContain(String(LATEST_VERSION + 1));

    const after = raw(dir);
    expect(schemaVersion(after)).toBe(LATEST_VERSION + 1);
    expect(count(after, 'settings')).toBe(1);
    after.close();
  });
});

describe('openDb', () => {
  it('an existing file keeps its page size (4 KiB, as files made before 2026-12-07), and its data', () => {
    const dir = tempDir();
    const old = new Database(path.join(dir, DB_FILE));
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE kept (v TEXT)');
    old.prepare('INSERT INTO kept (v) VALUES (?)').run('before');
    expect(old.pragma('page_size', { simple: true })).toBe(4_096);
    old.close();
    const db = openDb(dir);
    try {
      expect(db.pragma('page_size', { simple: true })).toBe(4_096);
      expect(db.prepare('SELECT v FROM kept').get()).toEqual({ v: 'before' });
      expect(schemaVersion(db)).toBe(LATEST_VERSION);
    } finally {
      db.close();
    }
  });

  it('puts WAL, synchronous=FULL, foreign keys, a busy timeout, a 2 MiB page cache and 2 KiB pages (a new file) in force', () => {
    const dir = tempDir();
    const db = openDb(dir);
    try {
      expect(db.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
      expect(PAGE_CACHE_KIB).toBe(2_048);
      expect(db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
      expect(PAGE_SIZE).toBe(2_048);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true }) as number).toBeGreaterThan(0);
      // Foreign keys are enforced, not just declared.
      expect(() =>
        db
          .prepare("INSERT INTO revokes (order_sn, client_sn, state, requested_at, updated_at, deadline_day) VALUES ('1', 'x', 'queued', 1, 1, '2026-03-10')")
          .run(),
      ).toThrow(/FOREIGN KEY/);
    } finally {
      db.close();
    }
    expect(fs.existsSync(path.join(dir, `${DB_FILE}-wal`)) || fs.existsSync(path.join(dir, DB_FILE))).toBe(true);
    // WAL is a property of the file: a plain second connection sees it too.
    const other = raw(dir);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    other.close();
  });

  it('the busy timeout is configurable per connection', () => {
    const db = openDb(tempDir(), { busyTimeoutMs: 1234 });
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    db.close();
  });

  it('audit_log is append-only: UPDATE and DELETE raise, the row stays', () => {
    const db = openDb(tempDir());
    try {
      audit(db, T0, 'cli:it', 'terminal.checkin', '10012345678901', { attempt: 1 });
      expect(() => db.prepare("UPDATE audit_log SET actor = 'someone else'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
      expect(() => db.exec('DELETE FROM audit_log WHERE id = 1')).toThrow(/append-only/);
      expect(listAudit(db)).toEqual([{ id: 1, at: T0, actor: 'cli:it', action: 'terminal.checkin', subject: '10012345678901', details: { attempt: 1 } }]);
      // Appending still works.
      audit(db, T0 + 1, 'cli:it', 'terminal.checkin', null);
      expect(count(db, 'audit_log')).toBe(2);
    } finally {
      db.close();
    }
  });

  it('a file that is not a database is reported as STORE_CORRUPT', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, DB_FILE), Buffer.alloc(4096, 0x5a));
    let caught: unknown;
    try {
      openDb(dir).close();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).code).toBe('STORE_CORRUPT');
  });
});
