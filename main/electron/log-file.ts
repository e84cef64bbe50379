/**
 * The app's log: one line per event in `<userData>/logs/main.log`, rotated by
 * size (main.log.1 ... main.log.N), every line passed through `redact` first.
 * The file is opened without following a symlink and must be a regular file
 * of one link; the shell opens the log only after the data dir passed the
 * check openDb makes (`openShellLog`). Plain Node (no Electron import) so it
 * is unit-tested.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../runtime';
import { prepareDataDir } from '../store/data-dir';

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

const posix = process.platform !== 'win32';

/**
 * Append-only, created 0600, never through a symlink (ELOOP), and never
 * waiting on a FIFO planted in its place (ENXIO without a reader).
 */
const APPEND_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

function formatLine(level: string, message: string, options: Pick<RotatingLogOptions, 'now' | 'secrets'>): string {
  const at = new Date((options.now ?? Date.now)()).toISOString();
  return `${at} ${level} ${redact(message.replace(/\r?\n/g, ' ⏎ '), options.secrets?.() ?? [])}\n`;
}

/** A size-rotated, redacting, synchronous log file that implements the runtime's Logger. */
/** A logger's three levels, each one line through `write`. */
abstract class LevelLog implements Logger {
  abstract write(level: string, message: string): void;

  info(line: string): void {
    this.write('INFO', line);
  }

  warn(line: string): void {
    this.write('WARN', line);
  }

  error(line: string): void {
    this.write('ERROR', line);
  }
}

export class RotatingLog extends LevelLog {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private size: number;
  /** Why the last line was not written to the file (a symlink, a FIFO, a second link…); null once one was. */
  problem: string | null = null;

  constructor(private readonly options: RotatingLogOptions) {
    super();
    this.file = path.join(options.dir, options.name ?? 'main.log');
    this.maxBytes = Math.max(1024, options.maxBytes ?? 1024 * 1024);
    this.maxFiles = Math.max(1, options.maxFiles ?? 5);
    try {
      fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      this.problem = `cannot make the log dir ${options.dir}: ${(err as Error).message}`;
    }
    this.size = fileSize(this.file);
  }

  write(level: string, message: string): void {
    const text = formatLine(level, message, this.options);
    const bytes = Buffer.byteLength(text);
    try {
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      this.append(text);
      this.size += bytes;
      this.problem = null;
    } catch (err) {
      // Logging must never take the counter down (disk full is reported by the store).
      this.problem = `${this.file}: ${(err as Error).message}`;
    }
    this.options.mirror?.write(text);
  }

  /** One line, through a descriptor that is the log file itself: not a link to elsewhere, not a device or FIFO. */
  private append(text: string): void {
    // The directory itself, not a symlink planted in its place (mkdir -p accepts one).
    if (!fs.lstatSync(this.options.dir).isDirectory()) throw new Error(`the log dir ${this.options.dir} is not a directory (a symlink?): refused`);
    const fd = fs.openSync(this.file, APPEND_FLAGS, 0o600);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new Error('not a regular file: refused');
      // A hard link planted in the file's place would send the lines to another file.
      if (posix && st.nlink !== 1) throw new Error(`a file with ${st.nlink} links: refused`);
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
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
    return fs.lstatSync(file).size;
  } catch {
    return 0;
  }
}

/** The lines of a log that has no file: to the stream only (a refused data dir gets nothing). */
class StreamLog extends LevelLog {
  constructor(private readonly options: Pick<RotatingLogOptions, 'now' | 'secrets'> & { stream: NodeJS.WritableStream | null }) {
    super();
  }

  write(level: string, message: string): void {
    try {
      this.options.stream?.write(formatLine(level, message, this.options));
    } catch {
      // never fatal
    }
  }
}

export interface ShellLog {
  log: Logger;
  /** The data dir's refusal (DATA_DIR_INSECURE…): start() fails with it; null when the dir passed. */
  refused: Error | null;
  /**
   * Electron's userData (Chromium's profile, the single-instance lock): the data dir once it passed; refused,
   * a new private temp dir, so not one file lands in the refused dir while the error page shows.
   */
  userData: string;
}

/**
 * The Electron shell's first step, before it writes anything: the data dir
 * gets the check openDb makes (`prepareDataDir`: a missing dir is created
 * 0700; one another user could tamper with is refused), and only then is
 * `<dataDir>/logs/main.log` opened. Refused, the log writes to the mirror
 * (else stderr) only and nothing is created in the dir.
 */
export function openShellLog(
  dataDir: string,
  options: Omit<RotatingLogOptions, 'dir'>,
  check: (dataDir: string) => void = prepareDataDir,
): ShellLog {
  try {
    check(dataDir);
  } catch (err) {
    const log = new StreamLog({ ...options, stream: options.mirror ?? process.stderr });
    log.error(`data dir refused: ${(err as Error).message}`);
    return { log, refused: err as Error, userData: fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-refused-')) };
  }
  return { log: new RotatingLog({ ...options, dir: path.join(dataDir, 'logs') }), refused: null, userData: dataDir };
}
