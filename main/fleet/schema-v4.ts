/**
 * Head office's schema, version 4: a counter is untrusted, and what one
 * counter ships can no longer blind head office to the others.
 *
 * - Heartbeats: ship_batch stores a heartbeat through fleet.clean_heartbeat
 *   (a field the views read as a number is kept only if it is a JSON number
 *   in range, a text field only if it is a string, cut to a length; an
 *   oversized heartbeat keeps its known fields only), and terminal_health and
 *   counter_lag read every number with a cast that cannot fail (a number in
 *   range, else null), so a heartbeat stored before this version cannot make
 *   them fail either. Their columns, and so their grants, are unchanged.
 * - Times and amounts: a batch holding an event time or a "requested at"
 *   outside 2000–2099, or an amount outside 0–10^10 cents, is refused
 *   (SQLSTATE 22023: the counter sets the event aside), so no panel computing
 *   with them (open for N minutes, sums cast to bigint) can overflow.
 * - Alerts: fleet.raise_alerts records them, at most ALERTS_PER_BATCH from
 *   one batch and, per terminal, kind and UTC day, SET_ASIDE_PER_DAY
 *   set_aside alerts and OTHER_PER_DAY of any other kind (restored); what is
 *   over is counted in one `capped` alert per terminal, kind and day. An
 *   alert already recorded (a batch sent again) costs nothing.
 * - Requeued events: an event set aside and sent again (`fleet requeue`)
 *   carries a sequence number below what head office has, and is no sign
 *   of a restored backup. Which events were set aside is no longer read
 *   from the (capped) alerts: ship_batch records the event id of every
 *   set_aside alert it is offered (the first ALERTS_PER_BATCH of a batch,
 *   whatever the quota) in fleet.set_aside_events, before the batch's
 *   events are inserted, and the rewind check exempts those; an entry goes
 *   when its event arrives, so the table holds what counters keep set aside.
 *   The upgrade fills it from the set_aside alerts recorded so far.
 * - fleet.ensure_day: a counter may make the partitions of the last
 *   COUNTER_DAYS_BACK days and the next week (UTC, whatever its session's
 *   time zone); head office's own roles the last ten years; a partition that
 *   exists is fine for anyone (head office opens an older day for a counter's
 *   late events with `SELECT fleet.ensure_day('…')`).
 *
 * fleet.ship_batch is edited in place, as version 3 did (owner, SECURITY
 * DEFINER and grants stay); ensure_day and the two views are replaced with
 * CREATE OR REPLACE (grants stay). Frozen once released.
 */
import { HEAD_OFFICE_V2, SHIP_BATCH_SIGNATURE } from './schema-v2';

/** Alerts one batch may report (the shipper sends at most 100). */
export const ALERTS_PER_BATCH = 100;
/** set_aside alerts recorded per terminal and UTC day; the rest are counted in a `capped` alert. */
export const SET_ASIDE_PER_DAY = 20;
/** Alerts of any other kind (restored) recorded per terminal, kind and UTC day. */
export const OTHER_PER_DAY = 5;
/** How far back a counter's credential may make a day's partition. */
export const COUNTER_DAYS_BACK = 366;
/** A day's partition may be made this many days ahead (a counter's clock a little fast, Asia/Shanghai ahead of UTC). */
export const DAYS_AHEAD = 7;
/** The largest amount of one operation head office takes, in cents (100 million yuan). */
export const MAX_AMOUNT_CENTS = 10_000_000_000;
/** Event times and "requested at" head office takes, ms since the epoch: [2000-01-01, 2100-01-01). */
export const MIN_EVENT_MS = Date.UTC(2000, 0, 1);
export const MAX_EVENT_MS = Date.UTC(2100, 0, 1);

const INT4_MIN = -2_147_483_648;
const INT4_MAX = 2_147_483_647;
/** A heartbeat larger than this (as JSON text) keeps its known fields only. */
const HEARTBEAT_MAX_BYTES = 65_536;

/** The heartbeat's numbers the views read, and the least value each may have. */
const INT_FIELDS: ReadonlyArray<readonly [path: readonly string[], min: number]> = [
  [['openOperations'], 0],
  [['oldestOpenMinutes'], INT4_MIN], // a counter's clock behind: negative, not wrong
  [['keyAgeHours'], INT4_MIN],
  [['backlog'], 0],
  [['lagSeconds'], INT4_MIN],
  [['setAside'], 0],
  [['dropped', 'money'], 0],
  [['dropped', 'audit'], 0],
  [['dropped', 'heartbeats'], 0],
  [['dropped', 'noMoney'], 0],
  [['printer', 'pendingJobs'], 0],
  [['printer', 'failedJobs'], 0],
];

/** The heartbeat's texts the views read, and their longest length. */
const TEXT_FIELDS: ReadonlyArray<readonly [path: readonly string[], max: number]> = [
  [['businessDay'], 64],
  [['lastCheckinDay'], 64],
  [['appVersion'], 128],
  [['backlogWarning'], 2000],
  [['printer', 'state'], 64],
  [['printer', 'lastError'], 2000],
];

/** Objects holding some of the fields above. */
const OBJECT_FIELDS = ['printer', 'dropped'];

const pathOf = (p: readonly string[]) => `'{${p.join(',')}}'`;

/** A boolean: `v` (jsonb) is a number within [min, INT4_MAX] (the cast is reached only for a number). */
const intOk = (v: string, min: number) => `CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v})::numeric BETWEEN ${min} AND ${INT4_MAX} ELSE false END`;

/** An int from jsonb `v` that cannot fail: the number rounded when in range, else null. */
export const safeInt = (v: string, min = INT4_MIN) =>
  `CASE WHEN jsonb_typeof(${v}) = 'number' THEN CASE WHEN (${v})::numeric BETWEEN ${min} AND ${INT4_MAX} THEN round((${v})::numeric)::int END END`;

/** A text from jsonb `v`: a string (cut to max), else null. */
const safeText = (v: string, max: number) => `CASE WHEN jsonb_typeof(${v}) = 'string' THEN left(${v} #>> '{}', ${max}) END`;

const intField = (json: string, path: readonly string[]) => safeInt(`${json} #> ${pathOf(path)}`, INT_FIELDS.find(([p]) => p.join('.') === path.join('.'))![1]);
const textField = (json: string, path: readonly string[]) => safeText(`${json} #> ${pathOf(path)}`, TEXT_FIELDS.find(([p]) => p.join('.') === path.join('.'))![1]);

/** The heartbeat's known fields only (an oversized heartbeat), nulls left out. */
function knownFieldsSql(hb: string): string {
  const top = new Map<string, string[]>();
  for (const [path] of [...INT_FIELDS, ...TEXT_FIELDS]) {
    const [head, sub] = path;
    if (!top.has(head!)) top.set(head!, []);
    if (sub) top.get(head!)!.push(sub);
  }
  const parts = [...top].map(([key, subs]) =>
    subs.length === 0
      ? `'${key}', ${hb} -> '${key}'`
      : `'${key}', CASE WHEN jsonb_typeof(${hb} -> '${key}') = 'object' THEN jsonb_build_object(${subs.map((s) => `'${s}', ${hb} -> '${key}' -> '${s}'`).join(', ')}) END`,
  );
  return `jsonb_strip_nulls(jsonb_build_object(${parts.join(',\n        ')}))`;
}

const CLEAN_HEARTBEAT = `
  CREATE FUNCTION fleet.clean_heartbeat(hb jsonb) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    v jsonb;
  BEGIN
    IF hb IS NULL OR jsonb_typeof(hb) <> 'object' THEN RETURN NULL; END IF;
    ${OBJECT_FIELDS.map((k) => `IF jsonb_typeof(hb -> '${k}') NOT IN ('object', 'null') THEN hb := hb - '${k}'; END IF;`).join('\n    ')}
    ${INT_FIELDS.map(
      ([path, min]) => `v := hb #> ${pathOf(path)};
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' AND NOT (${intOk('v', min)}) THEN hb := hb #- ${pathOf(path)}; END IF;`,
    ).join('\n    ')}
    ${TEXT_FIELDS.map(
      ([path, max]) => `v := hb #> ${pathOf(path)};
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
      IF jsonb_typeof(v) <> 'string' THEN hb := hb #- ${pathOf(path)};
      ELSIF length(v #>> '{}') > ${max} THEN hb := jsonb_set(hb, ${pathOf(path)}, to_jsonb(left(v #>> '{}', ${max})));
      END IF;
    END IF;`,
    ).join('\n    ')}
    IF octet_length(hb::text) > ${HEARTBEAT_MAX_BYTES} THEN
      hb := ${knownFieldsSql('hb')};
    END IF;
    RETURN hb;
  END $$;
`;

const RAISE_ALERTS = `
  -- Alerts recorded per terminal, UTC day and kind; the row is locked while a batch counts, so concurrent batches count in turn.
  CREATE TABLE fleet.alert_quota (
    terminal_sn text NOT NULL,
    day date NOT NULL,
    kind text NOT NULL,
    recorded int NOT NULL DEFAULT 0,
    dropped bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal_sn, day, kind)
  );

  CREATE FUNCTION fleet.raise_alerts(p_terminal text, p_store text, p_kind text, p_alerts jsonb) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    cap int := CASE p_kind WHEN 'set_aside' THEN ${SET_ASIDE_PER_DAY} ELSE ${OTHER_PER_DAY} END;
    n_offered int;
    q fleet.alert_quota;
    n_fresh int;
    n_added int;
    n_over bigint;
  BEGIN
    IF p_alerts IS NULL OR jsonb_typeof(p_alerts) = 'null' THEN RETURN; END IF;
    IF jsonb_typeof(p_alerts) <> 'array' THEN
      RAISE EXCEPTION 'alerts are a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n_offered := jsonb_array_length(p_alerts);
    IF n_offered = 0 THEN RETURN; END IF;
    INSERT INTO fleet.alert_quota (terminal_sn, day, kind) VALUES (p_terminal, today, p_kind) ON CONFLICT DO NOTHING;
    SELECT * INTO q FROM fleet.alert_quota aq WHERE aq.terminal_sn = p_terminal AND aq.day = today AND aq.kind = p_kind FOR UPDATE;

    -- The first ${ALERTS_PER_BATCH} of the batch (read by index: a huge array is never expanded), their fields bounded.
    WITH offered AS (
      SELECT i, p_alerts -> i AS a FROM generate_series(0, least(n_offered, ${ALERTS_PER_BATCH}) - 1) AS i
    ), clean AS (
      SELECT o.i, left(o.a ->> 'event_id', 200) AS event_id,
             CASE jsonb_typeof(o.a -> 'seq')
               WHEN 'number' THEN CASE WHEN (o.a -> 'seq')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN round((o.a -> 'seq')::numeric)::bigint END
               WHEN 'string' THEN CASE WHEN o.a ->> 'seq' ~ '^-?[0-9]{1,18}$' THEN (o.a ->> 'seq')::bigint END
             END AS seq,
             left(o.a ->> 'kind', 64) AS event_kind, left(o.a ->> 'business_day', 64) AS business_day,
             left(coalesce(o.a ->> 'reason', '?'), 2000) AS detail
      FROM offered o
    ), fresh AS (
      -- New alerts only: one already recorded (a batch sent again) costs nothing.
      SELECT DISTINCT ON (coalesce(c.event_id, '#' || c.i)) c.* FROM clean c
      WHERE NOT EXISTS (SELECT 1 FROM fleet.alerts x WHERE x.terminal_sn = p_terminal AND x.kind = p_kind AND x.event_id = c.event_id)
      ORDER BY coalesce(c.event_id, '#' || c.i), c.i
    ), ins AS (
      INSERT INTO fleet.alerts (terminal_sn, store_sn, kind, event_id, seq, event_kind, business_day, detail)
      SELECT p_terminal, p_store, p_kind, f.event_id, f.seq, f.event_kind, f.business_day, f.detail
      FROM fresh f ORDER BY f.i LIMIT greatest(cap - q.recorded, 0)
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM ins) INTO n_fresh, n_added;

    n_over := greatest(n_offered - ${ALERTS_PER_BATCH}, 0) + (n_fresh - n_added);
    UPDATE fleet.alert_quota aq SET recorded = aq.recorded + n_added, dropped = aq.dropped + n_over
    WHERE aq.terminal_sn = p_terminal AND aq.day = today AND aq.kind = p_kind
    RETURNING * INTO q;
    IF n_over > 0 THEN
      INSERT INTO fleet.alerts AS x (terminal_sn, store_sn, kind, event_id, detail)
      VALUES (p_terminal, p_store, 'capped', p_kind || ':' || today,
        format('%s more %s alerts of this terminal on %s (UTC) were not recorded: at most %s a day (and %s a batch) are. The counter keeps its own list (fleet status).',
          q.dropped, p_kind, today, cap, ${ALERTS_PER_BATCH}))
      ON CONFLICT (terminal_sn, kind, event_id) DO UPDATE SET detail = EXCLUDED.detail, store_sn = EXCLUDED.store_sn, raised_at = now();
    END IF;
    DELETE FROM fleet.alert_quota aq WHERE aq.terminal_sn = p_terminal AND aq.day < today - 7;
  END $$;
`;

/** The exact text of a part of version 2's ship_batch (as every head office holds it). */
function v2Text(from: string, to: string): string {
  const i = HEAD_OFFICE_V2.indexOf(from);
  const j = i < 0 ? -1 : HEAD_OFFICE_V2.indexOf(to, i);
  if (i < 0 || j < 0) throw new Error(`schema-v4: version 2's text has no ${from}`);
  return HEAD_OFFICE_V2.slice(i, j + to.length);
}

const ROWS_CHECK = `-- (version 4) Times and amounts no counter makes: the views and the dashboard compute with them.
    IF EXISTS (SELECT 1 FROM unnest(p_at, p_opened, p_amount) AS u(at, opened, amount)
               WHERE u.at IS NULL OR NOT (u.at >= ${MIN_EVENT_MS} AND u.at < ${MAX_EVENT_MS})
                  OR NOT (u.opened IS NULL OR (u.opened >= ${MIN_EVENT_MS} AND u.opened < ${MAX_EVENT_MS}))
                  OR NOT (u.amount IS NULL OR u.amount BETWEEN 0 AND ${MAX_AMOUNT_CENTS})) THEN
      RAISE EXCEPTION 'an event time outside 2000-2099 or an amount outside 0 to ${MAX_AMOUNT_CENTS} cents' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    `;

const PRIOR = 'prior := (SELECT e.last_seq FROM fleet.epochs e';

const SET_ASIDE_EVENTS = `
  -- (version 4) The events counters set aside, by id, whatever the alert quota: the rewind check exempts them when they
  -- come back (\`fleet requeue\`). An entry goes when its event arrives.
  CREATE TABLE fleet.set_aside_events (
    terminal_sn text NOT NULL,
    event_id text NOT NULL,
    PRIMARY KEY (terminal_sn, event_id)
  );
  INSERT INTO fleet.set_aside_events (terminal_sn, event_id)
    SELECT DISTINCT a.terminal_sn, a.event_id FROM fleet.alerts a WHERE a.kind = 'set_aside' AND a.event_id IS NOT NULL
    ON CONFLICT DO NOTHING;
`;

const SET_ASIDE_RECORD = `-- (version 4) The events this batch reports set aside, recorded before its events are inserted, uncapped by the alert quota.
    IF jsonb_typeof(p_alerts) = 'array' THEN
      INSERT INTO fleet.set_aside_events (terminal_sn, event_id)
      SELECT p_terminal, left(p_alerts -> i ->> 'event_id', 200) FROM generate_series(0, least(jsonb_array_length(p_alerts), ${ALERTS_PER_BATCH}) - 1) AS i
      WHERE p_alerts -> i ->> 'event_id' IS NOT NULL
      ON CONFLICT DO NOTHING;
    END IF;
    `;
const EXEMPT_V2 = "SELECT 1 FROM fleet.alerts a WHERE a.terminal_sn = p_terminal AND a.kind = 'set_aside' AND a.event_id = ins.event_id";
const EXEMPT_V4 = 'SELECT 1 FROM fleet.set_aside_events s WHERE s.terminal_sn = p_terminal AND s.event_id = ins.event_id';
const REWOUND = 'rewound := prior IS NOT NULL AND low IS NOT NULL AND low <= prior;';
const SET_ASIDE_ARRIVED = `
    -- (version 4) Events set aside that arrived now (or were there already) need no exemption any more.
    IF EXISTS (SELECT 1 FROM fleet.set_aside_events s WHERE s.terminal_sn = p_terminal) THEN
      DELETE FROM fleet.set_aside_events s WHERE s.terminal_sn = p_terminal AND s.event_id = ANY (p_event_id);
    END IF;`;
const RESTORED_V2 = v2Text('INSERT INTO fleet.alerts (terminal_sn, store_sn, kind, event_id, seq, detail)', 'ON CONFLICT DO NOTHING;');
const RESTORED_V4 = `PERFORM fleet.raise_alerts(p_terminal, p_store, 'restored', jsonb_build_array(jsonb_build_object('event_id', 'epoch:' || p_epoch, 'seq', low,
        'reason', format('new events reuse sequence numbers (from %s, head office had up to %s) of epoch %s: a restored backup or a copied data dir. Nothing was dropped; the counter starts a new epoch.', low, prior, p_epoch))));`;
const HEARTBEAT_V2 = 'hb.payload::jsonb, to_timestamp(hb.at / 1000.0), 0)';
const HEARTBEAT_V4 = 'fleet.clean_heartbeat(hb.payload::jsonb), to_timestamp(hb.at / 1000.0), 0)';
const SET_ASIDE_V2 = v2Text('INSERT INTO fleet.alerts (terminal_sn, store_sn, kind, event_id, seq, event_kind, business_day, detail)', 'ON CONFLICT DO NOTHING;');
const SET_ASIDE_V4 = "PERFORM fleet.raise_alerts(p_terminal, p_store, 'set_aside', p_alerts);";

const EDITS: ReadonlyArray<readonly [from: string, to: string]> = [
  [PRIOR, ROWS_CHECK + SET_ASIDE_RECORD + PRIOR],
  [v2Text(EXEMPT_V2, EXEMPT_V2), EXEMPT_V4],
  [v2Text(REWOUND, REWOUND), REWOUND + SET_ASIDE_ARRIVED],
  [RESTORED_V2, RESTORED_V4],
  [HEARTBEAT_V2, HEARTBEAT_V4],
  [SET_ASIDE_V2, SET_ASIDE_V4],
];

/** Dollar-quotes text that holds no `$e$`. */
const dq = (s: string) => {
  if (s.includes('$e$')) throw new Error('schema-v4: text holds $e$');
  return `$e$${s}$e$`;
};

const EDIT_SHIP_BATCH = `
  DO $v4$
  DECLARE
    def text := pg_get_functiondef('${SHIP_BATCH_SIGNATURE}'::regprocedure);
  BEGIN
    ${EDITS.map(
      ([from, to], i) => `IF position(${dq(from)} IN def) = 0 THEN
      RAISE EXCEPTION 'fleet.ship_batch is not the version 3 function this step edits (part %)', ${i + 1};
    END IF;
    def := replace(def, ${dq(from)}, ${dq(to)});`,
    ).join('\n    ')}
    EXECUTE def;
  END $v4$;
`;

const H = 't.heartbeat';

export const HEAD_OFFICE_V4 = `
  ${CLEAN_HEARTBEAT}
  ${RAISE_ALERTS}
  ${SET_ASIDE_EVENTS}
  REVOKE ALL ON FUNCTION fleet.clean_heartbeat(jsonb) FROM PUBLIC;
  REVOKE ALL ON FUNCTION fleet.raise_alerts(text, text, text, jsonb) FROM PUBLIC;
  ${EDIT_SHIP_BATCH}

  CREATE OR REPLACE FUNCTION fleet.ensure_day(d date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    name text := 'events_' || to_char(d, 'YYYYMMDD');
    today date := (now() AT TIME ZONE 'UTC')::date;
    back int := CASE WHEN pg_has_role(session_user, (SELECT nspowner FROM pg_namespace WHERE nspname = 'fleet'), 'MEMBER') THEN 3650 ELSE ${COUNTER_DAYS_BACK} END;
  BEGIN
    IF d IS NULL THEN
      RAISE EXCEPTION 'no business day' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass('fleet.' || name) IS NOT NULL THEN RETURN; END IF;
    -- A counter cannot make partitions at will: the last ${COUNTER_DAYS_BACK} days and the next week (head office's roles: ten years back).
    IF d < today - back OR d > today + ${DAYS_AHEAD} THEN
      RAISE EXCEPTION 'business day % is not within the last % days or the next % (head office can open it: SELECT fleet.ensure_day(%))', d, back, ${DAYS_AHEAD}, quote_literal(d)
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(727018, (d - DATE '2000-01-01'));
    -- The catalog snapshot may not show a partition another session just made: its error means "already there".
    BEGIN
      EXECUTE format('CREATE TABLE IF NOT EXISTS fleet.%I PARTITION OF fleet.events FOR VALUES FROM (%L) TO (%L)', name, d, d + 1);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL;
    END;
  END $$;

  -- Heartbeats stored before this version, as ship_batch now stores them.
  UPDATE fleet.terminals SET heartbeat = fleet.clean_heartbeat(heartbeat) WHERE heartbeat IS NOT NULL;

  -- The same columns (and grants); numbers read with casts that cannot fail.
  CREATE OR REPLACE VIEW fleet.terminal_health AS
    SELECT t.terminal_sn, t.store_sn, t.store_name, t.last_seen,
           floor(extract(epoch FROM now() - t.last_seen) / 60)::int AS silent_minutes,
           t.heartbeat_at, ${textField(H, ['businessDay'])} AS business_day,
           ${intField(H, ['openOperations'])} AS open_operations,
           ${intField(H, ['oldestOpenMinutes'])} AS oldest_open_minutes,
           ${textField(H, ['printer', 'state'])} AS printer_state,
           ${textField(H, ['lastCheckinDay'])} AS last_checkin_day,
           ${intField(H, ['keyAgeHours'])} AS key_age_hours,
           ${intField(H, ['backlog'])} AS backlog,
           ${textField(H, ['backlogWarning'])} AS backlog_warning,
           ${textField(H, ['appVersion'])} AS app_version
    FROM fleet.terminals t;

  CREATE OR REPLACE VIEW fleet.counter_lag AS
    SELECT h.terminal_sn, h.store_sn, h.silent_minutes, h.backlog, h.printer_state, h.app_version,
           ${intField(H, ['lagSeconds'])} AS lag_seconds,
           coalesce(${intField(H, ['setAside'])}, 0) AS set_aside,
           least(coalesce(${intField(H, ['dropped', 'money'])}, 0)::bigint + coalesce(${intField(H, ['dropped', 'noMoney'])}, 0)
             + coalesce(${intField(H, ['dropped', 'audit'])}, 0), ${INT4_MAX})::int AS dropped,
           (SELECT count(*) FROM fleet.alerts a WHERE a.terminal_sn = h.terminal_sn) AS alerts
    FROM fleet.terminal_health h JOIN fleet.terminals t USING (terminal_sn);
`;
