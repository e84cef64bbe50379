/**
 * Migrations with versions after version 1, as the code will have them: the
 * migration list is replaced (vi.mock) by the real version 1 plus a working
 * made-up 002 and a 003 that fails halfway through its DDL. Shows that
 * each version commits whole or not at all (a failure leaves the previous
 * version, its data and none of the failed version's changes), that the
 * upgrade resumes once the migration is fixed, and that a file written by
 * version 1 (the frozen fixture) opens after later migrations exist.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DB_FILE, openDb, StoreError, type Db } from '../../main/store/db';
import { LATEST_VERSION, migrate, schemaVersion } from '../../main/store/migrate';
import type * as MigrationsModule from '../../main/store/migrations';
import { MIGRATIONS } from '../../main/store/migrations';

const ctl = vi.hoisted(() => ({ fail003: true, realCount: 0 }));

vi.mock('../../main/store/migrations', async (importOriginal) => {
  const real = await importOriginal<typeof MigrationsModule>();
  // Version 1 (frozen, the fixture's schema) followed by two made-up versions 2 and 3.
  ctl.realCount = 1;
  const m002: MigrationsModule.Migration = {
    name: 'test-002-order-notes',
    up(db) {
      db.exec('ALTER TABLE orders ADD COLUMN note TEXT; CREATE TABLE order_tags (order_sn TEXT NOT NULL REFERENCES orders (sn), tag TEXT NOT NULL) STRICT;');
    },
  };
  const m003: MigrationsModule.Migration = {
    name: 'test-003-fails-halfway',
    up(db) {
      db.exec("CREATE TABLE half_done (x INTEGER) STRICT; UPDATE orders SET note = 'touched by 003'; INSERT INTO settings (key, value, updated_at) VALUES ('test003', '1', 1);");
      if (ctl.fail003) throw new Error('boom in 003');
      db.exec('CREATE INDEX half_done_x ON half_done (x)');
    },
  };
  return { ...real, MIGRATIONS: [real.MIGRATIONS[0]!, m002, m003] };
});

const FIXTURE_V1 = path.resolve(__dirname, '../fixtures/schema-v1.sql');

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-migrate-tx-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  ctl.fail003 = true;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const raw = (dir: string): Db => new Database(path.join(dir, DB_FILE));
const tableExists = (db: Db, name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'index') AND name = ?").get(name) !== undefined;
const columns = (db: Db, table: string) => (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);

/** A file at version 1 with one order, as version 1 of the code wrote it. */
function v1File(): string {
  const dir = tempDir();
  const db = raw(dir);
  migrate(db, 1);
  db.prepare(
    `INSERT INTO orders (sn, client_sn, total_cents, net_cents, finished_at, status, business_day, updated_at)
     VALUES ('7890000000000001', 'POS-0001', 8800, 8800, 1773108000000, 'PAID', '2026-03-10', 1773108000000)`,
  ).run();
  db.close();
  return dir;
}

function openError(dir: string): unknown {
  try {
    openDb(dir).close();
  } catch (err) {
    return err;
  }
  throw new Error('openDb succeeded');
}

describe('transactional migrations (fake versions 002 and 003)', () => {
  it('the mocked list is the real version 1 plus two', () => {
    expect(MIGRATIONS).toHaveLength(ctl.realCount + 2);
    expect(LATEST_VERSION).toBe(ctl.realCount + 2);
    expect(ctl.realCount).toBe(1);
  });

  it('a migration that fails halfway leaves the previous version, its data and none of its own changes', () => {
    const dir = v1File();
    const err = openError(dir);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_FAILED');
    expect((err as StoreError).message).toContain('boom in 003');

    const db = raw(dir);
    expect(schemaVersion(db)).toBe(2); // 002 committed on its own
    expect(columns(db, 'orders')).toContain('note');
    expect(tableExists(db, 'order_tags')).toBe(true);
    expect(tableExists(db, 'half_done')).toBe(false); // 003's DDL rolled back
    expect(db.prepare('SELECT sn, note, total_cents FROM orders').all()).toEqual([{ sn: '7890000000000001', note: null, total_cents: 8800 }]);
    expect(db.prepare("SELECT count(*) AS n FROM settings WHERE key = 'test003'").get()).toEqual({ n: 0 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    // Failing again changes nothing.
    expect((openError(dir) as StoreError).code).toBe('STORE_FAILED');
    const again = raw(dir);
    expect(schemaVersion(again)).toBe(2);
    again.close();

    // Once 003 is fixed, the upgrade resumes from version 2.
    ctl.fail003 = false;
    const fixed = openDb(dir);
    expect(schemaVersion(fixed)).toBe(3);
    expect(tableExists(fixed, 'half_done')).toBe(true);
    expect(tableExists(fixed, 'half_done_x')).toBe(true);
    expect(fixed.prepare('SELECT note FROM orders').get()).toEqual({ note: 'touched by 003' });
    fixed.close();
  });

  it('migrate(db, target) stops at the target; a failure above it leaves the file at the target', () => {
    const dir = tempDir();
    const db = raw(dir);
    migrate(db, 2);
    expect(schemaVersion(db)).toBe(2);
    expect(() => migrate(db)).toThrow('boom in 003');
    expect(schemaVersion(db)).toBe(2);
    expect(tableExists(db, 'half_done')).toBe(false);
    db.close();
  });

  it('an empty file stops at version 2 when 003 fails, and reaches 3 when it works', () => {
    const dir = tempDir();
    expect((openError(dir) as StoreError).code).toBe('STORE_FAILED');
    const db = raw(dir);
    expect(schemaVersion(db)).toBe(2);
    db.close();
    ctl.fail003 = false;
    const ok = openDb(dir);
    expect(schemaVersion(ok)).toBe(3);
    ok.close();
  });

  it('a file written by version 1 (the frozen fixture) opens after later migrations exist', () => {
    ctl.fail003 = false;
    const dir = tempDir();
    const v1 = raw(dir);
    v1.exec(fs.readFileSync(FIXTURE_V1, 'utf8'));
    expect(schemaVersion(v1)).toBe(1);
    v1.close();

    const db = openDb(dir);
    expect(schemaVersion(db)).toBe(3);
    expect(db.prepare('SELECT count(*) AS n FROM orders WHERE note = ?').get('touched by 003')).toEqual({ n: 3 });
    expect(db.prepare('SELECT count(*) AS n FROM revokes').get()).toEqual({ n: 3 });
    expect(db.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 12 });
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });

  it('a file at a later version than the code is refused (STORE_TOO_NEW), also with the longer list', () => {
    const dir = tempDir();
    const db = raw(dir);
    db.pragma('user_version = 4');
    db.close();
    expect((openError(dir) as StoreError).code).toBe('STORE_TOO_NEW');
  });
});
