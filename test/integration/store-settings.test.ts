/**
 * Settings stored in the data dir (the "stored setting" level of the CLI's
 * flag > env > stored setting > default precedence): validated on the way
 * in, removable, and a damaged value falls back to its default instead of
 * blocking the counter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../main/store/audit';
import { openDb, type Db } from '../../main/store/db';
import { getSettings, setSettings } from '../../main/store/settings';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-settings-'));
  db = openDb(dir);
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const stored = () => Object.fromEntries((db.prepare('SELECT key, value FROM settings ORDER BY key').all() as Array<{ key: string; value: string }>).map((r) => [r.key, JSON.parse(r.value) as unknown]));

describe('stored settings', () => {
  it('defaults when nothing is stored; apiDomain and printer absent (the CLI then uses production and none)', () => {
    const s = getSettings(db);
    expect(s).toMatchObject({ printerType: 'EPSON', paperWidth: 80, receiptChinese: true, retentionDays: 30, language: 'zh-CN' });
    expect(s.apiDomain).toBeUndefined();
    expect(s.printer).toBeUndefined();
  });

  it('stores a valid patch, audits it, and removes a key with null', () => {
    setSettings(db, { apiDomain: 'http://127.0.0.1:2222', paperWidth: 58 }, 'cli:it', 1);
    expect(getSettings(db)).toMatchObject({ apiDomain: 'http://127.0.0.1:2222', paperWidth: 58 });
    setSettings(db, { apiDomain: null }, 'cli:it', 2);
    expect(getSettings(db).apiDomain).toBeUndefined();
    expect(stored()).not.toHaveProperty('apiDomain');
    expect(listAudit(db).map((a) => a.action)).toEqual(['settings.changed', 'settings.changed']);
  });

  it('refuses invalid values and unknown keys, storing nothing', () => {
    expect(() => setSettings(db, { paperWidth: 57 }, 'cli:it', 1)).toThrow();
    expect(() => setSettings(db, { apiDomain: 'not a url' }, 'cli:it', 1)).toThrow();
    expect(() => setSettings(db, { colour: 'red' }, 'cli:it', 1)).toThrow();
    expect(() => setSettings(db, { colour: null }, 'cli:it', 1)).toThrow();
    expect(stored()).toEqual({});
    expect(listAudit(db)).toEqual([]);
  });

  it('a damaged stored value falls back to its default; the others still apply', () => {
    setSettings(db, { paperWidth: 58, retentionDays: 60 }, 'cli:it', 1);
    db.prepare("UPDATE settings SET value = '{not json' WHERE key = 'paperWidth'").run();
    db.prepare("UPDATE settings SET value = '-5' WHERE key = 'retentionDays'").run();
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('language', '\"fr\"', 1) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run();
    const s = getSettings(db);
    expect(s).toMatchObject({ paperWidth: 80, retentionDays: 30, language: 'zh-CN' });
  });

  // zod's partial() fills defaults; a patch must store only the keys it names.
  it('a later change keeps the other stored settings', () => {
    setSettings(db, { paperWidth: 58, receiptChinese: false }, 'cli:it', 1);
    setSettings(db, { printer: 'tcp://192.168.1.50:9100' }, 'cli:it', 2);
    expect(getSettings(db)).toMatchObject({ paperWidth: 58, receiptChinese: false, printer: 'tcp://192.168.1.50:9100' });
  });

  it('storing one setting stores only that setting', () => {
    setSettings(db, { paperWidth: 58 }, 'cli:it', 1);
    expect(stored()).toEqual({ paperWidth: 58 });
    expect(listAudit(db)[0]?.details).toEqual({ set: { paperWidth: 58 }, removed: [] });
  });
});
