/**
 * Store IT's side of head office: one bounded connection for `fleet migrate`
 * and `fleet report`, and the report's queries over the views.
 */
import pg from 'pg';
import { PosError } from '../errors';
import { clientConfig, redactor, type FleetTarget } from './config';
import { foldLine } from './fold';

export async function withHeadOffice<T>(target: FleetTarget, fn: (c: pg.Client) => Promise<T>, timeoutMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const redact = redactor(target.url);
  const client = new pg.Client({
    ...clientConfig(target, env),
    connectionTimeoutMillis: Math.min(timeoutMs, 10_000),
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    application_name: 'upay-pos-cli',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    if (err instanceof PosError) throw err;
    const e = err as { code?: string; message?: string };
    // Head office's words: redacted, then folded to one line of at most FOLD_MAX characters.
    const msg = foldLine(redact(`${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`));
    throw new PosError('FLEET_UNREACHABLE', `总部数据库（${target.shown}）出错：${msg}`, `Head office's database (${target.shown}) failed: ${msg}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface DayReport {
  day: string;
  store: string | null;
  totals: Array<{ store_sn: string | null; kind: string; payway: string | null; operator_name: string | null; operations: number; amount_cents: number }>;
  open: Array<{ store_sn: string | null; terminal_sn: string; kind: string; op_id: number; order_sn: string | null; state: string; amount_cents: number | null }>;
  attention: Array<{ store_sn: string | null; terminal_sn: string; kind: string; op_id: number; state: string; reason: string }>;
}

/** (A counter is untrusted: its local ids and amounts are read as bigint, never cast to int, so one odd row cannot fail the report.) */
export async function dayReport(c: pg.Client, day: string, store: string | null): Promise<DayReport> {
  const totals = await c.query(
    `SELECT store_sn, kind, payway, operator_name, operations::int AS operations, amount_cents::bigint AS amount_cents
     FROM fleet.day_totals WHERE business_day = $1::date AND ($2::text IS NULL OR store_sn = $2)
     ORDER BY store_sn, kind, payway, operator_name`,
    [day, store],
  );
  const open = await c.query(
    `SELECT store_sn, terminal_sn, kind, op_id::bigint AS op_id, order_sn, state, amount_cents::bigint AS amount_cents
     FROM fleet.open_operations WHERE business_day = $1::date AND ($2::text IS NULL OR store_sn = $2)
     ORDER BY store_sn, terminal_sn, kind, op_id`,
    [day, store],
  );
  const attention = await c.query(
    `SELECT store_sn, terminal_sn, kind, op_id::bigint AS op_id, state, reason
     FROM fleet.attention WHERE business_day = $1::date AND ($2::text IS NULL OR store_sn = $2)
     ORDER BY store_sn, terminal_sn, kind, op_id`,
    [day, store],
  );
  return {
    day,
    store,
    totals: totals.rows.map((r: DayReport['totals'][number]) => ({ ...r, amount_cents: Number(r.amount_cents) })),
    open: open.rows.map((r: DayReport['open'][number]) => ({ ...r, op_id: Number(r.op_id), amount_cents: r.amount_cents === null ? null : Number(r.amount_cents) })),
    attention: attention.rows.map((r: DayReport['attention'][number]) => ({ ...r, op_id: Number(r.op_id) })),
  };
}
