/**
 * The fleet outbox's bound, as each migration that installs it holds it
 * (migrations 11, 14, 15 and 16; moved out of outbox-sql.ts, which
 * re-exports every name): past fleet_state.outbox_cap each new row pushes
 * one out, the heartbeat first, then the oldest audit entry, then (since
 * migration 16) the oldest no-money event, then the oldest other money
 * event, each counted. The text is unchanged: the migrations' frozen SQL is
 * checked against it.
 */
/**
 * The outbox's bound (migration 11): fleet_state.outbox_rows counts the rows;
 * past fleet_state.outbox_cap, each new row pushes one out, heartbeats first,
 * then the oldest audit entry, then the oldest money event, each counted in
 * fleet_state.dropped_*. The money itself stays in revokes/refunds: only its
 * export copy gives way.
 */
export const OUTBOX_CAP_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    CREATE TRIGGER fleet_outbox_count_in AFTER INSERT ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),
        dropped_money = dropped_money + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind IN ('heartbeat', 'audit')))
      WHERE id = 1 AND outbox_rows > outbox_cap;
      DELETE FROM fleet_outbox
      WHERE (SELECT outbox_rows > outbox_cap FROM fleet_state WHERE id = 1)
        AND seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),
          (SELECT min(seq) FROM fleet_outbox));
    END;
    DROP TRIGGER IF EXISTS fleet_outbox_count_out;
    CREATE TRIGGER fleet_outbox_count_out AFTER DELETE ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows - 1 WHERE id = 1;
    END;`;

/**
 * The cap's work, the same in every version: count what gives way (a
 * heartbeat, else the oldest audit entry, else money: `noneLeftButMoney` is
 * that last test, as each version writes it), then delete it. Since
 * migration 16 a tier comes before the other money events: the oldest event
 * marked no_money (`noMoneyLeft` is its test).
 */
function capWork(noneLeftButMoney: string, noMoneyLeft?: string): string {
  const countNoMoney = noMoneyLeft ? `\n        dropped_no_money = dropped_no_money + ${noMoneyLeft},` : '';
  const oldestNoMoney = noMoneyLeft ? `\n          (SELECT seq FROM fleet_outbox WHERE no_money = 1 ORDER BY seq LIMIT 1),` : '';
  return `
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),${countNoMoney}
        dropped_money = dropped_money + ${noneLeftButMoney}
      WHERE id = 1;
      DELETE FROM fleet_outbox
      WHERE seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),${oldestNoMoney}
          (SELECT min(seq) FROM fleet_outbox));`;
}

/**
 * The same bound, cheaper (migration 14): the count is kept by a BEFORE INSERT
 * trigger of one UPDATE, and the cap's work (count what gives way, delete it)
 * runs only WHEN the count is over the cap. Before, every outbox row (four per
 * revoke) ran three statements; now one, plus the guard. A BEFORE trigger
 * always fires before the row's AFTER triggers, so the guard sees the count
 * with this row in it, whatever order SQLite keeps its triggers in; a failed
 * insert rolls the count back with its statement. Same rows, same counts.
 */
export const OUTBOX_COUNT_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    CREATE TRIGGER fleet_outbox_count_in BEFORE INSERT ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER INSERT ON fleet_outbox
    WHEN (SELECT outbox_rows > outbox_cap FROM fleet_state WHERE id = 1)
    BEGIN${capWork("(SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind IN ('heartbeat', 'audit')))")}
    END;`;

/**
 * The same bound with no trigger on the outbox's inserts (migration 15):
 * every writer of an outbox row adds one to the count in its own trigger
 * body (or statement, for the heartbeat), and the count's increase fires
 * the cap. The new row is in the table when the cap looks for what gives
 * way, as before, so the same rows are kept and dropped, with the same
 * counts; a decrease (a shipped or dropped row) never fires it.
 */
export const OUTBOX_CAP_ON_COUNT_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER UPDATE OF outbox_rows ON fleet_state
    WHEN NEW.outbox_rows > OLD.outbox_rows AND NEW.outbox_rows > NEW.outbox_cap
    BEGIN${capWork(`(SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit'))`)}
    END;`;

/**
 * What the cap looks up by kind, and nothing else (migration 15): the
 * oldest heartbeat and the oldest audit entry. Two partial indexes replace
 * the (kind, seq) index, so a money event, the rows a money operation's
 * commit writes most, updates no index of the outbox at all.
 */
export const OUTBOX_KIND_INDEXES_SQL = `
    DROP INDEX IF EXISTS fleet_outbox_kind;
    CREATE INDEX IF NOT EXISTS fleet_outbox_heartbeats ON fleet_outbox (seq) WHERE kind = 'heartbeat';
    CREATE INDEX IF NOT EXISTS fleet_outbox_audit ON fleet_outbox (seq) WHERE kind = 'audit';`;

/** No heartbeat, no audit entry left: the start of the cap's money tiers' tests (migration 16). */
const ONLY_MONEY = `(SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')
          AND`;

/**
 * The bound with its no-money tier (migration 16): the heartbeat, then the oldest audit entry, then the oldest no-money
 * event (fleet_state.dropped_no_money), only then the oldest other money event (dropped_money). Fired as in 15.
 */
export const OUTBOX_CAP_NO_MONEY_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER UPDATE OF outbox_rows ON fleet_state
    WHEN NEW.outbox_rows > OLD.outbox_rows AND NEW.outbox_rows > NEW.outbox_cap
    BEGIN${capWork(`${ONLY_MONEY} NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE no_money = 1))`, `${ONLY_MONEY} EXISTS (SELECT 1 FROM fleet_outbox WHERE no_money = 1))`)}
    END;`;
