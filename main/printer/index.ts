/**
 * The receipts & printing subsystem's public surface: receipt model and its
 * two renderings, printer URIs and transports, durable print jobs and the
 * worker that prints them. Callers import from here.
 */
export * from './width';
export * from './receipt';
export * from './escpos';
export * from './html';
export * from './uri';
export * from './transport';
export * from './jobs';
export * from './worker';
