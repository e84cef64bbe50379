/** The append-only audit log: who did what, when (triggers forbid UPDATE and DELETE). */
import { prepared, type Db } from './db';

export type AuditAction =
  | 'terminal.activated'
  | 'terminal.checkin'
  | 'order.recorded'
  | 'order.imported'
  | 'revoke.requested'
  | 'revoke.sent'
  | 'revoke.resolved'
  | 'revoke.query'
  | 'revoke.warning'
  | 'print.printed'
  | 'print.failed'
  | 'print.reprint'
  | 'print.retry'
  | 'settings.changed'
  | 'orders.pruned'
  // --- operators
  | 'operator.added'
  | 'operator.bootstrap'
  | 'operator.enabled'
  | 'operator.disabled'
  | 'operator.pin_reset'
  | 'operator.pin_failed'
  | 'operator.locked'
  | 'operator.unlocked'
  | 'approval.granted'
  | 'session.signed_in'
  | 'session.signed_out'
  // every kind of money operation (revoke, refund, pay): `<kind>.requested|sent|resolved|query`, and an answer
  // a kind's final state refused (operations/transitions.ts toSucceeded)
  | `${string}.${'requested' | 'sent' | 'resolved' | 'query' | 'stale_success'}`
  // --- payments
  | 'payment.paid'
  | 'payment.failed'
  | 'payment.canceled'
  | 'payment.canceling'
  | 'payment.needs_attention';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: AuditAction;
  subject: string | null;
  details: Record<string, unknown> | null;
}

/** Appends one entry; call inside the transaction whose change it records. */
export function audit(db: Db, at: number, actor: string, action: AuditAction, subject: string | null, details?: Record<string, unknown>): void {
  prepared(db, 'INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)').run(
    at,
    actor,
    action,
    subject,
    details ? JSON.stringify(details) : null,
  );
}

export function listAudit(db: Db, limit = 100): AuditEntry[] {
  const rows = prepared(db, 'SELECT * FROM audit_log ORDER BY id DESC LIMIT ?').all(limit) as Array<Omit<AuditEntry, 'details'> & { details: string | null }>;
  return rows.map((r) => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null }));
}
