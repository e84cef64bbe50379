/**
 * Opens the one SQLite file of a data dir (`<dataDir>/upay-pos.db`) with the
 * settings the product relies on: WAL (the CLI and the app share the file),
 * synchronous=FULL (a committed revoke survives power loss), foreign keys, a
 * busy timeout (a second process waits instead of failing), and migrates it.
 * The data dir is checked first (ours alone, 0700) and the files are 0600.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { createPrivateFile, makePrivate, prepareDataDir, sqliteFiles } from './data-dir';
import { sqliteCannotWrite, StoreError } from './errors';
import { migrate } from './migrate';
import { nativeBindingOption } from './native-binding';

export { StoreError };

export type Db = Database.Database;

export const DB_FILE = 'upay-pos.db';

export interface OpenOptions {
  /** Milliseconds a writer waits for another process's lock. */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

/** SQLite page size of a new database file, bytes (an existing file keeps its own). */
export const PAGE_SIZE = 2_048;

/** SQLite page cache per connection, KiB. */
export const PAGE_CACHE_KIB = 2_048;

export function openDb(dataDir: string, options: OpenOptions = {}): Db {
  const file = path.join(dataDir, DB_FILE);
  let db: Db;
  try {
    prepareDataDir(dataDir);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('STORE_UNWRITABLE', `cannot prepare the data dir ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    if (!options.readonly) createPrivateFile(file);
    db = new Database(file, { readonly: options.readonly ?? false, timeout: options.busyTimeoutMs ?? 10_000, ...nativeBindingOption() });
  } catch (err) {
    throw new StoreError('STORE_UNWRITABLE', `cannot open the database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // Small pages, for a new file only (an existing one keeps its own; changing it needs a VACUUM): a money
    // operation's commit writes one whole page per b-tree it touches (its row and indexes, the audit, the
    // outbox, the lock), so 2 KiB pages write half of what 4 KiB ones do: 5-6% off a revoke, refund or
    // payment end to end (docs/performance.md); 1 KiB gained nothing more. Set before WAL, which fixes it.
    if (!options.readonly) {
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // better-sqlite3 builds SQLite with a 16 MiB page cache per connection; the hot set here (today's orders,
    // open revokes, their indexes) is a few MiB even on a busy day, and a counter PC's memory is not free.
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    // Temporary b-trees in memory, not in files under the temp dir: the fleet triggers' INSERT … SELECT reads
    // fleet_state, which the outbox's counting trigger writes, so SQLite stages every event in an ephemeral
    // table; as a temp file that open/write/unlink was most of an event's cost (~65 µs of ~20 µs with this).
    // Nothing of the money data lands in the shared temp dir either. The staged rows are one row each.
    db.pragma('temp_store = MEMORY');
    if (!options.readonly) migrate(db);
    // Files of an older install (created 0644), and the WAL and SHM SQLite just made.
    if (!options.readonly) for (const f of sqliteFiles(file)) makePrivate(f);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    const e = err as { code?: string; message: string };
    const code =
      e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT'
        ? 'STORE_CORRUPT'
        : sqliteCannotWrite(e.code)
          ? 'STORE_UNWRITABLE'
          : 'STORE_FAILED';
    throw new StoreError(code, `cannot prepare the database ${file}: ${e.message}`, { cause: err });
  }
  return db;
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * The prepared statement for `sql` on this connection, prepared once: the hot
 * paths (a revoke, a queue pass, the day's orders) run the same few
 * statements thousands of times.
 */
export function prepared(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

/**
 * Rows of `sql(placeholders)` for a list of values, in chunks of 500 (SQLite
 * caps bound parameters). Full chunks and the common few-value case reuse
 * prepared statements; other sizes are prepared once and dropped.
 */
export function allIn<T>(db: Db, sql: (placeholders: string) => string, values: readonly unknown[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < values.length; i += 500) {
    const chunk = values.slice(i, i + 500);
    const text = sql(chunk.map(() => '?').join(', '));
    const stmt = chunk.length === 500 || chunk.length <= 8 ? prepared(db, text) : db.prepare(text);
    out.push(...(stmt.all(...chunk) as T[]));
  }
  return out;
}

type Runner = Database.Transaction<(fn: () => unknown) => unknown>;
const runners = new WeakMap<Db, Runner>();

/**
 * Runs `fn` in an IMMEDIATE transaction (the write lock is taken up front, so
 * two processes never deadlock upgrading a read lock) and commits before
 * returning: the caller may do I/O after it returns, never inside. Inside
 * another transaction it is a savepoint (better-sqlite3's nesting). One
 * transaction function per connection runs every `fn` (a money operation
 * runs three of these: a new wrapper each time was garbage on the hot path).
 */
export function tx<T>(db: Db, fn: () => T): T {
  let run = runners.get(db);
  if (!run) runners.set(db, (run = db.transaction((f: () => unknown) => f())));
  return run.immediate(fn) as T;
}
