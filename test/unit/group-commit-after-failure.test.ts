/**
 * GroupCommit when after-commit work throws: every writer of the group still
 * settles (resolved: its write IS committed; a writer whose own write failed
 * is still rejected), every later after-commit function still runs, and the
 * failure is logged, never thrown out of the flush (a timer's flush included).
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../main/store/db';
import { GroupCommit } from '../../main/store/group-commit';

let db: Db;
let logged: string[];
let gc: GroupCommit;

beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE t (x INTEGER NOT NULL)');
  logged = [];
  gc = new GroupCommit(db, 5, (m) => logged.push(m));
});
afterEach(() => db.close());

const rows = (): number[] => (db.prepare('SELECT x FROM t ORDER BY x').all() as Array<{ x: number }>).map((r) => r.x);
const insert = (x: number) => db.prepare('INSERT INTO t (x) VALUES (?)').run(x);

/** Resolves to 'resolved' or 'rejected' once the promise settles; 'pending' if it has not within `ms`. */
const outcome = (p: Promise<void>, ms = 200): Promise<string> =>
  Promise.race([p.then(() => 'resolved', () => 'rejected'), new Promise<string>((r) => setTimeout(() => r('pending'), ms))]);

/** Inserts `x` in a group of `expected`; after the commit, `x` is pushed to `ran`, or `message` thrown when x is `failing`. */
const writeThenAfter = (x: number, ran: number[], failing: number, message: string, expected: number): Promise<void> =>
  gc.write(() => {
    insert(x);
    gc.afterCommit(() => {
      if (x === failing) throw new Error(message);
      ran.push(x);
    });
  }, expected);

describe('GroupCommit: an after-commit function throws', () => {
  it('every writer resolves, later after-commit functions run, the failure is logged', async () => {
    const ran: number[] = [];
    const writes = [0, 1, 2].map((i) => writeThenAfter(i, ran, 0, 'SQLITE_BUSY: database is locked', 3));
    expect(await Promise.all(writes.map((w) => outcome(w)))).toEqual(['resolved', 'resolved', 'resolved']);
    expect(ran).toEqual([1, 2]);
    expect(rows()).toEqual([0, 1, 2]);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('SQLITE_BUSY');
  });

  it('a writer whose own write failed is still rejected; the others resolve; nothing is left waiting', async () => {
    const ran: number[] = [];
    const a = gc.write(() => {
      insert(1);
      gc.afterCommit(() => {
        throw new Error('boom');
      });
    }, 3);
    const b = gc.write(() => {
      insert(2);
      throw new Error('write failed');
    }, 3);
    const c = gc.write(() => {
      insert(3);
      gc.afterCommit(() => ran.push(3));
    }, 3);
    expect(await Promise.all([a, b, c].map((w) => outcome(w)))).toEqual(['resolved', 'rejected', 'resolved']);
    await expect(b).rejects.toThrow('write failed');
    expect(rows()).toEqual([1, 3]);
    expect(ran).toEqual([3]);
    expect(gc.waiting).toBe(0);
  });

  it('a group flushed by its timer (fewer writers than expected) settles every writer, with no uncaught error', async () => {
    const ran: number[] = [];
    const writes = [1, 2].map((i) => writeThenAfter(i, ran, 1, 'after failed', 10));
    expect(await Promise.all(writes.map((w) => outcome(w)))).toEqual(['resolved', 'resolved']);
    expect(ran).toEqual([2]);
    expect(logged).toHaveLength(1);
  });

  it('a group of one: its after-commit failure does not reject the committed write', async () => {
    await expect(
      gc.write(() => {
        insert(7);
        gc.afterCommit(() => {
          throw new Error('publish failed');
        });
      }, 1),
    ).resolves.toBeUndefined();
    expect(rows()).toEqual([7]);
    expect(logged).toHaveLength(1);
  });

  it('a group that rolled back runs no after-commit work and rejects every writer', async () => {
    const ran: number[] = [];
    const w = gc.write(() => {
      insert(1);
      gc.afterCommit(() => ran.push(1));
      throw new Error('rolled back');
    }, 1);
    await expect(w).rejects.toThrow('rolled back');
    expect(ran).toEqual([]);
    expect(rows()).toEqual([]);
  });
});
