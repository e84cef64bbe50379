/**
 * Head office's schema, version 5: fleet.ship_batch as a counter calls it
 * from this version on. It takes one more argument, each event's counting
 * day (the day the counter's 日结 counts the operation in: local migration
 * 19), so a new function of a new signature; the version 4 signature stays,
 * as a function that calls this one with no counting days (a counter not
 * upgraded yet ships as before: its operations count on their business day).
 * Its text is version 4's (as every head office at version 4 holds it,
 * main/fleet/schema-v4.ts) but for what version 5 changes:
 *
 * - events and operations keep the counting day; the operation takes it from
 *   its latest event (the one in which it counts carries it);
 * - an operation's latest event is decided by sequence number within one
 *   install epoch (the counter's commit order: its clock may step back), by
 *   time only across epochs (or in a batch that reuses sequence numbers: a
 *   restored backup), and a final state is never replaced by an open one;
 * - an operation's order sn is never replaced by NULL (a payment's creation
 *   event has none; its paid event has it);
 * - a terminal's heartbeat is the latest by the same rule.
 *
 * Frozen once released.
 */
import { FOREIGN_IDENTITY, SHIP_BATCH_SIGNATURE } from './schema-v2';
import { ALERTS_PER_BATCH, MAX_AMOUNT_CENTS, MAX_EVENT_MS, MIN_EVENT_MS } from './schema-v4';

/** The function's argument types from version 5 on (version 2's and the counting days), for GRANT and REVOKE. */
export const SHIP_BATCH_V5_SIGNATURE = `${SHIP_BATCH_SIGNATURE.slice(0, -1)}, date[])`;

/** Every kind's final states: an operation never leaves one for an open state (the counter never does). */
export const FINAL_STATES = ['revoked', 'refunded', 'rejected', 'expired', 'paid', 'failed', 'canceled'] as const;
const FINAL = `(${FINAL_STATES.map((s) => `'${s}'`).join(', ')})`;

const PARAMS = `p_terminal text, p_store text, p_store_name text, p_merchant text, p_epoch text,
    p_event_id text[], p_seq bigint[], p_day date[], p_kind text[], p_at float8[], p_op_id bigint[], p_op_state text[],
    p_order_sn text[], p_amount bigint[], p_payway text[], p_operator_id bigint[], p_operator_name text[],
    p_approver_id bigint[], p_approver_name text[], p_action text[], p_payload text[], p_opened float8[], p_alerts jsonb`;
const ARGS = PARAMS.replace(/ (text|bigint|date|float8|jsonb)(\[\])?/g, '');

/** An operation's event `e` (EXCLUDED) is later than what `o` holds: see the header. */
const LATER_OPERATION = `(EXCLUDED.state IN ${FINAL} AND o.state NOT IN ${FINAL})
       OR ((EXCLUDED.state IN ${FINAL}) = (o.state IN ${FINAL}) AND CASE
             WHEN by_seq AND o.epoch = EXCLUDED.epoch THEN EXCLUDED.last_seq > o.last_seq
             ELSE (o.updated_at, o.last_seq) < (EXCLUDED.updated_at, EXCLUDED.last_seq) END)`;

/** The batch's heartbeat is later than the one the terminal holds (by the same rule). */
const LATER_HEARTBEAT = `EXCLUDED.heartbeat_epoch IS NOT NULL AND (t.heartbeat_at IS NULL OR CASE
             WHEN by_seq AND t.heartbeat_epoch = EXCLUDED.heartbeat_epoch THEN EXCLUDED.heartbeat_seq > t.heartbeat_seq
             ELSE EXCLUDED.heartbeat_at > t.heartbeat_at END)`;

export const SHIP_BATCH_V5 = `
  CREATE FUNCTION fleet.ship_batch(
    ${PARAMS},
    p_counting_day date[])
  RETURNS TABLE (inserted int, rewound boolean)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    r fleet.terminal_roles;
    prior bigint;
    n int := 0;
    low bigint;
    hb record;
    by_seq boolean;
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

    -- Times and amounts no counter makes: the views and the dashboard compute with them.
    IF EXISTS (SELECT 1 FROM unnest(p_at, p_opened, p_amount) AS u(at, opened, amount)
               WHERE u.at IS NULL OR NOT (u.at >= ${MIN_EVENT_MS} AND u.at < ${MAX_EVENT_MS})
                  OR NOT (u.opened IS NULL OR (u.opened >= ${MIN_EVENT_MS} AND u.opened < ${MAX_EVENT_MS}))
                  OR NOT (u.amount IS NULL OR u.amount BETWEEN 0 AND ${MAX_AMOUNT_CENTS})) THEN
      RAISE EXCEPTION 'an event time outside 2000-2099 or an amount outside 0 to ${MAX_AMOUNT_CENTS} cents' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (version 5) One counting day (or none) per event, within 2000-2099.
    IF p_counting_day IS NOT NULL AND (cardinality(p_counting_day) <> coalesce(cardinality(p_seq), 0)
        OR EXISTS (SELECT 1 FROM unnest(p_counting_day) AS c(d) WHERE c.d < DATE '2000-01-01' OR c.d >= DATE '2100-01-01')) THEN
      RAISE EXCEPTION 'one counting day per event, within 2000-2099' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The events this batch reports set aside, recorded before its events are inserted, uncapped by the alert quota.
    IF jsonb_typeof(p_alerts) = 'array' THEN
      INSERT INTO fleet.set_aside_events (terminal_sn, event_id)
      SELECT p_terminal, left(p_alerts -> i ->> 'event_id', 200) FROM generate_series(0, least(jsonb_array_length(p_alerts), ${ALERTS_PER_BATCH}) - 1) AS i
      WHERE p_alerts -> i ->> 'event_id' IS NOT NULL
      ON CONFLICT DO NOTHING;
    END IF;
    prior := (SELECT e.last_seq FROM fleet.epochs e WHERE e.terminal_sn = p_terminal AND e.epoch = p_epoch);
    WITH ins AS (
      INSERT INTO fleet.events AS ev (terminal_sn, store_sn, merchant_sn, epoch, event_id, seq, business_day, kind, at, op_id, op_state,
        order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, action, payload, counting_day)
      SELECT p_terminal, p_store, p_merchant, p_epoch, u.event_id, u.seq, u.day, u.kind, to_timestamp(u.at / 1000.0), u.op_id, u.op_state,
        u.order_sn, u.amount, u.payway, u.operator_id, u.operator_name, u.approver_id, u.approver_name, u.action, u.payload::jsonb, u.counting_day
      FROM unnest(p_event_id, p_seq, p_day, p_kind, p_at, p_op_id, p_op_state, p_order_sn, p_amount, p_payway,
        p_operator_id, p_operator_name, p_approver_id, p_approver_name, p_action, p_payload, p_counting_day)
        AS u(event_id, seq, day, kind, at, op_id, op_state, order_sn, amount, payway, operator_id, operator_name, approver_id, approver_name, action, payload, counting_day)
      ON CONFLICT (terminal_sn, business_day, event_id) DO NOTHING
      RETURNING ev.seq, ev.event_id)
    -- (an event set aside and sent again later, \`fleet requeue\`, is not a rewind)
    SELECT count(*)::int, min(ins.seq) FILTER (WHERE NOT EXISTS (
             SELECT 1 FROM fleet.set_aside_events s WHERE s.terminal_sn = p_terminal AND s.event_id = ins.event_id))
    INTO n, low FROM ins;

    -- A new event at or below a sequence number head office already had in this epoch: the counter's data dir was restored or copied.
    rewound := prior IS NOT NULL AND low IS NOT NULL AND low <= prior;
    -- Events set aside that arrived now (or were there already) need no exemption any more.
    IF EXISTS (SELECT 1 FROM fleet.set_aside_events s WHERE s.terminal_sn = p_terminal) THEN
      DELETE FROM fleet.set_aside_events s WHERE s.terminal_sn = p_terminal AND s.event_id = ANY (p_event_id);
    END IF;
    IF rewound THEN
      PERFORM fleet.raise_alerts(p_terminal, p_store, 'restored', jsonb_build_array(jsonb_build_object('event_id', 'epoch:' || p_epoch, 'seq', low,
        'reason', format('new events reuse sequence numbers (from %s, head office had up to %s) of epoch %s: a restored backup or a copied data dir. Nothing was dropped; the counter starts a new epoch.', low, prior, p_epoch))));
    END IF;
    IF cardinality(p_seq) > 0 THEN
      INSERT INTO fleet.epochs AS e (terminal_sn, epoch, last_seq) VALUES (p_terminal, p_epoch, (SELECT max(s) FROM unnest(p_seq) s))
      ON CONFLICT (terminal_sn, epoch) DO UPDATE SET last_seq = greatest(e.last_seq, EXCLUDED.last_seq), last_seen = now();
    END IF;

    -- (version 5) Sequence numbers order this batch's events after what head office has of its epoch, unless they are reused.
    by_seq := NOT rewound;
    -- The latest state of each operation (see LATER_OPERATION); a batch sent again changes nothing.
    INSERT INTO fleet.operations AS o (terminal_sn, store_sn, kind, op_id, business_day, counting_day, state, order_sn, amount_cents, payway,
      operator_id, operator_name, approver_id, approver_name, opened_at, updated_at, last_seq, epoch)
    SELECT DISTINCT ON (u.kind, u.op_id, u.opened) p_terminal, p_store, u.kind, u.op_id, u.day, u.counting_day, u.op_state, u.order_sn, u.amount, u.payway,
      u.operator_id, u.operator_name, u.approver_id, u.approver_name, to_timestamp(u.opened / 1000.0), to_timestamp(u.at / 1000.0), u.seq, p_epoch
    FROM unnest(p_kind, p_op_id, p_day, p_op_state, p_order_sn, p_amount, p_payway, p_operator_id, p_operator_name,
      p_approver_id, p_approver_name, p_opened, p_at, p_seq, p_counting_day)
      AS u(kind, op_id, day, op_state, order_sn, amount, payway, operator_id, operator_name, approver_id, approver_name, opened, at, seq, counting_day)
    WHERE u.kind IN ('revoke', 'refund', 'payment') AND u.op_id IS NOT NULL AND u.opened IS NOT NULL
    ORDER BY u.kind, u.op_id, u.opened, (u.op_state IN ${FINAL}) DESC, u.seq DESC
    ON CONFLICT (terminal_sn, kind, op_id, opened_at) DO UPDATE SET
      state = EXCLUDED.state, counting_day = EXCLUDED.counting_day, order_sn = coalesce(EXCLUDED.order_sn, o.order_sn),
      amount_cents = EXCLUDED.amount_cents, payway = EXCLUDED.payway,
      operator_id = EXCLUDED.operator_id, operator_name = EXCLUDED.operator_name,
      approver_id = EXCLUDED.approver_id, approver_name = EXCLUDED.approver_name,
      updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq, epoch = EXCLUDED.epoch, store_sn = EXCLUDED.store_sn
    WHERE ${LATER_OPERATION};

    SELECT u.payload, u.at, u.seq INTO hb FROM unnest(p_kind, p_payload, p_at, p_seq) AS u(kind, payload, at, seq)
    WHERE u.kind = 'heartbeat' ORDER BY u.seq DESC LIMIT 1;
    INSERT INTO fleet.terminals AS t (terminal_sn, store_sn, store_name, merchant_sn, epoch, last_seen, last_seq, heartbeat, heartbeat_at, heartbeat_seq, heartbeat_epoch)
    VALUES (p_terminal, p_store, p_store_name, p_merchant, p_epoch, now(), coalesce((SELECT max(s) FROM unnest(p_seq) s), 0),
      fleet.clean_heartbeat(hb.payload::jsonb), to_timestamp(hb.at / 1000.0), coalesce(hb.seq, 0), CASE WHEN hb.seq IS NOT NULL THEN p_epoch END)
    ON CONFLICT (terminal_sn) DO UPDATE SET
      store_sn = EXCLUDED.store_sn, store_name = EXCLUDED.store_name, merchant_sn = EXCLUDED.merchant_sn, epoch = EXCLUDED.epoch,
      last_seen = now(), last_seq = greatest(t.last_seq, EXCLUDED.last_seq),
      heartbeat = CASE WHEN ${LATER_HEARTBEAT} THEN coalesce(EXCLUDED.heartbeat, t.heartbeat) ELSE t.heartbeat END,
      heartbeat_at = CASE WHEN ${LATER_HEARTBEAT} THEN EXCLUDED.heartbeat_at ELSE t.heartbeat_at END,
      heartbeat_seq = CASE WHEN ${LATER_HEARTBEAT} THEN EXCLUDED.heartbeat_seq ELSE t.heartbeat_seq END,
      heartbeat_epoch = CASE WHEN ${LATER_HEARTBEAT} THEN EXCLUDED.heartbeat_epoch ELSE t.heartbeat_epoch END;

    PERFORM fleet.raise_alerts(p_terminal, p_store, 'set_aside', p_alerts);

    inserted := n;
    RETURN NEXT;
  END $$;

  REVOKE ALL ON FUNCTION ${SHIP_BATCH_V5_SIGNATURE} FROM PUBLIC;

  -- The version 4 signature (counters not upgraded yet): the same, with no counting days. Replaced in place: its owner,
  -- SECURITY DEFINER and its grants stay.
  CREATE OR REPLACE FUNCTION fleet.ship_batch(
    ${PARAMS})
  RETURNS TABLE (inserted int, rewound boolean)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM fleet.ship_batch(${ARGS}, NULL::date[])
  $$;
`;
