#!/usr/bin/env node
/**
 * `upay-pos`: the store IT command line, on the same runtime as the app.
 * Contract (README "CLI"): global flags anywhere, each with an env fallback;
 * `--json` prints exactly one JSON document on stdout (progress and logs go
 * to stderr); exit codes 0 success, 2 invalid input or usage, 3 rejected or
 * expired, 4 not final yet, 1 anything else.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultDataDir, pick } from './config';
import { invalidInput, PosError, toPosError } from './errors';
import { checkGatewayUrl } from './upay/gateway-url';
import { runCommand, USAGE, type CliContext } from './cli/commands';
import { FLEET_OPTIONS } from './cli/fleet';

export const EXIT = { ok: 0, failure: 1, usage: 2, rejected: 3, notFinal: 4 } as const;

const GLOBAL_OPTIONS = {
  'data-dir': { type: 'string' },
  'api-domain': { type: 'string' },
  printer: { type: 'string' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  /** Who runs the command (audit log, revoke rows); default: the OS user. Never a PIN. */
  operator: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** Every command's own options; global ones are accepted everywhere. */
export const COMMAND_OPTIONS: Record<string, NonNullable<ParseArgsConfig['options']>> = {
  activate: {
    'app-id': { type: 'string' },
    code: { type: 'string' },
    'device-id': { type: 'string' },
    'vendor-sn': { type: 'string' },
    'vendor-key-file': { type: 'string' },
    'vendor-key-stdin': { type: 'boolean' },
    'vendor-key': { type: 'string' },
    name: { type: 'string' },
    force: { type: 'boolean' },
    'allow-open-operations': { type: 'boolean' },
  },
  checkin: {},
  status: {},
  'orders list': { day: { type: 'string' } },
  'orders import': { sn: { type: 'string' }, 'client-sn': { type: 'string' } },
  revoke: { sn: { type: 'string' }, 'client-sn': { type: 'string' }, wait: { type: 'string' } },
  'revoke query': { sn: { type: 'string' }, 'client-sn': { type: 'string' } },
  'queue list': {},
  'queue drain': { timeout: { type: 'string' } },
  'receipt reprint': { sn: { type: 'string' }, 'client-sn': { type: 'string' } },
  'receipt show': { sn: { type: 'string' }, 'client-sn': { type: 'string' } },
  'receipt jobs': { state: { type: 'string' } },
  'receipt retry': { job: { type: 'string' } },
  'printer status': {},
  'printer test': {},
  'settings get': {},
  'settings set': {},
  'settings unset': {},
  sandbox: { port: { type: 'string' }, 'printer-port': { type: 'string' }, host: { type: 'string' } },
  demo: {},
  // --- operators
  'operators list': {},
  'operators add': { name: { type: 'string' }, role: { type: 'string' } },
  'operators disable': { id: { type: 'string' }, name: { type: 'string' } },
  'operators enable': { id: { type: 'string' }, name: { type: 'string' } },
  'operators reset-pin': { id: { type: 'string' }, name: { type: 'string' } },
  'operators unlock': { id: { type: 'string' }, name: { type: 'string' } },
  // --- refunds
  refund: { sn: { type: 'string' }, 'client-sn': { type: 'string' }, amount: { type: 'string' }, full: { type: 'boolean' }, wait: { type: 'string' } },
  'refund query': { id: { type: 'string' } },
  'report day': { day: { type: 'string' }, csv: { type: 'boolean' }, print: { type: 'boolean' } },
  // --- payments
  pay: { amount: { type: 'string' }, barcode: { type: 'string' }, qr: { type: 'boolean' }, payway: { type: 'string' }, subject: { type: 'string' }, wait: { type: 'string' } },
  'pay query': { 'client-sn': { type: 'string' }, id: { type: 'string' } },
  ...FLEET_OPTIONS,
};

const GROUPS = new Set(['orders', 'queue', 'receipt', 'printer', 'settings', 'operators', 'report', 'fleet']);

export class UsageError extends PosError {
  constructor(message: string) {
    super('USAGE', `用法错误：${message}`, message);
  }
}

export interface ParsedCli {
  command: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  global: {
    dataDir: string;
    apiDomain: string | undefined;
    printer: string | undefined;
    timeoutMs: number | undefined;
    json: boolean;
    operator: string | undefined;
  };
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): ParsedCli | { help: true; json: boolean } | { version: true } {
  // First pass: find the command words among the positionals (flags may stand anywhere).
  const loose = parseArgs({ args: argv, options: allOptions(), strict: false, allowPositionals: true });
  const words = loose.positionals;
  if (loose.values.version) return { version: true };
  if (words.length === 0 || loose.values.help) return { help: true, json: loose.values.json === true };
  const first = words[0]!;
  const two = `${first} ${words[1] ?? ''}`.trim();
  const command = GROUPS.has(first) || COMMAND_OPTIONS[two] ? two : first;
  const spec = COMMAND_OPTIONS[command];
  if (!spec) throw new UsageError(`unknown command "${command}" (try --help)`);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...spec }, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  refuseRepeated(command, spec, parsed.tokens);
  const extra = parsed.positionals.slice(command.split(' ').length);
  if (extra.length && command !== 'settings set' && command !== 'settings unset') throw new UsageError(`unexpected argument "${extra[0]}" for ${command}`);
  const v = parsed.values as Record<string, string | boolean | undefined>;
  // An empty value (often an unset shell variable) must not silently fall back to the app's own data dir or gateway.
  for (const name of ['data-dir', 'api-domain', 'printer', 'timeout-ms']) {
    if (v[name] === '') throw new UsageError(`--${name} must not be empty`);
  }
  const timeoutText = pick<string>(v['timeout-ms'] as string | undefined, env.UPAY_POS_TIMEOUT_MS);
  let timeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    if (!/^\d{1,6}$/.test(timeoutText) || Number(timeoutText) < 100 || Number(timeoutText) > 120_000) {
      throw new UsageError('--timeout-ms must be a whole number of milliseconds from 100 to 120000');
    }
    timeoutMs = Number(timeoutText);
  }
  const operator = v.operator as string | undefined;
  if (operator !== undefined && (operator.trim().length === 0 || operator.length > 32 || /[\p{Cc}\p{Cf}]/u.test(operator))) {
    throw invalidInput('--operator', 'must be 1-32 printable characters', '须为 1-32 个可打印字符');
  }
  return {
    command,
    values: v,
    positionals: extra,
    global: {
      dataDir: pick<string>(v['data-dir'] as string | undefined, env.UPAY_POS_DATA_DIR) ?? defaultDataDir(env),
      apiDomain: gatewayOf(v['api-domain'] as string | undefined, env.UPAY_API_DOMAIN),
      printer: pick<string>(v.printer as string | undefined, env.UPAY_POS_PRINTER),
      timeoutMs,
      json: v.json === true,
      operator: operator?.trim(),
    },
  };
}

/** Commands that take money: a flag of theirs given twice is refused (which `--amount` or `--barcode` was meant?). */
const ONE_VALUE_EACH = new Set(['pay', 'pay query']);

/**
 * parseArgs keeps the last of a repeated flag; for a payment that would charge
 * whichever amount or payment code came last. Refused instead (exit 2, before
 * any I/O): the command's own flags and --operator (who is recorded).
 */
function refuseRepeated(command: string, spec: NonNullable<ParseArgsConfig['options']>, tokens: Array<{ kind: string; name?: string }> | undefined): void {
  if (!ONE_VALUE_EACH.has(command) || !tokens) return;
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name === undefined || !(t.name in spec || t.name === 'operator')) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} given more than once`);
    seen.add(t.name);
  }
}

/** The run's gateway from --api-domain or UPAY_API_DOMAIN, refused up front (exit 2) when it breaks the https rule. */
function gatewayOf(flag: string | undefined, env: string | undefined): string | undefined {
  if (flag !== undefined) return checkGatewayUrl(flag, '--api-domain');
  if (env !== undefined && env !== '') return checkGatewayUrl(env, 'UPAY_API_DOMAIN');
  return undefined;
}

function allOptions(): NonNullable<ParseArgsConfig['options']> {
  const all: NonNullable<ParseArgsConfig['options']> = { ...GLOBAL_OPTIONS };
  for (const spec of Object.values(COMMAND_OPTIONS)) Object.assign(all, spec);
  return all;
}

export async function main(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv; stdin?: NodeJS.ReadableStream },
): Promise<number> {
  const wantsJson = argv.includes('--json');
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv, io.env);
  } catch (err) {
    return report(toPosError(err), wantsJson, io);
  }
  if ('version' in parsed) {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  if ('help' in parsed) {
    if (parsed.json) io.stdout.write(JSON.stringify({ usage: USAGE }) + '\n');
    else io.stdout.write(USAGE);
    return EXIT.ok;
  }
  let printed = false;
  const ctx: CliContext = {
    ...parsed,
    out: (doc: unknown, human: string) => {
      printed = true;
      io.stdout.write(parsed.global.json ? JSON.stringify(doc) + '\n' : human.endsWith('\n') ? human : human + '\n');
    },
    progress: (line: string) => {
      io.stderr.write(line + '\n');
    },
    env: io.env,
    stdin: io.stdin ?? process.stdin,
  };
  try {
    return await runCommand(ctx);
  } catch (err) {
    // A failure after the command's document was printed (closing the runtime, say) goes to stderr only:
    // stdout stays exactly one JSON document.
    return report(toPosError(err), parsed.global.json && !printed, io);
  }
}

export const VERSION = '0.1.0';

/** One line on stderr (and the JSON document on stdout with --json); never a stack trace. */
function report(err: PosError, json: boolean, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): number {
  const code = exitCodeFor(err);
  io.stderr.write(`upay-pos: ${err.code}: ${err.messageEn}\n`);
  if (json) {
    io.stdout.write(
      JSON.stringify({ error: { code: err.code, message: err.messageEn, messageZh: err.messageZh, ...(err.details ? { details: err.details } : {}) } }) + '\n',
    );
  }
  return code;
}

export function exitCodeFor(err: PosError): number {
  if (['USAGE', 'INVALID_INPUT', 'SETTING_INVALID', 'ALREADY_ACTIVATED'].includes(err.code)) return EXIT.usage;
  return EXIT.failure;
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`upay-pos: INTERNAL: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
