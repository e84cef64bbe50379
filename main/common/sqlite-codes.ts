/** True when SQLite's error code says the file cannot be written: read-only, full, an I/O error, or it cannot be opened. */
export function sqliteCannotWrite(code: unknown): boolean {
  return typeof code === 'string' && /^SQLITE_(READONLY|FULL|IOERR|CANTOPEN)/.test(code);
}
