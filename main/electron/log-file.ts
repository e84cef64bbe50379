/**
 * The app's log: one line per event in `<userData>/logs/main.log`, rotated by
 * size (main.log.1 ... main.log.N), every line passed through `redact` first.
 * Plain Node (no Electron import) so it is unit-tested.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../runtime';

const REDACTED = '[REDACTED]';
/**
 * A field name that holds a secret: `key` itself and any name ending in key,
 * secret, token, password or sign (terminal_key, vendorKey, api-key,
 * sealed_key, x_sign), starting at a word boundary.
 */
const SECRET_NAME = String.raw`(?<![A-Za-z0-9])[A-Za-z0-9_-]*?(?:key|secret|token|password|passwd|sign)`;
/** A value, whatever its alphabet: quoted (with escapes) or up to the next separator. */
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`;

const PATTERNS: Array<[RegExp, string]> = [
  // "terminal_key":"..." / 'vendorKey': '...' / "key": 123
  [new RegExp(String.raw`(["']?${SECRET_NAME}["']?\s*:\s*)(${QUOTED}|[^\s,}\]]+)`, 'gi'), `$1"${REDACTED}"`],
  // key=... / terminal_key=... / vendor-key: ... / --vendor-key ... / --key=...
  [new RegExp(String.raw`((?:--${SECRET_NAME}\s*[=: ]|${SECRET_NAME}\s*[=:])\s*)(${QUOTED}|[^\s&,;"']+)`, 'gi'), `$1${REDACTED}`],
  // Authorization: <sn> <sign>
  [/(authorization["']?\s*[:=]\s*["']?)([^\r\n"']+)/gi, `$1${REDACTED}`],
  // Long hex (keys, signatures) and long base64 (sealed blobs)
  [/\b[0-9a-f]{32,}\b/gi, REDACTED],
  [/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])/g, REDACTED],
];

/**
 * Removes secrets from a log line: named secret fields (JSON, key=value, CLI
 * flags), Authorization headers, long hex and base64 runs, and any exact
 * value in `known` (e.g. the configured vendor key).
 */
export function redact(line: string, known: readonly string[] = []): string {
  let out = line;
  for (const secret of known) if (secret.length >= 6) out = out.split(secret).join(REDACTED);
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

export interface RotatingLogOptions {
  dir: string;
  /** Base file name (default main.log). */
  name?: string;
  /** Rotate when the file would exceed this (default 1 MiB). */
  maxBytes?: number;
  /** Rotated files kept besides the current one (default 5). */
  maxFiles?: number;
  /** Exact secret values to scrub (besides the patterns). */
  secrets?: () => readonly string[];
  now?: () => number;
  /** Also write to this stream (development). */
  mirror?: NodeJS.WritableStream | null;
}

/** A size-rotated, redacting, synchronous log file that implements the runtime's Logger. */
export class RotatingLog implements Logger {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private size: number;

  constructor(private readonly options: RotatingLogOptions) {
    fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.file = path.join(options.dir, options.name ?? 'main.log');
    this.maxBytes = Math.max(1024, options.maxBytes ?? 1024 * 1024);
    this.maxFiles = Math.max(1, options.maxFiles ?? 5);
    this.size = fileSize(this.file);
  }

  info(line: string): void {
    this.write('INFO', line);
  }

  warn(line: string): void {
    this.write('WARN', line);
  }

  error(line: string): void {
    this.write('ERROR', line);
  }

  write(level: string, message: string): void {
    const at = new Date((this.options.now ?? Date.now)()).toISOString();
    const text = `${at} ${level} ${redact(message.replace(/\r?\n/g, ' ⏎ '), this.options.secrets?.() ?? [])}\n`;
    const bytes = Buffer.byteLength(text);
    try {
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      fs.appendFileSync(this.file, text, { mode: 0o600 });
      this.size += bytes;
    } catch {
      // Logging must never take the counter down (disk full is reported by the store).
    }
    this.options.mirror?.write(text);
  }

  /** main.log -> main.log.1 -> ... -> main.log.N (the oldest is dropped). */
  rotate(): void {
    const name = (i: number) => `${this.file}.${i}`;
    try {
      fs.rmSync(name(this.maxFiles), { force: true });
      for (let i = this.maxFiles - 1; i >= 1; i--) if (fs.existsSync(name(i))) fs.renameSync(name(i), name(i + 1));
      if (fs.existsSync(this.file)) fs.renameSync(this.file, name(1));
    } catch {
      // Best effort: keep appending to the current file.
    }
    this.size = fileSize(this.file);
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
