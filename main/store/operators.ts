/** The operators table and every statement on it (PIN hashing and the lockout rule live in main/operators/). */
import { prepared, type Db } from './db';

export const ROLES = ['cashier', 'supervisor', 'store_it'] as const;
export type Role = (typeof ROLES)[number];

export interface OperatorRow {
  id: number;
  name: string;
  role: Role;
  pin_hash: string;
  active: 0 | 1;
  language: 'zh-CN' | 'en' | null;
  failed_attempts: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

export class OperatorsRepo {
  constructor(readonly db: Db) {}

  get(id: number): OperatorRow | undefined {
    return prepared(this.db, 'SELECT * FROM operators WHERE id = ?').get(id) as OperatorRow | undefined;
  }

  activeByName(name: string): OperatorRow | undefined {
    return prepared(this.db, 'SELECT * FROM operators WHERE name = ? AND active = 1').get(name) as OperatorRow | undefined;
  }

  /** Every operator, active ones first, then by name. */
  list(): OperatorRow[] {
    return prepared(this.db, 'SELECT * FROM operators ORDER BY active DESC, name, id').all() as OperatorRow[];
  }

  count(): number {
    return prepared(this.db, 'SELECT count(*) FROM operators').pluck().get() as number;
  }

  insert(row: { name: string; role: Role; pin_hash: string; now: number }): OperatorRow {
    return prepared(
      this.db,
      'INSERT INTO operators (name, role, pin_hash, active, created_at, updated_at) VALUES (@name, @role, @pin_hash, 1, @now, @now) RETURNING *',
    ).get(row) as OperatorRow;
  }

  setActive(id: number, active: boolean, now: number): void {
    prepared(this.db, 'UPDATE operators SET active = ?, updated_at = ? WHERE id = ?').run(active ? 1 : 0, now, id);
  }

  /** A new PIN also lifts a lockout: store IT has just spoken to the person. */
  setPinHash(id: number, pinHash: string, now: number): void {
    prepared(this.db, 'UPDATE operators SET pin_hash = ?, failed_attempts = 0, locked_until = NULL, updated_at = ? WHERE id = ?').run(pinHash, now, id);
  }

  setLanguage(id: number, language: 'zh-CN' | 'en' | null, now: number): void {
    prepared(this.db, 'UPDATE operators SET language = ?, updated_at = ? WHERE id = ?').run(language, now, id);
  }

  /** Counts one failure; at `limit` failures the operator is locked until `lockedUntil` and the count starts again. */
  recordFailure(id: number, limit: number, lockedUntil: number, now: number): OperatorRow {
    return prepared(
      this.db,
      `UPDATE operators SET
         locked_until = CASE WHEN failed_attempts + 1 >= @limit THEN @lockedUntil ELSE locked_until END,
         failed_attempts = CASE WHEN failed_attempts + 1 >= @limit THEN 0 ELSE failed_attempts + 1 END,
         updated_at = @now
       WHERE id = @id RETURNING *`,
    ).get({ id, limit, lockedUntil, now }) as OperatorRow;
  }

  recordSuccess(id: number, now: number): void {
    prepared(this.db, 'UPDATE operators SET failed_attempts = 0, locked_until = NULL, updated_at = ? WHERE id = ? AND (failed_attempts > 0 OR locked_until IS NOT NULL)').run(
      now,
      id,
    );
  }
}
