/**
 * The app's key vault: the terminal key sealed by the OS key store through
 * Electron's safeStorage (Keychain, DPAPI, libsecret/kwallet). Refuses to
 * seal or open when the OS store is unavailable, or on Linux when Chromium
 * fell back to `basic_text`, unless the operator allowed it (setting
 * `allowBasicTextVault`). A terminal activated with the CLI keeps its file
 * vault: the runtime picks the vault by the kind recorded with the key.
 */
import type { SafeStorage } from 'electron';
import { VaultError, type KeyVault } from '../terminal/vault';
import { vaultDecision } from './policy';

/** Marks a safeStorage blob (the file vault's blobs start with 1). */
const FORMAT = 0x53;

export type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> & {
  getSelectedStorageBackend?: SafeStorage['getSelectedStorageBackend'];
};

export interface SafeStorageVaultOptions {
  safeStorage: SafeStorageLike;
  platform?: NodeJS.Platform;
  /** Read at each use: the setting may change while the app runs. */
  allowBasicText: () => boolean;
}

export class SafeStorageVault implements KeyVault {
  /** Stable: the runtime records it with the sealed key and picks the vault by it. */
  readonly kind = 'electron-safe-storage';

  constructor(private readonly options: SafeStorageVaultOptions) {}

  /** The OS store in use (`gnome_libsecret`, `keychain`, `dpapi`, ...) or why it is refused; for diagnostics. */
  backend(): string {
    const d = this.decide();
    return d.ok ? d.backend : `refused: ${d.code}`;
  }

  seal(secret: string): Buffer {
    this.check();
    const sealed = this.options.safeStorage.encryptString(secret);
    return Buffer.concat([Buffer.from([FORMAT]), sealed]);
  }

  open(sealed: Buffer): string {
    if (sealed.length < 2 || sealed[0] !== FORMAT) throw new VaultError('VAULT_CANNOT_OPEN', 'the sealed key has an unknown format');
    this.check();
    try {
      return this.options.safeStorage.decryptString(sealed.subarray(1));
    } catch {
      throw new VaultError('VAULT_CANNOT_OPEN', 'the OS key store cannot open the sealed key (another user account or a reset keyring?)');
    }
  }

  private decide() {
    const s = this.options.safeStorage;
    const platform = this.options.platform ?? process.platform;
    let backend: string | undefined;
    try {
      backend = platform === 'linux' ? s.getSelectedStorageBackend?.() : undefined;
    } catch {
      backend = undefined;
    }
    return vaultDecision({ platform, encryptionAvailable: s.isEncryptionAvailable(), backend, allowBasicText: this.options.allowBasicText() });
  }

  private check(): void {
    const d = this.decide();
    if (!d.ok) throw new VaultError(d.code, d.message);
  }
}
