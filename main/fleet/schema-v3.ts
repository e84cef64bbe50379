/**
 * Head office's schema, version 3: payments (local migration 12) are the
 * third kind of operation. fleet.ship_batch keeps its text but for the kinds
 * it keeps in fleet.operations (its definition is edited in place, as the
 * database holds it: owner, SECURITY DEFINER and grants stay); a payment's
 * finals (paid, failed, canceled) are final in the open and attention views;
 * paid payments are money that moved in day_totals and approvals. Frozen.
 */
import { SHIP_BATCH_SIGNATURE } from './schema-v2';

export const HEAD_OFFICE_V3 = `
  DO $v3$
  DECLARE
    def text := pg_get_functiondef('${SHIP_BATCH_SIGNATURE}'::regprocedure);
    old_kinds text := $k$WHERE u.kind IN ('revoke', 'refund') AND u.op_id IS NOT NULL$k$;
  BEGIN
    IF position(old_kinds IN def) = 0 THEN
      RAISE EXCEPTION 'fleet.ship_batch is not the version 2 function this step edits';
    END IF;
    EXECUTE replace(def, old_kinds, $k$WHERE u.kind IN ('revoke', 'refund', 'payment') AND u.op_id IS NOT NULL$k$);
  END $v3$;

  DROP INDEX fleet.operations_open;
  CREATE INDEX operations_open ON fleet.operations (state) WHERE state NOT IN ('revoked', 'refunded', 'rejected', 'paid', 'failed', 'canceled');

  CREATE OR REPLACE VIEW fleet.open_operations AS
    SELECT store_sn, terminal_sn, kind, op_id, order_sn, state, amount_cents, payway,
           operator_name, approver_name, business_day, opened_at, updated_at,
           now() - opened_at AS open_for
    FROM fleet.operations
    WHERE state NOT IN ('revoked', 'refunded', 'rejected', 'expired', 'paid', 'failed', 'canceled');

  CREATE OR REPLACE VIEW fleet.day_totals AS
    SELECT business_day, store_sn, kind, payway, operator_name,
           count(*) AS operations, sum(amount_cents) AS amount_cents
    FROM fleet.operations
    WHERE (kind = 'revoke' AND state = 'revoked') OR (kind = 'refund' AND state = 'refunded') OR (kind = 'payment' AND state = 'paid')
    GROUP BY business_day, store_sn, kind, payway, operator_name;

  CREATE OR REPLACE VIEW fleet.approvals AS
    SELECT business_day, store_sn, approver_name, kind, count(*) AS operations, sum(amount_cents) AS amount_cents,
           count(*) FILTER (WHERE state IN ('revoked', 'refunded', 'paid')) AS succeeded
    FROM fleet.operations
    WHERE approver_name IS NOT NULL
    GROUP BY business_day, store_sn, approver_name, kind;

  CREATE OR REPLACE VIEW fleet.attention AS
    SELECT store_sn, terminal_sn, kind, op_id, order_sn, state, amount_cents, business_day, updated_at,
           CASE
             WHEN state = 'needs_attention' THEN 'unresolved after the polling window'
             WHEN state = 'expired' THEN 'never sent before the day ended: refund instead'
             ELSE 'open for more than 30 minutes'
           END AS reason
    FROM fleet.operations
    WHERE state IN ('needs_attention', 'expired')
       OR (state NOT IN ('revoked', 'refunded', 'rejected', 'paid', 'failed', 'canceled') AND now() - opened_at > interval '30 minutes');
`;
