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

export function terminalInfo(r: TerminalRow): TerminalInfo {
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

  /** Replaces the terminal (activation; --force re-activation). */
  put(row: Omit<TerminalRow, 'sealed_prev_key' | 'last_checkin_day'>): void {
    prepared(this.db, 'DELETE FROM terminal').run();
    prepared(this.db, 
        `INSERT INTO terminal (id, terminal_sn, device_id, app_id, merchant_sn, merchant_name, store_sn, store_name, key_vault, sealed_key, sealed_prev_key, key_updated_at, activated_at, last_checkin_day)
         VALUES (1, @terminal_sn, @device_id, @app_id, @merchant_sn, @merchant_name, @store_sn, @store_name, @key_vault, @sealed_key, NULL, @key_updated_at, @activated_at, NULL)`,
      )
      .run(row);
  }

  /** Stores a new current key and keeps the old one as previous (check-in). */
  rotateKey(sealedKey: Buffer, sealedPrevKey: Buffer, day: string, now: number): void {
    prepared(this.db, 'UPDATE terminal SET sealed_key = ?, sealed_prev_key = ?, key_updated_at = ?, last_checkin_day = ? WHERE id = 1')
      .run(sealedKey, sealedPrevKey, now, day);
  }
}
