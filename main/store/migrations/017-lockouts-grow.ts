/**
 * Version 17: lockouts that grow. `operators.lockouts` counts the operator's
 * lockouts in a row (each within a day of the last, `last_locked_at`); each
 * one lasts twice the last, from 5 minutes up to a day. A sign-in with the
 * right PIN does not reset it (a guesser would get fresh tries from every
 * real sign-in); a day without a lockout does, and so do store IT's unlock
 * and a new PIN.
 */
import type { Migration } from './migration';

export const m017: Migration = {
  name: '017-lockouts-grow',
  up(db) {
    db.exec(`
      ALTER TABLE operators ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE operators ADD COLUMN last_locked_at INTEGER;
    `);
  },
};
