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
