/**
 * Bad input, property-based (fast-check): every IPC channel through
 * createHandlers (main/ipc/handlers.ts) and every CLI flag through
 * `main(argv, io)` (main/cli.ts) in-process with fake streams, on a temp data
 * dir with an activated terminal, a few orders and a revoked one, and the
 * gateway pointing at a closed loopback port so nothing leaves.
 *
 * Oracle for IPC: the channel's own zod input schema (CHANNELS[c].input).
 * A payload it refuses must come back `{ ok: false, error: { code:
 * 'INVALID_INPUT' } }` with every table unchanged; a payload it accepts may do
 * its work but must still answer with a Result (never throw). For the CLI the
 * generated argv carry at least one element that must be refused (unknown
 * flag, bad value, missing value, extra positional, unknown command): exit
 * code 2, one JSON document `{ error: { code } }` on stdout, tables unchanged;
 * a second, looser mode throws random flag bags at the safe commands and only
 * asks for no crash, a valid exit code and a typed error when it fails.
 * Throughout: no exception escapes, no unhandled rejection, Object.prototype
 * untouched.
 *
 * The IPC fuzz calls as a signed-in store IT window (so a valid payload gets
 * past the policy and does its work), re-signed in whenever a payload signed
 * it out. A second pass (runPolicyFuzz) calls every channel that needs more
 * than "anyone" from a window with no session and from a cashier's: every
 * answer must be a refusal (INVALID_INPUT, OPERATOR_REQUIRED, ROLE_REQUIRED,
 * APPROVAL_REQUIRED) with every table unchanged.
 */
import fc from 'fast-check';
import { Writable } from 'node:stream';
import { main } from '../../main/cli';
import { CHANNELS, CHANNEL_NAMES, type Channel } from '../../main/ipc/contract';
import { CHANNEL_ACCESS } from '../../main/ipc/access';
import { createHandlerSet, type HandlerSet } from '../../main/ipc/handlers';
import type { Caller } from '../../main/operators/sessions';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { createSandbox } from '../../main/sandbox';
import { closedPort } from './chaos-net';
import { activate, dumpDb, middayOffset, offsetClock, seedPaid, tempDir } from './chaos-env';
import { expect } from 'vitest';

export interface FuzzResult {
  payloads: number;
  refused: number;
  accepted: number;
  crashes: string[];
  untyped: string[];
  stateChanges: string[];
  unhandled: number;
  prototypePolluted: boolean;
  elapsedMs: number;
}

const emptyResult = (): FuzzResult => ({
  payloads: 0,
  refused: 0,
  accepted: 0,
  crashes: [],
  untyped: [],
  stateChanges: [],
  unhandled: 0,
  prototypePolluted: false,
  elapsedMs: 0,
});

// ------------------------------------------------------------------ fixture

export interface FuzzFixture {
  dataDir: string;
  apiDomain: string;
  rt: Runtime;
  sns: string[];
  revokeIds: number[];
  /** Operator ids: store IT, a supervisor, a cashier (PINs 9999, 2222, 1111). */
  operators: { storeIt: number; supervisor: number; cashier: number };
  close(): Promise<void>;
}

/** The hash cost in the fuzz runtime: valid PINs are hashed and checked often here; the cost is not under test. */
const FUZZ_PIN_COST = { N: 2 ** 10, r: 8, p: 1 };

/** A data dir with an activated terminal, 5 orders and 2 revoked ones; then the gateway goes away. */
export async function fuzzFixture(): Promise<FuzzFixture> {
  const clock = offsetClock(middayOffset());
  const dataDir = tempDir('upay-pos-fuzz-');
  const sb = await createSandbox({ clock });
  const sns: string[] = [];
  const revokeIds: number[] = [];
  try {
    const rt0 = createRuntime({ dataDir, apiDomain: sb.gateway.url, clock, printer: 'none', startWorkers: false });
    const t = await activate(rt0, sb.gateway);
    for (let i = 0; i < 5; i++) sns.push(seedPaid(rt0, sb.gateway, t, i).sn);
    for (const sn of sns.slice(0, 2)) revokeIds.push((await rt0.revokes.request({ sn }, 'op', 'test')).id);
    // A big order: a cashier's revoke of it needs a supervisor's approval.
    sns.push(seedPaid(rt0, sb.gateway, t, 0, { totalCents: 900_000 }).sn);
    await rt0.close();
  } finally {
    await sb.close();
  }
  const apiDomain = `http://127.0.0.1:${await closedPort()}`;
  const rt = createRuntime({ dataDir, apiDomain, clock, printer: 'none', startWorkers: false, timeoutMs: 500, pinCost: FUZZ_PIN_COST });
  const operators = {
    storeIt: (await rt.operators.add({ name: 'fuzz-it', role: 'store_it', pin: '9999' }, 'test')).id,
    supervisor: (await rt.operators.add({ name: 'fuzz-supervisor', role: 'supervisor', pin: '2222' }, 'test')).id,
    cashier: (await rt.operators.add({ name: 'fuzz-cashier', role: 'cashier', pin: '1111' }, 'test')).id,
  };
  return { dataDir, apiDomain, rt, sns, revokeIds, operators, close: () => rt.close() };
}

// --------------------------------------------------------------- arbitraries

const NASTY_STRINGS = [
  '',
  ' ',
  "' OR 1=1; --",
  "'; DROP TABLE orders; --",
  '1; DELETE FROM revokes',
  '%',
  '_',
  '\\',
  '\u0000',
  '\u202e撤销',
  '撤销凭证',
  '𠜎𠜱𠝹',
  '🙂',
  '\ud800',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  '9007199254740993',
  '00000000000000000',
  '2026-02-30',
  '2026-13-01',
  '12345678901234567',
  'null',
  'undefined',
  '{"__proto__":{"polluted":1}}',
];

const POISON_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];

const keyArb = fc.oneof(
  fc.constantFrom(...POISON_KEYS, 'sn', 'clientSn', 'revokeId', 'jobId', 'day', 'text', 'operator', 'code', 'state', 'pin', 'operatorId', 'approval', 'role', 'name', 'active'),
  fc.string({ maxLength: 12 }),
);

const hugeString = fc.oneof(
  fc.integer({ min: 33, max: 200_000 }).map((n) => '9'.repeat(n)),
  fc.integer({ min: 65, max: 100_000 }).map((n) => '撤'.repeat(n)),
  fc.integer({ min: 1, max: 5_000 }).map((n) => "' OR 1=1 --".repeat(n)),
);

export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(NaN, Infinity, -Infinity, -0, 0, -1, 1.5, 2 ** 53, 1e21, true, false, null, undefined) },
  { weight: 1, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.date() },
  { weight: 2, arbitrary: fc.anything({ key: keyArb, maxDepth: 2, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }) },
);

/** An object with own (enumerable) poison keys, as JSON.parse would build it. */
const poisoned: fc.Arbitrary<unknown> = fc.tuple(fc.constantFrom(...POISON_KEYS), weirdValue).map(([k, v]) => {
  const o = JSON.parse(`{"${k}": {"polluted": true}}`) as Record<string, unknown>;
  Object.defineProperty(o, k === '__proto__' ? '__proto__' : k, { value: v ?? { polluted: true }, enumerable: true, configurable: true, writable: true });
  return o;
});

/** A valid-looking input for the channel with one field broken, or an extra key, or anything at all. */
function channelPayload(ch: Channel, fx: Pick<FuzzFixture, 'sns' | 'revokeIds' | 'operators'>): fc.Arbitrary<unknown> {
  const { sns, revokeIds, operators: op } = fx;
  const bases: Record<string, Array<Record<string, unknown>>> = {
    'orders.list': [{ day: '2026-05-22' }],
    'orders.search': [{ text: sns[0], amountCents: 100, day: '2026-05-22' }],
    'orders.import': [{ sn: sns[0] }, { clientSn: 'C1' }],
    'revoke.request': [{ sn: sns[2] }, { clientSn: 'C1' }, { sn: sns[5], approval: { operatorId: op.supervisor, pin: '2222' } }],
    'revoke.queryAgain': [{ revokeId: revokeIds[0] }],
    'revoke.forOrder': [{ sn: sns[0] }],
    'receipt.preview': [{ revokeId: revokeIds[0] }],
    'receipt.reprint': [{ revokeId: revokeIds[0] }],
    'print.jobs': [{ state: 'pending' }],
    'print.retry': [{ jobId: 1 }],
    'terminal.activate': [{ code: '10000001', deviceId: 'd', name: 'n', force: true }],
    'settings.set': [{ paperWidth: 58, language: 'en', printer: 'none', retentionDays: 30, revokeApproval: 'above', sessionIdleMinutes: 15 }],
    // --- operators
    'session.signIn': [{ operatorId: op.cashier, pin: '1111' }],
    'session.setLanguage': [{ language: 'en' }],
    'operators.bootstrap': [{ name: 'fuzz-boot', pin: '1234' }],
    'operators.add': [{ name: 'fuzz-new', role: 'cashier', pin: '1234' }],
    'operators.setActive': [{ operatorId: op.cashier, active: false }],
    'operators.resetPin': [{ operatorId: op.cashier, pin: '1111' }],
  };
  const base = bases[ch] ?? [{}];
  const broken = fc.tuple(fc.constantFrom(...base), fc.nat(), weirdValue).map(([b, i, v]) => {
    const keys = Object.keys(b);
    const o: Record<string, unknown> = { ...b };
    if (keys.length) o[keys[i % keys.length]!] = v;
    return o;
  });
  const extraKey = fc.tuple(fc.constantFrom(...base), keyArb, weirdValue).map(([b, k, v]) => {
    const o: Record<string, unknown> = { ...b };
    Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
    return o;
  });
  return fc.oneof({ weight: 4, arbitrary: broken }, { weight: 2, arbitrary: extraKey }, { weight: 2, arbitrary: weirdValue }, { weight: 1, arbitrary: poisoned });
}

// ---------------------------------------------------------------- helpers

function protoSnapshot(): string {
  return Object.getOwnPropertyNames(Object.prototype).sort().join(',');
}

function isPolluted(before: string): boolean {
  return protoSnapshot() !== before || ({} as Record<string, unknown>).polluted !== undefined;
}

function describe(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
    return (s ?? String(v)).slice(0, 160);
  } catch {
    return String(v).slice(0, 160);
  }
}

/** Runs `body` counting unhandled rejections (and a moment after, for stragglers); fills in the count and the time. */
async function tracked(res: FuzzResult, body: () => Promise<void>): Promise<FuzzResult> {
  const started = Date.now();
  const unhandled = trackUnhandled();
  try {
    await body();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    unhandled.stop();
  }
  res.unhandled = unhandled.count();
  res.elapsedMs = Date.now() - started;
  return res;
}

function trackUnhandled(): { count: () => number; stop: () => void } {
  let n = 0;
  const on = () => {
    n++;
  };
  process.on('unhandledRejection', on);
  return { count: () => n, stop: () => process.off('unhandledRejection', on) };
}

// ---------------------------------------------------------------- IPC fuzz

export async function runIpcFuzz(fx: FuzzFixture, options: { runs: number; seed: number }): Promise<FuzzResult> {
  const res = emptyResult();
  const set = fuzzHandlers(fx);
  const window: Caller = { windowId: 1 };
  // Signed in as store IT (sessions made directly: a payload may sign this window out, or in as someone else).
  const storeIt = () => {
    const s = set.sessions.lookup(window, false);
    if (!s || 'expired' in s || s.session.role !== 'store_it') set.sessions.signIn(window, { id: fx.operators.storeIt, name: 'fuzz-it', role: 'store_it' });
  };
  const proto = protoSnapshot();
  const perChannel = Math.max(1, Math.ceil(options.runs / CHANNEL_NAMES.length));
  return tracked(res, async () => {
    for (const [i, ch] of CHANNEL_NAMES.entries()) {
      const handler = set.handlers[ch] as (input: unknown, caller?: Caller) => Promise<unknown>;
      await fc.assert(
        fc.asyncProperty(channelPayload(ch, fx), async (payload) => {
          res.payloads++;
          storeIt();
          // The handlers take a missing input (ipcRenderer.invoke(channel)) as {}.
          const valid = (CHANNELS[ch].input as { safeParse(v: unknown): { success: boolean } }).safeParse(payload === undefined ? {} : payload).success;
          const before = valid ? '' : dumpDb(databaseOf(fx.rt));
          let out: unknown;
          try {
            out = await handler(payload, window);
          } catch (err) {
            res.crashes.push(`${ch} ${describe(payload)}: threw ${(err as Error).message}`);
            return;
          }
          const r = out as { ok?: unknown; error?: { code?: unknown } };
          if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean' || (r.ok === false && typeof r.error?.code !== 'string')) {
            res.untyped.push(`${ch} ${describe(payload)}: ${describe(out)}`);
            return;
          }
          if (valid) {
            res.accepted++;
          } else {
            res.refused++;
            if (r.ok !== false || r.error?.code !== 'INVALID_INPUT') res.untyped.push(`${ch} ${describe(payload)}: expected INVALID_INPUT, got ${describe(out)}`);
            if (dumpDb(databaseOf(fx.rt)) !== before) res.stateChanges.push(`${ch} ${describe(payload)}`);
          }
          if (isPolluted(proto)) res.prototypePolluted = true;
        }),
        { numRuns: perChannel, seed: options.seed + i, endOnFailure: true },
      );
    }
  });
}

function fuzzHandlers(fx: FuzzFixture): HandlerSet {
  return createHandlerSet(fx.rt, {
    mode: 'sandbox',
    version: '0.0.0-fuzz',
    vendor: { appId: '2026112600000001', vendorSn: '91801234', vendorKey: '5f2b9c7e1d4a8036b9e0c4d7a2f61e58' },
    deviceId: 'fuzz',
  });
}

/** What a refusal by the policy (or the input check before it) may answer. */
const POLICY_REFUSALS = new Set(['INVALID_INPUT', 'OPERATOR_REQUIRED', 'ROLE_REQUIRED', 'APPROVAL_REQUIRED']);

/**
 * Every channel beyond `anyone`, from a window with no session and from a
 * cashier's (store-IT channels, and revoke.request of an order above the
 * approval threshold without approval): refused, every table unchanged.
 */
export async function runPolicyFuzz(fx: FuzzFixture, options: { runs: number; seed: number }): Promise<FuzzResult> {
  const res = emptyResult();
  const set = fuzzHandlers(fx);
  const nobody: Caller = { windowId: 2 };
  const cashier: Caller = { windowId: 3 };
  const targets: Array<[Channel, Caller, string]> = [];
  for (const ch of CHANNEL_NAMES) {
    if (CHANNEL_ACCESS[ch] === 'anyone') continue;
    targets.push([ch, nobody, 'no session']);
    if (CHANNEL_ACCESS[ch] === 'store_it') targets.push([ch, cashier, 'cashier']);
  }
  const bigOrder = fx.sns[5]!;
  const proto = protoSnapshot();
  const perTarget = Math.max(1, Math.ceil(options.runs / (targets.length + 1)));
  return tracked(res, async () => {
    const check = async (ch: Channel, caller: Caller, who: string, payload: unknown) => {
      res.payloads++;
      set.sessions.signOut(nobody);
      set.sessions.signIn(cashier, { id: fx.operators.cashier, name: 'fuzz-cashier', role: 'cashier' });
      const before = dumpDb(databaseOf(fx.rt));
      let out: unknown;
      try {
        out = await (set.handlers[ch] as (input: unknown, caller?: Caller) => Promise<unknown>)(payload, caller);
      } catch (err) {
        res.crashes.push(`${ch} as ${who} ${describe(payload)}: threw ${(err as Error).message}`);
        return;
      }
      const r = out as { ok?: unknown; error?: { code?: unknown } };
      if (r?.ok !== false || typeof r.error?.code !== 'string' || !POLICY_REFUSALS.has(r.error.code)) {
        res.untyped.push(`${ch} as ${who} ${describe(payload)}: expected a refusal, got ${describe(out)}`);
      } else res.refused++;
      if (dumpDb(databaseOf(fx.rt)) !== before) res.stateChanges.push(`${ch} as ${who} ${describe(payload)}`);
      if (isPolluted(proto)) res.prototypePolluted = true;
    };
    for (const [i, [ch, caller, who]] of targets.entries()) {
      await fc.assert(
        fc.asyncProperty(channelPayload(ch, fx), (payload) => check(ch, caller, who, payload)),
        { numRuns: perTarget, seed: options.seed + 1000 + i, endOnFailure: true },
      );
    }
    // A cashier's revoke above the threshold with no (or a broken) approval.
    const revokes = fc.oneof(
      fc.constant<unknown>({ sn: bigOrder }),
      weirdValue.map((pin) => ({ sn: bigOrder, approval: { operatorId: fx.operators.supervisor, pin } })),
      weirdValue.map((approval) => ({ sn: bigOrder, approval })),
    );
    await fc.assert(
      fc.asyncProperty(revokes, (payload) => check('revoke.request', cashier, 'cashier above the threshold', payload)),
      { numRuns: perTarget, seed: options.seed + 999, endOnFailure: true },
    );
  });
}

// ---------------------------------------------------------------- CLI fuzz

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Commands and their flags, from main/cli.ts COMMAND_OPTIONS (sandbox/demo only ever with a refused element). */
const COMMANDS: Record<string, string[]> = {
  activate: ['--app-id', '--code', '--device-id', '--vendor-sn', '--vendor-key', '--name', '--force'],
  checkin: [],
  status: [],
  'orders list': ['--day'],
  'orders import': ['--sn', '--client-sn'],
  revoke: ['--sn', '--client-sn', '--operator', '--wait'],
  'revoke query': ['--sn', '--client-sn'],
  'queue list': [],
  'queue drain': ['--timeout'],
  'receipt reprint': ['--sn', '--client-sn'],
  'receipt show': ['--sn', '--client-sn'],
  'printer status': [],
  'printer test': [],
  'settings get': [],
  'settings set': [],
  sandbox: ['--port', '--printer-port', '--host'],
  demo: [],
};
const BOOLEAN_FLAGS = new Set(['--force', '--json', '--help', '--version']);

/** A flag with a value that command's validation must refuse (before any I/O). */
const badValue: Record<string, fc.Arbitrary<string>> = {
  '--day': fc.constantFrom('2026-02-30', 'today', '2026-5-1', "' OR 1=1", '2026-13-01', ''),
  '--sn': fc.constantFrom('abc', '12345678901234567', "1' OR '1'='1", '-1', '１２３', ''),
  '--client-sn': fc.constantFrom('X'.repeat(33), ''),
  '--operator': fc.constantFrom('', 'o'.repeat(33)),
  '--wait': fc.constantFrom('-1', 'abc', '3601', '1.5', '999999'),
  '--timeout': fc.constantFrom('-1', 'abc', '3601', '1e3'),
  '--timeout-ms': fc.constantFrom('99', '120001', 'abc', '-5', '1e5', ''),
  '--printer': fc.constantFrom('bogus://x', 'tcp://', 'tcp://host:99999', ''),
  '--api-domain': fc.constantFrom('ftp://x', 'not a url', 'javascript:alert(1)', ''),
  '--port': fc.constantFrom('70000', 'abc', '-1'),
  '--printer-port': fc.constantFrom('65536', 'x'),
  '--device-id': fc.constant('d'.repeat(129)),
};

/** Global flags whose explicitly empty value must be refused (it used to be taken as absent). */
export const EMPTY_GLOBAL_FLAGS = ['--timeout-ms', '--printer', '--api-domain', '--data-dir'];

const VALID_WORDS = ['2026-05-22', '1', '7890000000000001', 'C1', 'op', 'none', 'paperWidth=58', 'x=y'];
const anyToken = fc.oneof(fc.constantFrom(...NASTY_STRINGS, ...VALID_WORDS), fc.string({ unit: 'grapheme', maxLength: 20 }));

interface CliCase {
  argv: string[];
  /** true: the argv carries an element that must be refused. */
  mustRefuse: boolean;
  why: string;
}

function cliCase(): fc.Arbitrary<CliCase> {
  const cmd = fc.constantFrom(...Object.keys(COMMANDS));
  const flagBag = (c: string) =>
    fc.array(
      fc.tuple(fc.constantFrom(...COMMANDS[c]!.filter((f) => f !== '--wait' && f !== '--timeout'), '--json'), anyToken),
      { maxLength: 3 },
    );
  const refused: fc.Arbitrary<CliCase> = cmd.chain((c) => {
    const own = COMMANDS[c]!;
    const withBad = own.filter((f) => badValue[f]);
    const kinds: Array<fc.Arbitrary<{ tail: string[]; why: string }>> = [
      fc.string({ minLength: 1, maxLength: 12 }).map((s) => ({ tail: [`--zz-${s.replace(/[=\s]/g, '')}`], why: 'unknown flag' })),
      // `sandbox` and `demo` do not check --printer/--api-domain (see the report): only --timeout-ms there.
      fc.constantFrom(...(c === 'sandbox' || c === 'demo' ? ['--timeout-ms'] : ['--timeout-ms', '--printer', '--api-domain'])).chain((f) => badValue[f]!.map((v) => ({ tail: [f, v], why: `bad ${f}` }))),
      fc.constantFrom(...['--json', '--force'].filter((f) => c !== 'activate' || f !== '--force')).map((f) => ({ tail: [`${f}=yes`], why: 'value on a boolean' })),
      // (--operator is a global flag: accepted by every command, so it is no foreign flag.)
      fc.constantFrom('--sn', '--day', '--wait', '--port').map((f) => ({ tail: own.includes(f) ? [f] : [f, 'x'], why: 'missing value / foreign flag' })),
    ];
    if (withBad.length) kinds.push(fc.constantFrom(...withBad).chain((f) => badValue[f]!.map((v) => ({ tail: [`${f}=${v}`], why: `bad ${f}` }))));
    if (c !== 'settings set') kinds.push(fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.startsWith('-')).map((s) => ({ tail: [s], why: 'extra positional' })));
    if (c === 'revoke' || c === 'orders import' || c === 'revoke query' || c === 'receipt show' || c === 'receipt reprint') {
      kinds.push(fc.constant({ tail: ['--sn', '1', '--client-sn', 'C1'], why: 'both sn and client-sn' }));
    }
    if (c === 'settings set') {
      kinds.push(fc.constantFrom('paperWidth=59', 'retentionDays=0', 'language=fr', 'nosuch=1', 'printer=bogus://x', '=', '__proto__=1', 'constructor=x').map((p) => ({ tail: [p], why: 'bad setting' })));
    }
    return fc.tuple(flagBag(c).map((bag) => bag.flatMap(([f, v]) => (BOOLEAN_FLAGS.has(f) ? [f] : [f, v]))), fc.oneof(...kinds)).map(([bag, bad]) => ({
      argv: [...c.split(' '), ...bag.filter((t) => !/^--(data-dir|api-domain)/.test(t)), ...bad.tail],
      mustRefuse: true,
      why: bad.why,
    }));
  });
  const unknownCommand: fc.Arbitrary<CliCase> = fc
    .array(anyToken, { minLength: 1, maxLength: 4 })
    .filter((ws) => !!ws[0] && !ws[0].startsWith('-') && !(ws[0] in COMMANDS) && !['orders', 'queue', 'receipt', 'printer', 'settings', 'revoke', 'sandbox', 'demo'].includes(ws[0]))
    .map((ws) => ({ argv: ws.filter((w) => !w.startsWith('-')), mustRefuse: true, why: 'unknown command' }));
  // Loose mode: random flag bags on commands that neither wait nor serve.
  const safe = ['status', 'orders list', 'queue list', 'settings get', 'revoke query', 'receipt show', 'orders import', 'checkin', 'activate'];
  const loose: fc.Arbitrary<CliCase> = fc
    .constantFrom(...safe)
    .chain((c) => fc.tuple(fc.constant(c), flagBag(c)))
    .map(([c, bag]) => ({ argv: [...c.split(' '), ...bag.flatMap(([f, v]) => (BOOLEAN_FLAGS.has(f) ? [f] : [f, v]))], mustRefuse: false, why: 'loose' }));
  return fc.oneof({ weight: 6, arbitrary: refused }, { weight: 1, arbitrary: unknownCommand }, { weight: 2, arbitrary: loose });
}

export async function runCliFuzz(fx: FuzzFixture, options: { runs: number; seed: number }): Promise<FuzzResult> {
  const res = emptyResult();
  const proto = protoSnapshot();
  // The CLI opens its own runtime on the data dir: the fixture's stays open only as the reader.
  return tracked(res, async () => {
    await fc.assert(
      fc.asyncProperty(cliCase(), async (c) => {
        res.payloads++;
        const argv = ['--data-dir', fx.dataDir, '--api-domain', fx.apiDomain, '--json', ...c.argv];
        const before = dumpDb(databaseOf(fx.rt));
        const stdout = new Sink();
        const stderr = new Sink();
        let code: number;
        try {
          code = await main(argv, { stdout, stderr, env: { UPAY_POS_QUIET: '1' } });
        } catch (err) {
          res.crashes.push(`${describe(c.argv)}: threw ${(err as Error).message}`);
          return;
        }
        if (![0, 1, 2, 3, 4].includes(code)) res.untyped.push(`${describe(c.argv)}: exit ${code}`);
        let doc: { error?: { code?: unknown } } | undefined;
        const lines = stdout.text.trim().split('\n').filter(Boolean);
        try {
          doc = lines.length === 1 ? (JSON.parse(lines[0]!) as typeof doc) : undefined;
        } catch {
          doc = undefined;
        }
        if (c.mustRefuse) {
          res.refused++;
          if (code !== 2 || typeof doc?.error?.code !== 'string') {
            res.untyped.push(`${c.why} ${describe(c.argv)}: exit ${code}, stdout ${stdout.text.slice(0, 200)}`);
          }
          if (dumpDb(databaseOf(fx.rt)) !== before) res.stateChanges.push(`${c.why} ${describe(c.argv)}`);
        } else {
          res.accepted++;
          if (code !== 0 && code !== 3 && code !== 4 && typeof doc?.error?.code !== 'string') {
            res.untyped.push(`loose ${describe(c.argv)}: exit ${code}, stdout ${stdout.text.slice(0, 200)}`);
          }
          if (code === 2 && dumpDb(databaseOf(fx.rt)) !== before) res.stateChanges.push(`loose ${describe(c.argv)}`);
        }
        if (isPolluted(proto)) res.prototypePolluted = true;
      }),
      { numRuns: options.runs, seed: options.seed, endOnFailure: true },
    );
  });
}

/** What every fuzz run must show: no crash, a typed answer for everything, no state change, no pollution. */
export function expectClean(r: FuzzResult): void {
  expect(r.crashes).toEqual([]);
  expect(r.untyped).toEqual([]);
  expect(r.stateChanges).toEqual([]);
  expect(r.unhandled).toBe(0);
  expect(r.prototypePolluted).toBe(false);
}
