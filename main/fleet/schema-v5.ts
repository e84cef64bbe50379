/**
 * Head office's schema, version 5.
 *
 * - Counting days: each money event may carry the day the counter's 日结
 *   counts its operation in (local migration 19; `fleet.events.counting_day`,
 *   `fleet.operations.counting_day`, NULL when the counter did not say: an
 *   older counter, or before this version), and day_totals and approvals
 *   group by `coalesce(counting_day, business_day)` (by an index on that
 *   expression). A revoke settled after midnight, a refund asked at 23:59:58,
 *   a QR code paid at 00:00:30 count on the same day at head office as in the
 *   counter's 日结. The views keep their columns (and grants): their
 *   `business_day` is that day.
 * - Ordering: ship_batch (schema-v5-ship.ts) orders an operation's events by
 *   sequence number within an install epoch (`fleet.operations.epoch`), by
 *   time only across epochs, and never moves a final state back to an open
 *   one; it never replaces an operation's order sn by NULL.
 * - Partitions: a counter holding a transaction open can no longer stall the
 *   others. ensure_day makes a day's table on its own and attaches it (ATTACH
 *   PARTITION takes SHARE UPDATE EXCLUSIVE on fleet.events, which no insert
 *   waits for; CREATE TABLE … PARTITION OF took ACCESS EXCLUSIVE, which every
 *   ship_batch waited for), waits at most PARTITION_LOCK_TIMEOUT_MS for a lock,
 *   and then ends the sessions of counters that held what it waited for
 *   before it asked and still do (their roles' timeouts are only defaults a
 *   session may SET away), and tries once more. `fleet.make_days(n)` lets
 *   head office make the coming days' partitions ahead (owner only).
 * - Counter roles get timeouts (COUNTER_ROLE_SETTINGS; `fleet grant` sets
 *   them too) and EXECUTE on the new ship_batch.
 *
 * Frozen once released.
 */
import { COUNTER_DAYS_BACK, DAYS_AHEAD } from './schema-v4';
import { SHIP_BATCH_V5, SHIP_BATCH_V5_SIGNATURE } from './schema-v5-ship';

export { FINAL_STATES, SHIP_BATCH_V5_SIGNATURE } from './schema-v5-ship';

/** How long ensure_day waits for a lock before it ends the counter sessions that held it all along, then tries again. */
export const PARTITION_LOCK_TIMEOUT_MS = 2_000;
/** How far ahead head office's own roles may make a day's partition (a counter's credential: DAYS_AHEAD). */
export const HEAD_OFFICE_DAYS_AHEAD = 31;

/**
 * What a counter's role runs with (ALTER ROLE … SET; its shipper's own connection asks for a shorter statement
 * timeout): a session that stalls in a transaction ends, a wait on a lock or a statement is bounded. Defaults the
 * session may change with SET: what protects the other counters is that no lock a counter can hold blocks their
 * ship_batch, and that ensure_day ends a counter session holding what making a partition needs (above).
 */
export const COUNTER_ROLE_SETTINGS: ReadonlyArray<readonly [name: string, value: string]> = [
  ['idle_in_transaction_session_timeout', '30s'],
  ['lock_timeout', '10s'],
  ['statement_timeout', '60s'],
];

/** Locks on fleet.events that make ATTACH PARTITION wait (SHARE UPDATE EXCLUSIVE and stronger); inserts take weaker ones. */
const BLOCKING_MODES = `('ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')`;

const PARTITION_HOLDERS = `
  -- The sessions of counters' roles (fleet.terminal_roles) holding a lock on fleet.events that making a partition waits for.
  CREATE FUNCTION fleet.partition_lock_holders() RETURNS int[]
  LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT l.pid), '{}')
    FROM pg_locks l
    JOIN pg_stat_activity a ON a.pid = l.pid
    JOIN fleet.terminal_roles r ON r.role_name = a.usename
    WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.relation = 'fleet.events'::regclass AND l.granted AND l.pid <> pg_backend_pid() AND l.mode IN ${BLOCKING_MODES}
  $$;

  -- Ends those of them that held it already when \`earlier\` was taken; how many ended (0 if head office's role may not).
  CREATE FUNCTION fleet.end_partition_lock_holders(earlier int[]) RETURNS int
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    ended int;
  BEGIN
    SELECT count(*) FILTER (WHERE pg_terminate_backend(h.pid, 1000)) INTO ended
    FROM unnest(fleet.partition_lock_holders()) AS h(pid) WHERE h.pid = ANY (earlier);
    RETURN ended;
  EXCEPTION WHEN insufficient_privilege THEN
    -- Head office's role has neither pg_signal_backend nor superuser: the caller's lock timeout stands.
    RETURN 0;
  END $$;

  REVOKE ALL ON FUNCTION fleet.partition_lock_holders() FROM PUBLIC;
  REVOKE ALL ON FUNCTION fleet.end_partition_lock_holders(int[]) FROM PUBLIC;
`;

const ENSURE_DAY = `
  CREATE OR REPLACE FUNCTION fleet.ensure_day(d date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '${PARTITION_LOCK_TIMEOUT_MS}ms' AS $$
  DECLARE
    name text := 'events_' || to_char(d, 'YYYYMMDD');
    today date := (now() AT TIME ZONE 'UTC')::date;
    head_office boolean := pg_has_role(session_user, (SELECT nspowner FROM pg_namespace WHERE nspname = 'fleet'), 'MEMBER');
    back int := CASE WHEN head_office THEN 3650 ELSE ${COUNTER_DAYS_BACK} END;
    ahead int := CASE WHEN head_office THEN ${HEAD_OFFICE_DAYS_AHEAD} ELSE ${DAYS_AHEAD} END;
    holding int[];
  BEGIN
    IF d IS NULL THEN
      RAISE EXCEPTION 'no business day' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass('fleet.' || name) IS NOT NULL THEN RETURN; END IF;
    -- A counter cannot make partitions at will: the last ${COUNTER_DAYS_BACK} days and the next ${DAYS_AHEAD} (head office's roles: ten years back, ${HEAD_OFFICE_DAYS_AHEAD} days ahead).
    IF d < today - back OR d > today + ahead THEN
      RAISE EXCEPTION 'business day % is not within the last % days or the next % (head office can open it: SELECT fleet.ensure_day(%))', d, back, ahead, quote_literal(d)
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    holding := fleet.partition_lock_holders();
    FOR attempt IN 1..2 LOOP
      BEGIN
        -- (version 5) The day's table on its own, then attached: no insert into fleet.events waits for either step.
        EXECUTE format('CREATE TABLE fleet.%I (LIKE fleet.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format('ALTER TABLE fleet.events ATTACH PARTITION fleet.%I FOR VALUES FROM (%L) TO (%L)', name, d, d + 1);
        RETURN;
      EXCEPTION
        WHEN duplicate_table OR duplicate_object OR unique_violation THEN
          -- Another session made it meanwhile (its table, or its row type, "already exists"; the catalog snapshot may not have shown it).
          RETURN;
        WHEN lock_not_available THEN
          -- Waited the whole timeout: a counter's session that held the lock before this call and still does is ended.
          IF attempt = 2 OR fleet.end_partition_lock_holders(holding) = 0 THEN
            RAISE;
          END IF;
      END;
    END LOOP;
  END $$;
`;

const MAKE_DAYS = `
  -- Head office's maintenance (owner only, e.g. daily from cron): yesterday's, today's and the next \`ahead\` days' partitions.
  CREATE FUNCTION fleet.make_days(ahead int DEFAULT 7) RETURNS int
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    first date := (now() AT TIME ZONE 'Asia/Shanghai')::date - 1;
    made int := 0;
  BEGIN
    IF ahead IS NULL OR ahead < 0 OR ahead > ${HEAD_OFFICE_DAYS_AHEAD - 2} THEN
      RAISE EXCEPTION 'make_days(ahead): 0 to ${HEAD_OFFICE_DAYS_AHEAD - 2} days' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 0 .. ahead + 1 LOOP
      IF to_regclass('fleet.events_' || to_char(first + i, 'YYYYMMDD')) IS NULL THEN
        PERFORM fleet.ensure_day(first + i);
        made := made + 1;
      END IF;
    END LOOP;
    RETURN made;
  END $$;
  REVOKE ALL ON FUNCTION fleet.make_days(int) FROM PUBLIC;
`;

const COUNTER_ROLES = `
  -- The counters granted so far: EXECUTE on the new ship_batch, and their roles' timeouts.
  DO $v5$
  DECLARE
    t record;
  BEGIN
    FOR t IN SELECT tr.role_name FROM fleet.terminal_roles tr JOIN pg_roles pr ON pr.rolname = tr.role_name LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION ${SHIP_BATCH_V5_SIGNATURE} TO %I', t.role_name);
      BEGIN
        ${COUNTER_ROLE_SETTINGS.map(([k, v]) => `EXECUTE format('ALTER ROLE %I SET ${k} = %L', t.role_name, '${v}');`).join('\n        ')}
      EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'role % keeps no timeouts (this role may not alter it): run upay-pos fleet grant for its terminal again', t.role_name;
      END;
    END LOOP;
  END $v5$;
`;

/** The day an operation counts in, as the views group it. */
const COUNTING_DAY = 'coalesce(counting_day, business_day)';

export const HEAD_OFFICE_V5 = `
  ALTER TABLE fleet.events ADD COLUMN counting_day date;
  ALTER TABLE fleet.operations ADD COLUMN counting_day date;
  ALTER TABLE fleet.operations ADD COLUMN epoch text;
  ALTER TABLE fleet.terminals ADD COLUMN heartbeat_epoch text;
  -- The heartbeat stored before this version: the next one of the same epoch replaces it.
  UPDATE fleet.terminals SET heartbeat_epoch = epoch WHERE heartbeat_at IS NOT NULL;
  -- Day totals and approvals read operations by the day they count in.
  CREATE INDEX operations_counting_day ON fleet.operations ((${COUNTING_DAY}), store_sn);

  ${SHIP_BATCH_V5}
  ${PARTITION_HOLDERS}
  ${ENSURE_DAY}
  ${MAKE_DAYS}
  ${COUNTER_ROLES}

  -- Money that moved, on the day the counter's 日结 counts it (the same columns: business_day is that day).
  CREATE OR REPLACE VIEW fleet.day_totals AS
    SELECT ${COUNTING_DAY} AS business_day, store_sn, kind, payway, operator_name,
           count(*) AS operations, sum(amount_cents) AS amount_cents
    FROM fleet.operations
    WHERE (kind = 'revoke' AND state = 'revoked') OR (kind = 'refund' AND state = 'refunded') OR (kind = 'payment' AND state = 'paid')
    GROUP BY ${COUNTING_DAY}, store_sn, kind, payway, operator_name;

  CREATE OR REPLACE VIEW fleet.approvals AS
    SELECT ${COUNTING_DAY} AS business_day, store_sn, approver_name, kind, count(*) AS operations, sum(amount_cents) AS amount_cents,
           count(*) FILTER (WHERE state IN ('revoked', 'refunded', 'paid')) AS succeeded
    FROM fleet.operations
    WHERE approver_name IS NOT NULL
    GROUP BY ${COUNTING_DAY}, store_sn, approver_name, kind;
`;
