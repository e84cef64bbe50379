/** The orders table: record, import (upsert from a gateway snapshot), list a business day, search, prune. */
import type { Order, OrderInput } from '../domain';
import { businessDay, businessDayStart } from '../common/time';
import { allIn, prepared, type Db } from './db';

interface OrderRow {
  sn: string;
  client_sn: string;
  trade_no: string | null;
  total_cents: number;
  net_cents: number;
  payway: string | null;
  payway_name: string | null;
  subject: string | null;
  operator: string | null;
  finished_at: number;
  status: string;
  business_day: string;
  updated_at: number;
  terminal_sn: string | null;
}

function fromRow(r: OrderRow): Order {
  return {
    sn: r.sn,
    clientSn: r.client_sn,
    tradeNo: r.trade_no,
    totalCents: r.total_cents,
    netCents: r.net_cents,
    payway: r.payway,
    paywayName: r.payway_name,
    subject: r.subject,
    operator: r.operator,
    finishedAt: r.finished_at,
    status: r.status,
    businessDay: r.business_day,
    updatedAt: r.updated_at,
    terminalSn: r.terminal_sn,
  };
}

export class OrderConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrderConflictError';
  }
}

export class OrdersRepo {
  constructor(private readonly db: Db) {}

  /**
   * Inserts or updates an order by sn. A client_sn already used by another sn
   * is a conflict (the gateway keeps client_sn unique per terminal too). While
   * a money operation is open on the order, its client_sn stays as stored: it
   * is the key of the order's lock (open_operations), which a changed
   * client_sn would leave behind, letting a second operation open beside it.
   * The paying terminal (`terminal_sn`) never changes once known: a later
   * answer only fills it in (the answer to a revoke or refund made here must
   * not make another till's order this one's).
   */
  upsert(input: OrderInput, now: number): Order {
    const other = prepared(this.db, 'SELECT sn FROM orders WHERE client_sn = ? AND sn <> ?').get(input.clientSn, input.sn) as { sn: string } | undefined;
    if (other) throw new OrderConflictError(`client_sn ${input.clientSn} already belongs to order ${other.sn}`);
    const row = prepared(this.db, 
        `INSERT INTO orders (sn, client_sn, trade_no, total_cents, net_cents, payway, payway_name, subject, operator, finished_at, status, business_day, updated_at, terminal_sn)
         VALUES (@sn, @clientSn, @tradeNo, @totalCents, @netCents, @payway, @paywayName, @subject, @operator, @finishedAt, @status, @businessDay, @now, @terminalSn)
         ON CONFLICT (sn) DO UPDATE SET
           client_sn = CASE WHEN EXISTS (SELECT 1 FROM open_operations WHERE order_client_sn = orders.client_sn) THEN client_sn ELSE excluded.client_sn END,
           trade_no = COALESCE(excluded.trade_no, trade_no),
           total_cents = excluded.total_cents, net_cents = excluded.net_cents, payway = COALESCE(excluded.payway, payway),
           payway_name = COALESCE(excluded.payway_name, payway_name), subject = COALESCE(excluded.subject, subject),
           operator = COALESCE(excluded.operator, operator), finished_at = excluded.finished_at, status = excluded.status,
           business_day = excluded.business_day, updated_at = excluded.updated_at, terminal_sn = COALESCE(terminal_sn, excluded.terminal_sn)
         RETURNING *`,
      )
      .get({ ...input, terminalSn: input.terminalSn ?? null, businessDay: businessDay(input.finishedAt), now }) as OrderRow;
    return fromRow(row);
  }

  /**
   * Records a revoke's effect: CANCELED with nothing left to refund, and fields the order lacks filled from the
   * gateway's snapshot (never overwritten, indexed columns untouched). Returns the order as stored.
   */
  markCanceled(
    sn: string,
    s: { tradeNo: string | null; payway: string | null; paywayName: string | null; subject: string | null; operator: string | null } | null,
    now: number,
  ): Order | undefined {
    const r = prepared(
      this.db,
      `UPDATE orders SET status = 'CANCELED', net_cents = 0, updated_at = @now,
         trade_no = coalesce(trade_no, @tradeNo), payway = coalesce(payway, @payway), payway_name = coalesce(payway_name, @paywayName),
         subject = coalesce(subject, @subject), operator = coalesce(operator, @operator)
       WHERE sn = @sn RETURNING *`,
    ).get({
      sn,
      now,
      tradeNo: s?.tradeNo ?? null,
      payway: s?.payway ?? null,
      paywayName: s?.paywayName ?? null,
      subject: s?.subject ?? null,
      operator: s?.operator ?? null,
    }) as OrderRow | undefined;
    return r && fromRow(r);
  }

  /** Records a refund's effect: the net amount and status after it (indexed columns untouched). Returns the order as stored. */
  markRefunded(sn: string, netCents: number, status: string, now: number): Order | undefined {
    const r = prepared(this.db, 'UPDATE orders SET net_cents = @netCents, status = @status, updated_at = @now WHERE sn = @sn RETURNING *').get({ sn, netCents, status, now }) as
      | OrderRow
      | undefined;
    return r && fromRow(r);
  }

  get(sn: string): Order | undefined {
    const r = prepared(this.db, 'SELECT * FROM orders WHERE sn = ?').get(sn) as OrderRow | undefined;
    return r && fromRow(r);
  }

  /** The stored orders among `sns` (missing ones are left out), in no particular order. */
  bySns(sns: readonly string[]): Order[] {
    return allIn<OrderRow>(this.db, (p) => `SELECT * FROM orders WHERE sn IN (${p})`, sns).map(fromRow);
  }

  getByClientSn(clientSn: string): Order | undefined {
    const r = prepared(this.db, 'SELECT * FROM orders WHERE client_sn = ?').get(clientSn) as OrderRow | undefined;
    return r && fromRow(r);
  }

  find(ref: { sn?: string | undefined; clientSn?: string | undefined }): Order | undefined {
    if (ref.sn !== undefined) return this.get(ref.sn);
    if (ref.clientSn !== undefined) return this.getByClientSn(ref.clientSn);
    return undefined;
  }

  /**
   * The business day's orders, newest first. Rows come as arrays (no
   * per-row objects from SQLite): a busy counter's day has thousands.
   */
  listDay(day: string, limit = 10_000): Order[] {
    const rows = prepared(
      this.db,
      `SELECT sn, client_sn, trade_no, total_cents, net_cents, payway, payway_name, subject, operator, finished_at, status, updated_at, terminal_sn
         FROM orders WHERE business_day = ? ORDER BY finished_at DESC, sn DESC LIMIT ?`,
    )
      .raw(true)
      .all(day, limit) as Array<
      [string, string, string | null, number, number, string | null, string | null, string | null, string | null, number, string, number, string | null]
    >;
    return rows.map((r) => ({
      sn: r[0],
      clientSn: r[1],
      tradeNo: r[2],
      totalCents: r[3],
      netCents: r[4],
      payway: r[5],
      paywayName: r[6],
      subject: r[7],
      operator: r[8],
      finishedAt: r[9],
      status: r[10],
      businessDay: day,
      updatedAt: r[11],
      terminalSn: r[12],
    }));
  }

  /**
   * Search by sn / client_sn (exact or prefix) or amount in cents (exact),
   * within one business day when `day` is given.
   */
  search(q: { text?: string | undefined; amountCents?: number | undefined; day?: string | undefined; limit?: number | undefined }): Order[] {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    if (q.day !== undefined) {
      where.push('business_day = @day');
      args.day = q.day;
    }
    if (q.text !== undefined && q.text !== '') {
      // Prefix match as index range scans on sn and client_sn (LIKE would scan the table).
      where.push('((sn >= @text AND sn < @textEnd) OR (client_sn >= @text AND client_sn < @textEnd))');
      args.text = q.text;
      args.textEnd = q.text + '\uffff';
    }
    if (q.amountCents !== undefined) {
      where.push('total_cents = @amount');
      args.amount = q.amountCents;
    }
    const sql = `SELECT * FROM orders ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY finished_at DESC, sn DESC LIMIT @limit`;
    const rows = prepared(this.db, sql).all({ ...args, limit: q.limit ?? 200 }) as OrderRow[];
    if (rows.length === 0 && q.text) {
      // Nothing by exact prefix: try ignoring ASCII case (client_sn is the merchant's own, any case).
      const loose = sql.replace('((sn >= @text AND sn < @textEnd) OR (client_sn >= @text AND client_sn < @textEnd))', "(sn LIKE @like ESCAPE '\\' OR client_sn LIKE @like ESCAPE '\\')");
      const like = q.text.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
      const { text: _text, textEnd: _textEnd, ...rest } = args;
      return (prepared(this.db, loose).all({ ...rest, like, limit: q.limit ?? 200 }) as OrderRow[]).map(fromRow);
    }
    return rows.map(fromRow);
  }

  /** Deletes orders of business days older than `retentionDays` before `now`; returns how many. */
  /**
   * Deletes orders older than the retention, except any order with a money
   * row (a revoke, a refund, a print job; a later kind adds its table here):
   * money rows are never deleted, and neither is the order they belong to.
   */
  prune(now: number, retentionDays: number): number {
    const cutoffDay = businessDay(businessDayStart(businessDay(now)) - retentionDays * 86_400_000);
    return prepared(
      this.db,
      `DELETE FROM orders WHERE business_day < ?
          AND sn NOT IN (SELECT order_sn FROM revokes)
          AND sn NOT IN (SELECT order_sn FROM refunds)
          AND sn NOT IN (SELECT order_sn FROM print_jobs WHERE order_sn IS NOT NULL)`,
    ).run(cutoffDay).changes;
  }

  /**
   * This counter's terminals: the one it is now and every one activated here before (a re-activation gives a new
   * sn; the audit log keeps each activation, version 18's partial index finds them). Its orders are those whose
   * `terminal_sn` is one of these, or null.
   */
  ownTerminals(): string[] {
    return prepared(
      this.db,
      `SELECT terminal_sn FROM terminal
       UNION SELECT subject FROM audit_log WHERE action = 'terminal.activated' AND subject IS NOT NULL`,
    )
      .pluck()
      .all() as string[];
  }

  count(): number {
    return (prepared(this.db, 'SELECT count(*) AS n FROM orders').get() as { n: number }).n;
  }
}
