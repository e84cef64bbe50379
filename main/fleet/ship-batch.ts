/**
 * One batch to head office: the rows cleaned of what PostgreSQL cannot
 * store (U+0000, lone surrogates: replaced by U+FFFD), then one call of
 * fleet.ship_batch (SECURITY DEFINER: it checks the credential's terminal,
 * inserts the events by their ids, upserts operations and the terminal, and
 * records the alerts) inside BEGIN … COMMIT, with each event's counting day
 * (head office version 5; a head office not migrated yet has only the
 * version 4 signature: the batch goes without them, and that connection
 * keeps to it). What head office refuses for good is told apart from what
 * may work on the next try.
 */
import type pg from 'pg';
import type { OutboxRow, PendingAlert } from './outbox';
import { FOREIGN_IDENTITY } from './schema-v2';

/** NUL and unpaired surrogates become U+FFFD: PostgreSQL's text and jsonb refuse them. */
export function cleanText(s: string): string;
export function cleanText(s: string | null): string | null;
export function cleanText(s: string | null): string | null {
  if (s === null) return null;
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function cleanJson(v: unknown): unknown {
  if (typeof v === 'string') return cleanText(v);
  if (Array.isArray(v)) return v.map(cleanJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [cleanText(k), cleanJson(x)]));
  return v;
}

/** A payload as head office can store it (a payload that is not JSON travels as a JSON string). */
export function cleanPayload(payload: string): string {
  try {
    return JSON.stringify(cleanJson(JSON.parse(payload)));
  } catch {
    return JSON.stringify(cleanText(payload));
  }
}

/** When the operation was asked for (its identity in head office, with the terminal, kind and local id). */
function openedAt(r: OutboxRow): number | null {
  if ((r.kind !== 'revoke' && r.kind !== 'refund' && r.kind !== 'payment') || r.op_id === null) return null;
  try {
    const requested = (JSON.parse(r.payload) as { requested_at?: unknown }).requested_at;
    return typeof requested === 'number' && Number.isFinite(requested) ? requested : r.at;
  } catch {
    return r.at;
  }
}

export interface BatchIdentity {
  terminalSn: string;
  storeSn: string | null;
  storeName: string | null;
  merchantSn: string | null;
  epoch: string;
}

export interface ShipResult {
  inserted: number;
  rewound: boolean;
}

type TextColumn = 'kind' | 'op_state' | 'order_sn' | 'payway' | 'operator_name' | 'approver_name' | 'action';

/** Connections to a head office without version 5's ship_batch (SQLSTATE 42883 once): they call version 4's. */
const beforeV5 = new WeakSet<pg.Client>();
const UNDEFINED_FUNCTION = '42883';

export async function shipBatch(client: pg.Client, who: BatchIdentity, rows: OutboxRow[], alerts: PendingAlert[]): Promise<ShipResult> {
  const col = <K extends keyof OutboxRow>(k: K) => rows.map((r) => r[k]);
  const text = (k: TextColumn) => rows.map((r) => cleanText(r[k]));
  const params = [
    cleanText(who.terminalSn),
    cleanText(who.storeSn),
    cleanText(who.storeName),
    cleanText(who.merchantSn),
    who.epoch,
    col('event_id'),
    col('seq'),
    col('business_day'),
    text('kind'),
    col('at'),
    col('op_id'),
    text('op_state'),
    text('order_sn'),
    col('amount_cents'),
    text('payway'),
    col('operator_id'),
    text('operator_name'),
    col('approver_id'),
    text('approver_name'),
    text('action'),
    rows.map((x) => cleanPayload(x.payload)),
    rows.map(openedAt),
    JSON.stringify(alerts.map((a) => ({ ...a, reason: cleanText(a.reason), business_day: cleanText(a.business_day) }))),
  ];
  const call = (v5: boolean) =>
    client.query<{ inserted: number; rewound: boolean }>(
      `SELECT inserted, rewound FROM fleet.ship_batch($1, $2, $3, $4, $5, $6::text[], $7::bigint[], $8::date[], $9::text[], $10::float8[],
         $11::bigint[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::bigint[], $17::text[], $18::bigint[], $19::text[],
         $20::text[], $21::text[], $22::float8[], $23::jsonb${v5 ? ', $24::date[]' : ''})`,
      v5 ? [...params, rows.map((x) => x.counting_day ?? null)] : params,
    );
  await client.query('BEGIN');
  let r: pg.QueryResult<{ inserted: number; rewound: boolean }>;
  if (beforeV5.has(client)) {
    r = await call(false);
  } else {
    try {
      r = await call(true);
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNDEFINED_FUNCTION) throw err;
      // Head office is not at version 5 yet: this batch (and this connection's next) without counting days.
      await client.query('ROLLBACK');
      beforeV5.add(client);
      await client.query('BEGIN');
      r = await call(false);
    }
  }
  await client.query('COMMIT');
  const row = r.rows[0];
  return { inserted: row?.inserted ?? 0, rewound: row?.rewound === true };
}

/**
 * Head office refused the data itself (SQLSTATE class 22: a value it cannot
 * store, a day out of range), or the events name a terminal or store this
 * credential does not ship for: sending the same rows again fails again.
 */
export function refusedForGood(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code === FOREIGN_IDENTITY);
}

export { FOREIGN_IDENTITY };
