/** The terminal table: one row, the terminal's identity and its sealed key(s). */
import type { TerminalInfo } from '../domain';
import { prepared, type Db } from './db';

export interface TerminalRow {
  terminal_sn: string;
  device_id: string;
  app_id: string | null;
  merchant_sn: string | null;
  merchant_name: string | null;
  store_sn: string | null;
  store_name: string | null;
  key_vault: string;
  sealed_key: Buffer;
  sealed_prev_key: Buffer | null;
  key_updated_at: number;
  activated_at: number;
  last_checkin_day: string | null;
}

export function terminalInfo(r: Omit<TerminalRow, 'app_id' | 'key_vault' | 'sealed_key' | 'sealed_prev_key'>): TerminalInfo {
  return {
    terminalSn: r.terminal_sn,
    deviceId: r.device_id,
    merchantSn: r.merchant_sn,
    merchantName: r.merchant_name,
    storeSn: r.store_sn,
    storeName: r.store_name,
    activatedAt: r.activated_at,
    keyUpdatedAt: r.key_updated_at,
    lastCheckinDay: r.last_checkin_day,
  };
}

export class TerminalRepo {
  constructor(private readonly db: Db) {}

  get(): TerminalRow | undefined {
    return prepared(this.db, 'SELECT * FROM terminal WHERE id = 1').get() as TerminalRow | undefined;
  }

  /** The identity without the sealed keys (receipts, status): no key bytes read. */
  info(): TerminalInfo | undefined {
    const r = prepared(
      this.db,
      `SELECT terminal_sn, device_id, merchant_sn, merchant_name, store_sn, store_name, activated_at, key_updated_at, last_checkin_day
         FROM terminal WHERE id = 1`,
    ).get() as Omit<TerminalRow, 'app_id' | 'key_vault' | 'sealed_key' | 'sealed_prev_key'> | undefined;
    return r && terminalInfo(r);
  }

  /** What signing needs: the sn, the current sealed key and its vault, the last check-in day. */
  signing(): Pick<TerminalRow, 'terminal_sn' | 'key_vault' | 'sealed_key' | 'last_checkin_day'> | undefined {
    return prepared(this.db, 'SELECT terminal_sn, key_vault, sealed_key, last_checkin_day FROM terminal WHERE id = 1').get() as
      | Pick<TerminalRow, 'terminal_sn' | 'key_vault' | 'sealed_key' | 'last_checkin_day'>
      | undefined;
  }

  /** Replaces the terminal (activation; --force re-activation). */
  put(row: Omit<TerminalRow, 'sealed_prev_key' | 'last_checkin_day'>): void {
    prepared(this.db, 'DELETE FROM terminal').run();
    prepared(this.db, 
        `INSERT INTO terminal (id, terminal_sn, device_id, app_id, merchant_sn, merchant_name, store_sn, store_name, key_vault, sealed_key, sealed_prev_key, key_updated_at, activated_at, last_checkin_day)
         VALUES (1, @terminal_sn, @device_id, @app_id, @merchant_sn, @merchant_name, @store_sn, @store_name, @key_vault, @sealed_key, NULL, @key_updated_at, @activated_at, NULL)`,
      )
      .run(row);
  }

  /**
   * Stores a new current key and keeps the one it replaces as previous
   * (check-in), only while the row still holds that terminal and that key:
   * a re-activation or another rotation in between wins, and nothing is
   * overwritten. Returns the rows changed (0 or 1).
   */
  rotateKey(sealedKey: Buffer, replaced: { terminalSn: string; sealedKey: Buffer }, day: string, now: number): number {
    return prepared(
      this.db,
      `UPDATE terminal SET sealed_key = ?, sealed_prev_key = sealed_key, key_updated_at = ?, last_checkin_day = ?
        WHERE id = 1 AND terminal_sn = ? AND sealed_key = ?`,
    ).run(sealedKey, now, day, replaced.terminalSn, replaced.sealedKey).changes;
  }

  /**
   * Dates the current key to `day` (an earlier day than today) so that the
   * next call checks in, only while the row still holds that terminal and
   * that key and says it checked in on `today`. Returns the rows changed.
   */
  markKeyStale(replaced: { terminalSn: string; sealedKey: Buffer }, today: string, day: string): number {
    return prepared(this.db, 'UPDATE terminal SET last_checkin_day = ? WHERE id = 1 AND terminal_sn = ? AND sealed_key = ? AND last_checkin_day = ?').run(
      day,
      replaced.terminalSn,
      replaced.sealedKey,
      today,
    ).changes;
  }
}
