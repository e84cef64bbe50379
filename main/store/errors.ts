/** Errors the store raises, with a code a caller can act on. */
export class StoreError extends Error {
  constructor(
    readonly code: 'STORE_UNWRITABLE' | 'STORE_CORRUPT' | 'STORE_TOO_NEW' | 'STORE_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** True when SQLite's error code says the file cannot be written: read-only, full, an I/O error, or it cannot be opened. */
export function sqliteCannotWrite(code: unknown): boolean {
  return typeof code === 'string' && /^SQLITE_(READONLY|FULL|IOERR|CANTOPEN)/.test(code);
}
