/** Errors the store raises, with a code a caller can act on. */
export class StoreError extends Error {
  /** Set when the message itself names the fix: shown as is (zh and en) instead of the generic store message. */
  readonly messageZh: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: 'STORE_UNWRITABLE' | 'STORE_CORRUPT' | 'STORE_TOO_NEW' | 'STORE_FAILED' | 'DATA_DIR_INSECURE',
    message: string,
    options?: { cause?: unknown; messageZh?: string; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.messageZh = options?.messageZh;
    this.details = options?.details;
  }
}

export { sqliteCannotWrite } from '../common/sqlite-codes';
