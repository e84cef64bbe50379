/** The SQLite files the bench writes beside the runtime's: the floor's, and the hand-written least's (least.ts). */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { PAGE_SIZE } from '../../main/store/db';

/**
 * Opens `file` with the product's durability settings and file format (its page size, which sets what each
 * commit writes), creates `schema`, and puts it in the same WAL regime as the runtime's file.
 *
 * A WAL grows until its first checkpoint (1,000 pages), then is written over in place; while it grows, every
 * fsync also journals the file's new size. The runtime's file is past that before the first measured operation
 * (seeding writes more than 1,000 pages; one revoke writes ~25). A fresh file writing 2 pages per operation
 * would grow for its first ~500 operations and pay ~0.15 ms more per commit meanwhile: a floor that is not the
 * minimum, and every ratio flattered (docs/performance.md, 2026-12-07). One commit of more pages than the
 * threshold grows it and checkpoints it before the first operation.
 */
export function runtimeRegimeDb(file: string, schema: string): Database.Database {
  const db = new Database(file);
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(schema);
  db.exec('CREATE TABLE pad (b BLOB)');
  db.prepare('INSERT INTO pad (b) VALUES (zeroblob(?))').run(PAGE_SIZE * 1100);
  db.exec('DELETE FROM pad');
  // Held, not assumed: the WAL file is past the threshold, so the commits write over it in place.
  const walBytes = fs.statSync(`${db.name}-wal`).size;
  if (walBytes < 1000 * (PAGE_SIZE + 24)) throw new Error(`the WAL of ${shown(file)} was not grown (${walBytes} bytes)`);
  return db;
}

const shown = (file: string): string => file.split(/[\\/]/).slice(-2).join('/');
