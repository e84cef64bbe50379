/**
 * Version 4: queued and pending revokes by business day. The outbox worker
 * asks on every pass which open revokes are past their day (expire), near
 * its end (warn) and when the earliest deadline is; with a queue of a
 * thousand revokes after an outage those were scans of the whole queue on
 * every pass. Partial: a revoke that goes straight from `sending` to its
 * outcome never enters it, so the counter's normal revoke pays nothing.
 * Queries must repeat the index's condition (`state IN ('queued', 'pending')`)
 * for SQLite to use it.
 */
import type { Migration } from './migration';

export const m004: Migration = {
  name: '004-open-revoke-day-index',
  up(db) {
    db.exec("CREATE INDEX revokes_open_day ON revokes (deadline_day, warned_at) WHERE state IN ('queued', 'pending');");
  },
};
