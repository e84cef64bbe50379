/** The safeStorage key vault, with a fake safeStorage: refusals are typed VaultErrors; its kind is stable. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafeStorageVault, type SafeStorageLike } from '../../main/electron/safe-storage-vault';
import { toPosError } from '../../main/errors';
import { FileKeyVault, VaultError } from '../../main/terminal/vault';

function fakeSafeStorage(opts: { available?: boolean; backend?: string } = {}): SafeStorageLike {
  return {
    isEncryptionAvailable: () => opts.available ?? true,
    encryptString: (s: string) => Buffer.from(`enc:${Buffer.from(s).toString('base64')}`),
    decryptString: (b: Buffer) => {
      const t = b.toString();
      if (!t.startsWith('enc:')) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return Buffer.from(t.slice(4), 'base64').toString();
    },
    getSelectedStorageBackend: () => (opts.backend ?? 'gnome_libsecret') as ReturnType<NonNullable<SafeStorageLike['getSelectedStorageBackend']>>,
  };
}

describe('SafeStorageVault', () => {
  it('seals and opens through safeStorage; the blob is not the key', () => {
    const v = new SafeStorageVault({ safeStorage: fakeSafeStorage(), platform: 'linux', allowBasicText: () => false });
    const sealed = v.seal('terminal-key-123');
    expect(sealed.toString()).not.toContain('terminal-key-123');
    expect(v.open(sealed)).toBe('terminal-key-123');
    expect(v.kind).toBe('electron-safe-storage');
    expect(v.backend()).toBe('gnome_libsecret');
  });

  it('refuses basic_text on Linux with VAULT_INSECURE, unless the setting allows it', () => {
    let allow = false;
    const v = new SafeStorageVault({ safeStorage: fakeSafeStorage({ backend: 'basic_text' }), platform: 'linux', allowBasicText: () => allow });
    expect(() => v.seal('k')).toThrow(VaultError);
    try {
      v.seal('k');
    } catch (err) {
      expect((err as VaultError).code).toBe('VAULT_INSECURE');
      const pe = toPosError(err);
      expect(pe.code).toBe('VAULT_INSECURE');
      expect(pe.messageZh).toBeTruthy();
    }
    expect(v.kind).toBe('electron-safe-storage');
    expect(v.backend()).toBe('refused: VAULT_INSECURE');
    allow = true;
    expect(v.open(v.seal('k'))).toBe('k');
  });

  it('refuses when encryption is unavailable (VAULT_UNAVAILABLE)', () => {
    const v = new SafeStorageVault({ safeStorage: fakeSafeStorage({ available: false }), platform: 'win32', allowBasicText: () => true });
    expect(() => v.seal('k')).toThrow(expect.objectContaining({ code: 'VAULT_UNAVAILABLE' }));
  });

  it('refuses blobs it did not seal', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-vault-'));
    const sealedByCli = new FileKeyVault(dir).seal('cli-key');
    const v = new SafeStorageVault({ safeStorage: fakeSafeStorage(), platform: 'darwin', allowBasicText: () => false });
    expect(() => v.open(sealedByCli)).toThrow(expect.objectContaining({ code: 'VAULT_CANNOT_OPEN' }));
    expect(() => v.open(Buffer.from([9, 9, 9]))).toThrow(expect.objectContaining({ code: 'VAULT_CANNOT_OPEN' }));
    expect(() => v.open(Buffer.from([0x53, 1, 2, 3]))).toThrow(expect.objectContaining({ code: 'VAULT_CANNOT_OPEN' }));
  });
});
