/**
 * Version 8: the fleet export outbox. Triggers on every money-operation table
 * and on the audit log write one event per change in the change's own
 * transaction; the shipper (main/fleet/) sends them to head office and
 * deletes what the database has accepted. docs/fleet.md says what a new
 * operation table adds here.
 */
import { AUDIT_TRIGGER_SQL, OUTBOX_TABLE_SQL, REFUNDS_SOURCE, REVOKES_SOURCE, operationTriggers } from '../../fleet/outbox-sql';
import type { Migration } from './index';

export const m008: Migration = {
  name: '008-fleet-outbox',
  up(db) {
    db.exec(OUTBOX_TABLE_SQL);
    db.exec(operationTriggers(REVOKES_SOURCE));
    db.exec(operationTriggers(REFUNDS_SOURCE));
    db.exec(AUDIT_TRIGGER_SQL);
  },
};
