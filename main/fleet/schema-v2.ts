/**
 * Head office's schema, version 2: a credential per counter, enforced by
 * PostgreSQL. Counter roles hold no privilege on any table: they may only
 * EXECUTE fleet.ship_batch and fleet.ensure_day, both SECURITY DEFINER, and
 * ship_batch checks the caller's login role (session_user) against
 * fleet.terminal_roles: a role adds rows for its own terminal (and store)
 * only, reads nothing, and changes nothing of another terminal's. Events are
 * keyed by a random id made on the counter (a restored backup reuses
 * sequence numbers, never ids); a reused sequence number is reported as an
 * alert. Operations are keyed by when they were asked for, so a restore
 * cannot fold two operations into one; day totals count operations, so a
 * revoke replayed after a restore counts once.
 */

/** The function's argument types, for GRANT and REVOKE. */
export const SHIP_BATCH_SIGNATURE =
  'fleet.ship_batch(text, text, text, text, text, text[], bigint[], date[], text[], float8[], bigint[], text[], text[], bigint[], text[], bigint[], text[], bigint[], text[], text[], text[], float8[], jsonb)';

/** The SQLSTATE ship_batch raises when a credential ships for another terminal or store. */
export const FOREIGN_IDENTITY = 'UP001';

export const HEAD_OFFICE_V2 = `
  CREATE TABLE fleet.terminal_roles (
    role_name name PRIMARY KEY,
    terminal_sn text NOT NULL UNIQUE,
    store_sn text,
    granted_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    disabled_at timestamptz
  );

  -- One sequence stream per install epoch of a terminal.
  CREATE TABLE fleet.epochs (
    terminal_sn text NOT NULL,
    epoch text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    last_seq bigint NOT NULL,
    PRIMARY KEY (terminal_sn, epoch)
  );

  -- What head office must look at that is not an operation: events a counter set aside, restored data dirs.
  CREATE TABLE fleet.alerts (
    id bigserial PRIMARY KEY,
    terminal_sn text NOT NULL,
    store_sn text,
    kind text NOT NULL,
    event_id text,
    seq bigint,
    event_kind text,
    business_day text,
    detail text NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (terminal_sn, kind, event_id)
  );

  ALTER TABLE fleet.events ADD COLUMN event_id text;
  ALTER TABLE fleet.events ADD COLUMN epoch text;
  UPDATE fleet.events SET event_id = 'v1:' || seq, epoch = 'v1';
  ALTER TABLE fleet.events ALTER COLUMN event_id SET NOT NULL;
  ALTER TABLE fleet.events DROP CONSTRAINT events_pkey;
  ALTER TABLE fleet.events ADD PRIMARY KEY (terminal_sn, business_day, event_id);

  ALTER TABLE fleet.operations DROP CONSTRAINT operations_pkey;
  ALTER TABLE fleet.operations ADD PRIMARY KEY (terminal_sn, kind, op_id, opened_at);
  -- Day totals, approvals and the dashboard read operations by day.
  CREATE INDEX operations_day ON fleet.operations (business_day, store_sn);
  ALTER TABLE fleet.terminals ADD COLUMN epoch text;

  CREATE OR REPLACE FUNCTION fleet.ensure_day(d date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    name text := 'events_' || to_char(d, 'YYYYMMDD');
  BEGIN
    -- A counter cannot make partitions at will: the last ten years, and a week ahead (a clock a little fast).
    IF d IS NULL OR d < current_date - 3650 OR d > current_date + 7 THEN
      RAISE EXCEPTION 'business day % is not within the last ten years or the next week', d USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass('fleet.' || name) IS NOT NULL THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(727018, (d - DATE '2000-01-01'));
    -- The catalog snapshot may not show a partition another session just made: its error means "already there".
    BEGIN
      EXECUTE format('CREATE TABLE IF NOT EXISTS fleet.%I PARTITION OF fleet.events FOR VALUES FROM (%L) TO (%L)', name, d, d + 1);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL;
    END;
  END $$;

  CREATE FUNCTION ${SHIP_BATCH_SIGNATURE.replace(/\(.*\)/, '')}(
    p_terminal text, p_store text, p_store_name text, p_merchant text, p_epoch text,
    p_event_id text[], p_seq bigint[], p_day date[], p_kind text[], p_at float8[], p_op_id bigint[], p_op_state text[],
    p_order_sn text[], p_amount bigint[], p_payway text[], p_operator_id bigint[], p_operator_name text[],
    p_approver_id bigint[], p_approver_name text[], p_action text[], p_payload text[], p_opened float8[], p_alerts jsonb)
  RETURNS TABLE (inserted int, rewound boolean)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    r fleet.terminal_roles;
    prior bigint;
    n int := 0;
    low bigint;
    hb record;
  BEGIN
    IF p_terminal IS NULL OR p_epoch IS NULL THEN
      RAISE EXCEPTION 'a batch names its terminal and epoch' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO r FROM fleet.terminal_roles t WHERE t.role_name = session_user AND t.disabled_at IS NULL;
    IF NOT FOUND THEN
      -- Head office's own roles (the schema's owner and its members) ship for any terminal: one-machine setups.
      IF NOT pg_has_role(session_user, (SELECT nspowner FROM pg_namespace WHERE nspname = 'fleet'), 'MEMBER') THEN
        RAISE EXCEPTION 'role % may not ship fleet events (run upay-pos fleet grant)', session_user USING ERRCODE = 'insufficient_privilege';
      END IF;
    ELSIF p_terminal IS DISTINCT FROM r.terminal_sn OR (r.store_sn IS NOT NULL AND p_store IS DISTINCT FROM r.store_sn) THEN
      RAISE EXCEPTION 'this credential ships for terminal % of store %, not for terminal % of store %',
        r.terminal_sn, coalesce(r.store_sn, '(any)'), p_terminal, coalesce(p_store, '(none)') USING ERRCODE = '${FOREIGN_IDENTITY}';
    END IF;

    prior := (SELECT e.last_seq FROM fleet.epochs e WHERE e.terminal_sn = p_terminal AND e.epoch = p_epoch);
    WITH ins AS (
      INSERT INTO fleet.events AS ev (terminal_sn, store_sn, merchant_sn, epoch, event_id, seq, business_day, kind, at, op_id, op_state,
        order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, action, payload)
      SELECT p_terminal, p_store, p_merchant, p_epoch, u.event_id, u.seq, u.day, u.kind, to_timestamp(u.at / 1000.0), u.op_id, u.op_state,
        u.order_sn, u.amount, u.payway, u.operator_id, u.operator_name, u.approver_id, u.approver_name, u.action, u.payload::jsonb
      FROM unnest(p_event_id, p_seq, p_day, p_kind, p_at, p_op_id, p_op_state, p_order_sn, p_amount, p_payway,
        p_operator_id, p_operator_name, p_approver_id, p_approver_name, p_action, p_payload)
        AS u(event_id, seq, day, kind, at, op_id, op_state, order_sn, amount, payway, operator_id, operator_name, approver_id, approver_name, action, payload)
      ON CONFLICT (terminal_sn, business_day, event_id) DO NOTHING
      RETURNING ev.seq, ev.event_id)
    -- (an event set aside and sent again later, \`fleet requeue\`, is not a rewind)
    SELECT count(*)::int, min(ins.seq) FILTER (WHERE NOT EXISTS (
             SELECT 1 FROM fleet.alerts a WHERE a.terminal_sn = p_terminal AND a.kind = 'set_aside' AND a.event_id = ins.event_id))
    INTO n, low FROM ins;

    -- A new event at or below a sequence number head office already had in this epoch: the counter's data dir was restored or copied.
    rewound := prior IS NOT NULL AND low IS NOT NULL AND low <= prior;
    IF rewound THEN
      INSERT INTO fleet.alerts (terminal_sn, store_sn, kind, event_id, seq, detail)
      VALUES (p_terminal, p_store, 'restored', 'epoch:' || p_epoch, low,
        format('new events reuse sequence numbers (from %s, head office had up to %s) of epoch %s: a restored backup or a copied data dir. Nothing was dropped; the counter starts a new epoch.', low, prior, p_epoch))
      ON CONFLICT DO NOTHING;
    END IF;
    IF cardinality(p_seq) > 0 THEN
      INSERT INTO fleet.epochs AS e (terminal_sn, epoch, last_seq) VALUES (p_terminal, p_epoch, (SELECT max(s) FROM unnest(p_seq) s))
      ON CONFLICT (terminal_sn, epoch) DO UPDATE SET last_seq = greatest(e.last_seq, EXCLUDED.last_seq), last_seen = now();
    END IF;

    -- The latest state of each operation; an older event (a batch sent again) never overwrites a newer one.
    INSERT INTO fleet.operations AS o (terminal_sn, store_sn, kind, op_id, business_day, state, order_sn, amount_cents, payway,
      operator_id, operator_name, approver_id, approver_name, opened_at, updated_at, last_seq)
    SELECT DISTINCT ON (u.kind, u.op_id, u.opened) p_terminal, p_store, u.kind, u.op_id, u.day, u.op_state, u.order_sn, u.amount, u.payway,
      u.operator_id, u.operator_name, u.approver_id, u.approver_name, to_timestamp(u.opened / 1000.0), to_timestamp(u.at / 1000.0), u.seq
    FROM unnest(p_kind, p_op_id, p_day, p_op_state, p_order_sn, p_amount, p_payway, p_operator_id, p_operator_name,
      p_approver_id, p_approver_name, p_opened, p_at, p_seq)
      AS u(kind, op_id, day, op_state, order_sn, amount, payway, operator_id, operator_name, approver_id, approver_name, opened, at, seq)
    WHERE u.kind IN ('revoke', 'refund') AND u.op_id IS NOT NULL AND u.opened IS NOT NULL
    ORDER BY u.kind, u.op_id, u.opened, u.at DESC, u.seq DESC
    ON CONFLICT (terminal_sn, kind, op_id, opened_at) DO UPDATE SET
      state = EXCLUDED.state, amount_cents = EXCLUDED.amount_cents, payway = EXCLUDED.payway,
      operator_id = EXCLUDED.operator_id, operator_name = EXCLUDED.operator_name,
      approver_id = EXCLUDED.approver_id, approver_name = EXCLUDED.approver_name,
      updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq, store_sn = EXCLUDED.store_sn
    WHERE (o.updated_at, o.last_seq) < (EXCLUDED.updated_at, EXCLUDED.last_seq);

    SELECT u.payload, u.at INTO hb FROM unnest(p_kind, p_payload, p_at, p_seq) AS u(kind, payload, at, seq)
    WHERE u.kind = 'heartbeat' ORDER BY u.at DESC, u.seq DESC LIMIT 1;
    INSERT INTO fleet.terminals AS t (terminal_sn, store_sn, store_name, merchant_sn, epoch, last_seen, last_seq, heartbeat, heartbeat_at, heartbeat_seq)
    VALUES (p_terminal, p_store, p_store_name, p_merchant, p_epoch, now(), coalesce((SELECT max(s) FROM unnest(p_seq) s), 0),
      hb.payload::jsonb, to_timestamp(hb.at / 1000.0), 0)
    ON CONFLICT (terminal_sn) DO UPDATE SET
      store_sn = EXCLUDED.store_sn, store_name = EXCLUDED.store_name, merchant_sn = EXCLUDED.merchant_sn, epoch = EXCLUDED.epoch,
      last_seen = now(), last_seq = greatest(t.last_seq, EXCLUDED.last_seq),
      heartbeat = CASE WHEN EXCLUDED.heartbeat_at > t.heartbeat_at OR t.heartbeat_at IS NULL THEN coalesce(EXCLUDED.heartbeat, t.heartbeat) ELSE t.heartbeat END,
      heartbeat_at = greatest(t.heartbeat_at, EXCLUDED.heartbeat_at);

    INSERT INTO fleet.alerts (terminal_sn, store_sn, kind, event_id, seq, event_kind, business_day, detail)
    SELECT p_terminal, p_store, 'set_aside', a->>'event_id', (a->>'seq')::bigint, a->>'kind', a->>'business_day', coalesce(a->>'reason', '?')
    FROM jsonb_array_elements(coalesce(p_alerts, '[]'::jsonb)) a
    ON CONFLICT DO NOTHING;

    inserted := n;
    RETURN NEXT;
  END $$;

  REVOKE ALL ON FUNCTION ${SHIP_BATCH_SIGNATURE} FROM PUBLIC;
  REVOKE ALL ON FUNCTION fleet.ensure_day(date) FROM PUBLIC;

  -- Money that moved: one row per operation (a revoke replayed after a restored backup still counts once).
  CREATE OR REPLACE VIEW fleet.day_totals AS
    SELECT business_day, store_sn, kind, payway, operator_name,
           count(*) AS operations, sum(amount_cents) AS amount_cents
    FROM fleet.operations
    WHERE (kind = 'revoke' AND state = 'revoked') OR (kind = 'refund' AND state = 'refunded')
    GROUP BY business_day, store_sn, kind, payway, operator_name;

  -- Lag as head office sees it: how long since each counter shipped, its backlog, what it set aside, what it dropped.
  CREATE VIEW fleet.counter_lag AS
    SELECT h.terminal_sn, h.store_sn, h.silent_minutes, h.backlog, h.printer_state, h.app_version,
           (t.heartbeat->>'lagSeconds')::int AS lag_seconds,
           coalesce((t.heartbeat->>'setAside')::int, 0) AS set_aside,
           coalesce((t.heartbeat->'dropped'->>'money')::int, 0) + coalesce((t.heartbeat->'dropped'->>'audit')::int, 0) AS dropped,
           (SELECT count(*) FROM fleet.alerts a WHERE a.terminal_sn = h.terminal_sn) AS alerts
    FROM fleet.terminal_health h JOIN fleet.terminals t USING (terminal_sn);

  -- Approvals by supervisor: refunds and revokes that needed one, per day, store and approver.
  CREATE VIEW fleet.approvals AS
    SELECT business_day, store_sn, approver_name, kind, count(*) AS operations, sum(amount_cents) AS amount_cents,
           count(*) FILTER (WHERE state IN ('revoked', 'refunded')) AS succeeded
    FROM fleet.operations
    WHERE approver_name IS NOT NULL
    GROUP BY business_day, store_sn, approver_name, kind;
`;
