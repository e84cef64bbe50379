/**
 * Key vaults: the terminal key is never stored in clear. A vault seals a
 * secret into an opaque blob for the database and opens it again.
 * Implementations: `FileKeyVault` (plain Node / CLI: AES-256-GCM with a
 * 0600 key file in the data dir) and the Electron `safeStorage` vault in
 * main/electron/. Both open blobs they sealed themselves only.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makePrivate, prepareDataDir } from '../store/data-dir';

export interface KeyVault {
  /** Short name shown in diagnostics (never the key). */
  readonly kind: string;
  seal(secret: string): Buffer;
  open(sealed: Buffer): string;
}

export class VaultError extends Error {
  constructor(
    readonly code: 'VAULT_UNAVAILABLE' | 'VAULT_CANNOT_OPEN' | 'VAULT_INSECURE' | 'VAULT_MISMATCH',
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}

export const VAULT_KEY_FILE = 'vault.key';
const FORMAT = 1;

/**
 * AES-256-GCM with a random 32-byte key kept in `<dataDir>/vault.key` (0600).
 * This protects the database file when it is copied, backed up or sent for
 * support without the key file; it does not protect against someone who can
 * read the whole data dir as the POS user (see README, threat model).
 */
export class FileKeyVault implements KeyVault {
  readonly kind = 'file-aes-256-gcm';
  private readonly key: Buffer;

  constructor(dataDir: string) {
    this.key = loadOrCreateKey(path.join(dataDir, VAULT_KEY_FILE));
  }

  seal(secret: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), ct]);
  }

  open(sealed: Buffer): string {
    if (sealed.length < 29 || sealed[0] !== FORMAT) throw new VaultError('VAULT_CANNOT_OPEN', 'the sealed key has an unknown format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
      decipher.setAuthTag(sealed.subarray(13, 29));
      return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
    } catch {
      throw new VaultError('VAULT_CANNOT_OPEN', 'the sealed key cannot be opened with this data dir\'s vault key (was vault.key replaced?)');
    }
  }
}

function loadOrCreateKey(file: string): Buffer {
  prepareDataDir(path.dirname(file));
  if (!fs.existsSync(file)) {
    // Written whole to a private temp file, then linked into place: a second
    // process starting at the same moment sees either no key or the whole key,
    // and the first link wins (EEXIST means another process created it).
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.fchmodSync(fd, 0o600);
        fs.writeSync(fd, randomBytes(32));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new VaultError('VAULT_UNAVAILABLE', `cannot create the vault key file ${file}: ${(err as Error).message}`);
      }
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  let key: Buffer;
  try {
    makePrivate(file);
    key = fs.readFileSync(file);
  } catch (err) {
    throw new VaultError('VAULT_UNAVAILABLE', `cannot read the vault key file ${file}: ${(err as Error).message}`);
  }
  if (key.length !== 32) throw new VaultError('VAULT_CANNOT_OPEN', `the vault key file ${file} is damaged (expected 32 bytes)`);
  return key;
}
