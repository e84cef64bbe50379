/** The app log: secrets redacted, size-based rotation keeping N files. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { redact, RotatingLog } from '../../main/electron/log-file';

const TERMINAL_KEY = '8d0c6c2d0a5e4f7b9a1b2c3d4e5f6a7b';
const VENDOR_KEY = '5f2b9c7e1d4a8036b9e0c4d7a2f61e58';

describe('redact', () => {
  it.each([
    [`{"terminal_sn":"100001","terminal_key":"${TERMINAL_KEY}"}`, TERMINAL_KEY],
    [`{"vendorKey": "not-hex-but-secret"}`, 'not-hex-but-secret'],
    [`activate --vendor-key ${VENDOR_KEY} --code 1`, VENDOR_KEY],
    [`vendor_key=hunter2hunter2 other=1`, 'hunter2hunter2'],
    [`Authorization: 91801234 ${'a'.repeat(32)}`, 'a'.repeat(32)],
    [`sealed ${Buffer.from('x'.repeat(60)).toString('base64')}`, Buffer.from('x'.repeat(60)).toString('base64')],
    [`sign=ABCDEF0123456789ABCDEF0123456789`, 'ABCDEF0123456789ABCDEF0123456789'],
  ])('removes the secret from %s', (line, secret) => {
    const out = redact(line);
    expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED]');
  });

  it('removes known exact values anywhere', () => {
    expect(redact(`oops the key is xyzSECRETxyz!`, ['xyzSECRETxyz'])).toBe('oops the key is [REDACTED]!');
  });

  it('keeps ordinary lines readable', () => {
    const line = 'revoke 7 for order 7894259244096169 -> revoked (CANCEL_SUCCESS) in 312 ms';
    expect(redact(line)).toBe(line);
  });
});

describe('RotatingLog', () => {
  it('writes redacted lines and rotates by size, keeping maxFiles', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-log-'));
    const log = new RotatingLog({ dir, maxBytes: 2048, maxFiles: 3, secrets: () => [VENDOR_KEY], now: () => 0 });
    for (let i = 0; i < 200; i++) log.info(`line ${i} vendor ${VENDOR_KEY} terminal_key=${TERMINAL_KEY}`);
    log.error('multi\nline');
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['main.log', 'main.log.1', 'main.log.2', 'main.log.3']);
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(2048);
      expect(text).not.toContain(VENDOR_KEY);
      expect(text).not.toContain(TERMINAL_KEY);
    }
    const current = fs.readFileSync(path.join(dir, 'main.log'), 'utf8');
    expect(current).toMatch(/1970-01-01T00:00:00.000Z ERROR multi ⏎ line\n$/);
    expect(fs.readFileSync(path.join(dir, 'main.log.3'), 'utf8')).toMatch(/INFO line \d+/);
  });

  it('appends to an existing file and never throws when the disk is gone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-log-'));
    new RotatingLog({ dir }).warn('one');
    const log = new RotatingLog({ dir });
    log.warn('two');
    expect(fs.readFileSync(log.file, 'utf8').trim().split('\n')).toHaveLength(2);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'not a directory');
    expect(() => log.error('three')).not.toThrow();
    fs.rmSync(dir, { force: true });
  });
});
