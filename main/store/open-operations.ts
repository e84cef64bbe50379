/**
 * One open money operation per order, across kinds and processes, enforced
 * by SQLite: the `open_operations` table (migration 009; one WITHOUT ROWID
 * b-tree keyed by the order since migration 014) holds one row per
 * order (its `client_sn`, the key a payment has before the gateway gives an
 * sn) while a revoke, refund or payment of it is open. Each kind's table has
 * two triggers (the lock row is inserted with an open row, and deleted when
 * that row reaches a final state), so no code path can open a second one:
 * the INSERT of the second fails inside its own transaction.
 */
import { prepared, type Db } from './db';

/** Each kind's table, by the kind's name in the lock (a new kind adds itself here). */
export const OPERATION_TABLES: Record<string, string> = { revoke: 'revokes', refund: 'refunds', pay: 'payments' };

export interface OpenOperation {
  orderClientSn: string;
  kind: string;
  opId: number;
  openedAt: number;
  /** The open operation's state now (null if its kind's table is not known here). */
  state: string | null;
}

/** What holds the order's lock now, if anything. */
export function openOperationOn(db: Db, orderClientSn: string): OpenOperation | undefined {
  const r = prepared(db, 'SELECT order_client_sn, kind, op_id, opened_at FROM open_operations WHERE order_client_sn = ?').get(orderClientSn) as
    | { order_client_sn: string; kind: string; op_id: number; opened_at: number }
    | undefined;
  if (!r) return undefined;
  const table = OPERATION_TABLES[r.kind];
  const state = table ? ((prepared(db, `SELECT state FROM ${table} WHERE id = ?`).pluck().get(r.op_id) as string | undefined) ?? null) : null;
  return { orderClientSn: r.order_client_sn, kind: r.kind, opId: r.op_id, openedAt: r.opened_at, state };
}

/** True when `err` is the lock refusing a second open operation on an order. */
export function isOrderLocked(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT') && String(e.message).includes('open_operations.order_client_sn');
}

/**
 * The lock's triggers for one kind's table, as literal SQL for a migration to
 * copy (migrations are frozen: never call this from one). `final` lists the
 * states the row never leaves.
 */
export function lockTriggersSql(table: string, kind: string, final: readonly string[]): string {
  const finals = final.map((s) => `'${s}'`).join(', ');
  return `
      CREATE TRIGGER ${table}_lock_open AFTER INSERT ON ${table}
      WHEN NEW.state NOT IN (${finals})
      BEGIN
        INSERT INTO open_operations (order_client_sn, kind, op_id, opened_at) VALUES (NEW.client_sn, '${kind}', NEW.id, NEW.requested_at);
      END;
      CREATE TRIGGER ${table}_lock_release AFTER UPDATE OF state ON ${table}
      WHEN NEW.state IN (${finals})
      BEGIN
        DELETE FROM open_operations WHERE order_client_sn = NEW.client_sn AND kind = '${kind}' AND op_id = NEW.id;
      END;`;
}

/** Open money operations (the order lock's rows) by kind, kinds in name order. */
export function openOperationCounts(db: Db): Array<{ kind: string; count: number }> {
  return prepared(db, 'SELECT kind, count(*) AS count FROM open_operations GROUP BY kind ORDER BY kind').all() as Array<{ kind: string; count: number }>;
}
