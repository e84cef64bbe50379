/**
 * Head office's schema, versioned like the local one: fleet.schema_version
 * holds the version, each migration runs in one transaction under an
 * advisory lock (two `fleet migrate` at once, or a migrate racing shippers,
 * never half-apply one). Events are partitioned by business day; partitions
 * are made on demand by fleet.ensure_day (called by the shippers). Version 1's
 * text is frozen: version 2 (schema-v2.ts), version 3 (schema-v3.ts),
 * version 4 (schema-v4.ts: an untrusted counter cannot break the views,
 * flood the alerts or make partitions at will) and version 5 (schema-v5.ts:
 * counting days, events ordered by sequence number, partitions that no
 * counter can hold against the others) replace what they must.
 */
import type { ClientBase } from 'pg';
import { HEAD_OFFICE_V2 } from './schema-v2';
import { HEAD_OFFICE_V3 } from './schema-v3';
import { HEAD_OFFICE_V4 } from './schema-v4';
import { HEAD_OFFICE_V5 } from './schema-v5';

const MIGRATION_LOCK = 727_017;

/** What an event and an operation both say about a money operation: the order, the money, who did it and who approved it. */
const OPERATION_FIELDS = 'order_sn text, amount_cents bigint, payway text, operator_id bigint, operator_name text, approver_id bigint, approver_name text';

export const HEAD_OFFICE_MIGRATIONS: readonly { name: string; sql: string }[] = [
  {
    name: 'events, operations, terminals, views',
    sql: `
      CREATE TABLE fleet.events (
        terminal_sn text NOT NULL,
        seq bigint NOT NULL,
        business_day date NOT NULL,
        kind text NOT NULL,
        at timestamptz NOT NULL,
        store_sn text,
        merchant_sn text,
        op_id bigint,
        op_state text,
        ${OPERATION_FIELDS},
        action text,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        -- (terminal_sn, seq) names an event; its business_day never changes, so this key is as unique as that pair.
        PRIMARY KEY (terminal_sn, business_day, seq)
      ) PARTITION BY RANGE (business_day);

      -- The latest state of every money operation (one row per terminal, kind and local id).
      CREATE TABLE fleet.operations (
        terminal_sn text NOT NULL,
        kind text NOT NULL,
        op_id bigint NOT NULL,
        store_sn text,
        business_day date NOT NULL,
        state text NOT NULL,
        ${OPERATION_FIELDS},
        opened_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        last_seq bigint NOT NULL,
        PRIMARY KEY (terminal_sn, kind, op_id)
      );
      CREATE INDEX operations_open ON fleet.operations (state) WHERE state NOT IN ('revoked', 'refunded', 'rejected');

      CREATE TABLE fleet.terminals (
        terminal_sn text PRIMARY KEY,
        store_sn text,
        store_name text,
        merchant_sn text,
        last_seen timestamptz NOT NULL,
        last_seq bigint NOT NULL,
        heartbeat jsonb,
        heartbeat_at timestamptz,
        heartbeat_seq bigint NOT NULL DEFAULT 0
      );

      CREATE FUNCTION fleet.ensure_day(d date) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        name text := 'events_' || to_char(d, 'YYYYMMDD');
      BEGIN
        IF to_regclass('fleet.' || name) IS NOT NULL THEN RETURN; END IF;
        PERFORM pg_advisory_xact_lock(727018, (d - DATE '2000-01-01'));
        IF to_regclass('fleet.' || name) IS NOT NULL THEN RETURN; END IF;
        EXECUTE format('CREATE TABLE fleet.%I PARTITION OF fleet.events FOR VALUES FROM (%L) TO (%L)', name, d, d + 1);
      END $$;

      CREATE VIEW fleet.open_operations AS
        SELECT store_sn, terminal_sn, kind, op_id, order_sn, state, amount_cents, payway,
               operator_name, approver_name, business_day, opened_at, updated_at,
               now() - opened_at AS open_for
        FROM fleet.operations
        WHERE state NOT IN ('revoked', 'refunded', 'rejected', 'expired');

      -- Money that moved: each operation reaches its final success state once, in one event.
      CREATE VIEW fleet.day_totals AS
        SELECT business_day, store_sn, kind, payway, operator_name,
               count(*) AS operations, sum(amount_cents) AS amount_cents
        FROM fleet.events
        WHERE (kind = 'revoke' AND op_state = 'revoked') OR (kind = 'refund' AND op_state = 'refunded')
        GROUP BY business_day, store_sn, kind, payway, operator_name;

      CREATE VIEW fleet.terminal_health AS
        SELECT t.terminal_sn, t.store_sn, t.store_name, t.last_seen,
               floor(extract(epoch FROM now() - t.last_seen) / 60)::int AS silent_minutes,
               t.heartbeat_at, t.heartbeat->>'businessDay' AS business_day,
               (t.heartbeat->>'openOperations')::int AS open_operations,
               (t.heartbeat->>'oldestOpenMinutes')::int AS oldest_open_minutes,
               t.heartbeat->'printer'->>'state' AS printer_state,
               t.heartbeat->>'lastCheckinDay' AS last_checkin_day,
               (t.heartbeat->>'keyAgeHours')::int AS key_age_hours,
               (t.heartbeat->>'backlog')::int AS backlog,
               t.heartbeat->>'backlogWarning' AS backlog_warning,
               t.heartbeat->>'appVersion' AS app_version
        FROM fleet.terminals t;

      CREATE FUNCTION fleet.silent_terminals(minutes int) RETURNS SETOF fleet.terminal_health
        LANGUAGE sql STABLE AS $$ SELECT * FROM fleet.terminal_health WHERE silent_minutes >= minutes $$;

      CREATE VIEW fleet.attention AS
        SELECT store_sn, terminal_sn, kind, op_id, order_sn, state, amount_cents, business_day, updated_at,
               CASE
                 WHEN state = 'needs_attention' THEN 'unresolved after the polling window'
                 WHEN state = 'expired' THEN 'never sent before the day ended: refund instead'
                 ELSE 'open for more than 30 minutes'
               END AS reason
        FROM fleet.operations
        WHERE state IN ('needs_attention', 'expired')
           OR (state NOT IN ('revoked', 'refunded', 'rejected') AND now() - opened_at > interval '30 minutes');
    `,
  },
  { name: 'a credential per counter (ship_batch), event ids and epochs, alerts, concurrent ensure_day, dashboard views', sql: HEAD_OFFICE_V2 },
  { name: 'payments: a third kind of operation (ship_batch keeps them, finals paid/failed/canceled)', sql: HEAD_OFFICE_V3 },
  { name: 'untrusted counters: heartbeats checked, views that cannot fail, alerts capped, ensure_day bounded', sql: HEAD_OFFICE_V4 },
  { name: "counting days (the counter's 日结), events ordered by sequence number, partitions no counter can hold, counter timeouts", sql: HEAD_OFFICE_V5 },
];

export const HEAD_OFFICE_VERSION = HEAD_OFFICE_MIGRATIONS.length;

export async function headOfficeVersion(client: ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('fleet.schema_version')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM fleet.schema_version');
  return r.rows[0]?.v ?? 0;
}

/** Brings head office to the latest version (or to `to`, for tests of an upgrade); returns [from, to]. */
export async function migrateHeadOffice(client: ClientBase, to: number = HEAD_OFFICE_VERSION): Promise<{ from: number; to: number }> {
  const from = await headOfficeVersion(client);
  if (from > HEAD_OFFICE_VERSION) throw new Error(`head office is at fleet schema version ${from}, newer than this upay-pos (${HEAD_OFFICE_VERSION})`);
  if (!Number.isInteger(to) || to < 1 || to > HEAD_OFFICE_VERSION) throw new Error(`no fleet schema version ${to}`);
  for (let v = from + 1; v <= to; v++) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE SCHEMA IF NOT EXISTS fleet');
      await client.query('CREATE TABLE IF NOT EXISTS fleet.schema_version (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = await client.query('SELECT 1 FROM fleet.schema_version WHERE version = $1', [v]);
      if (done.rowCount === 0) {
        await client.query(HEAD_OFFICE_MIGRATIONS[v - 1]!.sql);
        await client.query('INSERT INTO fleet.schema_version (version) VALUES ($1)', [v]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  return { from, to: Math.max(from, to) };
}
