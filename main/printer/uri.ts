/**
 * Where receipts go, as one setting string: `tcp://host[:port]` (network
 * printer, raw port 9100 by default), an absolute device/file path
 * (`/dev/usb/lp0`), `virtual` (the embedded virtual printer; the runtime
 * swaps it for its tcp address with `resolvePrinterUri`), or `none`.
 */
import path from 'node:path';

export type PrinterUri =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'device'; path: string }
  | { kind: 'virtual' }
  | { kind: 'none' };

export class PrinterUriError extends Error {
  readonly code = 'PRINTER_URI_INVALID';
  constructor(readonly input: string, reason: string) {
    super(`invalid printer "${input}": ${reason}. Use tcp://host:9100, an absolute device path such as /dev/usb/lp0, "virtual" or "none".`);
    this.name = 'PrinterUriError';
  }
}

export const DEFAULT_PRINTER_PORT = 9100;

export function parsePrinterUri(input: string): PrinterUri {
  const text = input.trim();
  if (text === '') throw new PrinterUriError(input, 'empty');
  const lower = text.toLowerCase();
  if (lower === 'none') return { kind: 'none' };
  if (lower === 'virtual') return { kind: 'virtual' };
  if (lower.startsWith('tcp:')) {
    const m = /^tcp:\/\/(\[[0-9a-f:.]+\]|[a-z0-9][a-z0-9.-]*)(?::(\d{1,5}))?\/?$/i.exec(text);
    if (!m) throw new PrinterUriError(input, 'expected tcp://host:port');
    const port = m[2] === undefined ? DEFAULT_PRINTER_PORT : Number(m[2]);
    if (port < 1 || port > 65535) throw new PrinterUriError(input, `port ${port} out of range`);
    const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
    return { kind: 'tcp', host, port };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new PrinterUriError(input, `unsupported scheme "${text.split(':')[0]}"`);
  if (path.isAbsolute(text)) return { kind: 'device', path: path.normalize(text) };
  throw new PrinterUriError(input, 'a device path must be absolute');
}

export function formatPrinterUri(uri: PrinterUri): string {
  switch (uri.kind) {
    case 'tcp':
      return `tcp://${uri.host.includes(':') ? `[${uri.host}]` : uri.host}:${uri.port}`;
    case 'device':
      return uri.path;
    default:
      return uri.kind;
  }
}

/** Replaces `virtual` with the embedded virtual printer's address (tcp://127.0.0.1:PORT). */
export function resolvePrinterUri(uri: PrinterUri | string, virtualUri: string | null): PrinterUri {
  const parsed = typeof uri === 'string' ? parsePrinterUri(uri) : uri;
  if (parsed.kind !== 'virtual') return parsed;
  if (!virtualUri) throw new PrinterUriError('virtual', 'the virtual printer is not running');
  const resolved = parsePrinterUri(virtualUri);
  if (resolved.kind === 'virtual') throw new PrinterUriError(virtualUri, 'virtual cannot resolve to itself');
  return resolved;
}
