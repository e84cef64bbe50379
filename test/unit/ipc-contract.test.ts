/**
 * Contract parity: every channel has input/output schemas, a handler and a
 * bridge function; every handler refuses malformed input with a typed
 * INVALID_INPUT envelope before it touches the runtime.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BRIDGE_FUNCTIONS, CHANNELS, CHANNEL_NAMES, EVENTS, EVENT_NAMES, resultSchema, type Channel } from '../../main/ipc/contract';
import { createHandlers } from '../../main/ipc/handlers';
import type { Runtime } from '../../main/runtime';

/** A runtime that fails the test if a handler reaches it. */
const untouchable = new Proxy({} as Runtime, {
  get(_t, prop) {
    throw new Error(`handler touched runtime.${String(prop)} with invalid input`);
  },
});
const handlers = createHandlers(untouchable, { mode: 'sandbox', version: '0.0.0-test', vendor: null });

/** A host app's login (the embedding path): store IT at window 1, without touching the runtime's operators. */
const hostLogin = { resolveOperator: () => ({ id: null, name: 'host-it', role: 'store_it' as const }) };
const WINDOW = { windowId: 1 };

const camel = (c: string) => c.split('.').map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');

/** Malformed inputs valid for no channel. */
const ALWAYS_BAD: unknown[] = [null, 'x', 42, true, [], ['a'], { __proto__: null, evil: 1 }, { extra: 1 }];

/** Per channel: inputs that must be refused, with the field the error must name. */
const BAD: Record<Channel, Array<[unknown, string]>> = {
  'app.info': [[{ a: 1 }, 'a']],
  'terminal.status': [[{ force: true }, 'force']],
  'terminal.activate': [
    [{}, 'code'],
    [{ code: 12345678 }, 'code'],
    [{ code: '' }, 'code'],
    [{ code: 'x'.repeat(65) }, 'code'],
    [{ code: '1', deviceId: 'd'.repeat(129) }, 'deviceId'],
    [{ code: '1', force: 'yes' }, 'force'],
    [{ code: '1', vendorKey: 'k' }, 'vendorKey'],
    [{ code: '1', appId: 'a' }, 'appId'],
  ],
  'terminal.checkin': [[{ x: 1 }, 'x']],
  'orders.list': [
    [{ day: '2024-1-1' }, 'day'],
    [{ day: '2024-02-30' }, 'day'],
    [{ day: 20240101 }, 'day'],
  ],
  'orders.search': [
    [{ text: 'x'.repeat(33) }, 'text'],
    [{ text: 'x'.repeat(1_000_000) }, 'text'],
    [{ amountCents: 0 }, 'amountCents'],
    [{ amountCents: 1.5 }, 'amountCents'],
    [{ amountCents: '100' }, 'amountCents'],
    [{ limit: 5 }, 'limit'],
  ],
  'orders.import': [
    [{}, 'sn'],
    [{ sn: 'abc' }, 'sn'],
    [{ sn: '1'.repeat(17) }, 'sn'],
    [{ clientSn: 'c'.repeat(33) }, 'clientSn'],
    [{ sn: '1', clientSn: 'c' }, 'clientSn'],
  ],
  'revoke.request': [
    [{}, 'sn'],
    [{ sn: 123 }, 'sn'],
    // Who voids is the signed-in operator, decided in main: the renderer cannot name one.
    [{ sn: '1', operator: '张三' }, 'operator'],
    [{ sn: '1', approval: { operatorId: 1 } }, 'approval.pin'],
    [{ sn: '1', approval: { operatorId: 1, pin: '12' } }, 'approval.pin'],
    [{ sn: '1', approval: { operatorId: 0, pin: '1234' } }, 'approval.operatorId'],
    [{ clientSn: '' }, 'clientSn'],
    [{ sn: '1', terminalKey: 'k' }, 'terminalKey'],
  ],
  'revoke.queryAgain': [
    [{}, 'revokeId'],
    [{ revokeId: 0 }, 'revokeId'],
    [{ revokeId: -1 }, 'revokeId'],
    [{ revokeId: '1' }, 'revokeId'],
    [{ revokeId: 1.2 }, 'revokeId'],
    [{ revokeId: Number.MAX_SAFE_INTEGER + 2 }, 'revokeId'],
  ],
  'revoke.listOpen': [[{ all: true }, 'all']],
  'revoke.forOrder': [
    [{}, 'sn'],
    [{ sn: 'x' }, 'sn'],
  ],
  'queue.status': [[{ x: 1 }, 'x']],
  'queue.drain': [[{ x: 1 }, 'x']],
  'receipt.preview': [[{ revokeId: 'x' }, 'revokeId']],
  'receipt.reprint': [[{}, 'revokeId']],
  'printer.status': [[{ uri: 'tcp://x' }, 'uri']],
  'printer.test': [[{ x: 1 }, 'x']],
  'print.jobs': [[{ state: 'done' }, 'state']],
  'print.retry': [
    [{}, 'jobId'],
    [{ jobId: 0 }, 'jobId'],
  ],
  'settings.get': [[{ key: 'x' }, 'key']],
  'settings.set': [
    [{ paperWidth: 57 }, 'paperWidth'],
    [{ language: 'fr' }, 'language'],
    [{ retentionDays: 0 }, 'retentionDays'],
    [{ apiDomain: 'javascript:alert(1)' }, 'apiDomain'],
    [{ apiDomain: 'https://' + 'a'.repeat(300) + '.com' }, 'apiDomain'],
    [{ printer: 'p'.repeat(201) }, 'printer'],
    [{ allowBasicTextVault: true }, 'allowBasicTextVault'],
    [{ timeoutMs: 1000 }, 'timeoutMs'],
    [{ revokeApproval: 'sometimes' }, 'revokeApproval'],
    [{ revokeApprovalAboveCents: -1 }, 'revokeApprovalAboveCents'],
    [{ sessionIdleMinutes: 0 }, 'sessionIdleMinutes'],
  ],
  // --- operators
  'session.current': [[{ operatorId: 1 }, 'operatorId']],
  'session.signIn': [
    [{}, 'operatorId'],
    [{ operatorId: 1 }, 'pin'],
    [{ operatorId: 1, pin: 1234 }, 'pin'],
    [{ operatorId: 1, pin: '123' }, 'pin'],
    [{ operatorId: 1, pin: '123456789' }, 'pin'],
    [{ operatorId: 1, pin: '12a4' }, 'pin'],
    [{ operatorId: 1, pin: '1234', role: 'store_it' }, 'role'],
  ],
  'session.signOut': [[{ operatorId: 1 }, 'operatorId']],
  'session.setLanguage': [
    [{}, 'language'],
    [{ language: 'fr' }, 'language'],
  ],
  'operators.roster': [[{ all: true }, 'all']],
  'operators.bootstrap': [
    [{ name: 'it' }, 'pin'],
    [{ name: '', pin: '1234' }, 'name'],
    [{ name: 'it', pin: '1234', role: 'cashier' }, 'role'],
  ],
  'operators.list': [[{ pins: true }, 'pins']],
  'operators.add': [
    [{ name: 'a', pin: '1234' }, 'role'],
    [{ name: 'a', role: 'admin', pin: '1234' }, 'role'],
    [{ name: 'n'.repeat(33), role: 'cashier', pin: '1234' }, 'name'],
    [{ name: 'a', role: 'cashier', pin: '12345678901' }, 'pin'],
    [{ name: 'a', role: 'cashier', pin: '1234', pinHash: 'x' }, 'pinHash'],
  ],
  'operators.setActive': [
    [{ operatorId: 1 }, 'active'],
    [{ operatorId: 1, active: 'no' }, 'active'],
  ],
  'operators.resetPin': [
    [{ operatorId: 1 }, 'pin'],
    [{ operatorId: '1', pin: '1234' }, 'operatorId'],
  ],
  // --- refunds
  'refund.request': [
    [{}, 'sn'],
    [{ sn: '7895259244061958', amountCents: 0 }, 'amountCents'],
    [{ sn: '7895259244061958', amountCents: 12.5 }, 'amountCents'],
    [{ sn: '7895259244061958', amountCents: -100 }, 'amountCents'],
    [{ sn: '7895259244061958', amountCents: '100' }, 'amountCents'],
    [{ sn: '7895259244061958', approval: { operatorId: 1, pin: 'abcd' } }, 'approval.pin'],
    [{ sn: '7895259244061958', operatorId: 1 }, 'operatorId'],
  ],
  'refund.queryAgain': [[{ refundId: 0 }, 'refundId']],
  'refund.forOrder': [[{ sn: 'x' }, 'sn']],
  'refund.receipt': [[{ refundId: -1 }, 'refundId']],
  'refund.reprint': [[{ refundId: 'a' }, 'refundId']],
  'report.day': [[{ day: '2026-02-30' }, 'day']],
  'report.print': [[{ day: 'today' }, 'day']],
  'operations.open': [[{ kind: 'refund' }, 'kind']],
  // --- payments
  'pay.request': [
    [{ method: 'barcode', amountCents: 100, barcode: '123' }, 'barcode'],
    [{ method: 'barcode', amountCents: 0, barcode: '1345678901' }, 'amountCents'],
    [{ method: 'qr', amountCents: 100, payway: 'bitcoin' }, 'payway'],
    [{ method: 'barcode', amountCents: 100, barcode: '1345678901', approver: 'x' }, 'approver'],
  ],
  'pay.queryAgain': [[{ paymentId: 0 }, 'paymentId']],
  'pay.listOpen': [[{ all: true }, 'all']],
  'pay.receipt': [[{ paymentId: 'x' }, 'paymentId']],
};

describe('contract parity', () => {
  it('every channel has schemas, a handler and a camelCase bridge function', () => {
    expect(CHANNEL_NAMES.length).toBeGreaterThan(0);
    for (const c of CHANNEL_NAMES) {
      expect(CHANNELS[c].input, c).toBeDefined();
      expect(CHANNELS[c].output, c).toBeDefined();
      expect(typeof handlers[c], c).toBe('function');
      expect(BRIDGE_FUNCTIONS[c], c).toBe(camel(c));
    }
    expect(Object.keys(handlers).sort()).toEqual([...CHANNEL_NAMES].sort());
    expect(Object.keys(BRIDGE_FUNCTIONS).sort()).toEqual([...CHANNEL_NAMES].sort());
    expect(new Set(Object.values(BRIDGE_FUNCTIONS)).size).toBe(CHANNEL_NAMES.length);
    expect(Object.values(BRIDGE_FUNCTIONS)).not.toContain('on');
    expect(Object.keys(BAD).sort()).toEqual([...CHANNEL_NAMES].sort());
  });

  it('the spec table lists exactly these channels and events', () => {
    const spec = fs.readFileSync(path.join(__dirname, '../../docs/ipc-contract-spec.md'), 'utf8');
    const inTable = [...spec.matchAll(/^\| `([a-zA-Z.]+)` \|/gm)].map((m) => m[1]);
    expect(inTable.sort()).toEqual([...CHANNEL_NAMES].sort());
    for (const e of EVENT_NAMES) expect(spec).toContain(`\`${e}\``);
  });

  it('event names never collide with channel names', () => {
    for (const e of EVENT_NAMES) expect(CHANNEL_NAMES as string[]).not.toContain(e);
    expect(Object.keys(EVENTS).length).toBe(9);
  });

  it('inputs are strict: a secret-looking extra key is refused by every schema', () => {
    for (const c of CHANNEL_NAMES) {
      const probe = { terminal_key: 'x' };
      expect(CHANNELS[c].input.safeParse(probe).success, c).toBe(false);
    }
  });

  it('a client_sn is counted in bytes as the gateway counts it: 13 Chinese characters (39 bytes) are refused, 10 (30 bytes) pass', () => {
    expect(CHANNELS['orders.import'].input.safeParse({ clientSn: '收'.repeat(13) }).success).toBe(false);
    expect(CHANNELS['revoke.request'].input.safeParse({ clientSn: '收'.repeat(13) }).success).toBe(false);
    expect(CHANNELS['orders.import'].input.safeParse({ clientSn: '收'.repeat(10) }).success).toBe(true);
  });
});

describe('handlers refuse malformed input with INVALID_INPUT', () => {
  for (const c of CHANNEL_NAMES) {
    it(c, async () => {
      for (const input of ALWAYS_BAD) {
        const r = await handlers[c](input);
        expect(r.ok, `${c} ${JSON.stringify(input)}`).toBe(false);
        if (!r.ok) expect(r.error.code).toBe('INVALID_INPUT');
      }
      for (const [input, field] of BAD[c]) {
        const r = await handlers[c](input);
        expect(resultSchema(CHANNELS[c].output).safeParse(r).success).toBe(true);
        expect(r.ok, `${c} ${JSON.stringify(input).slice(0, 80)}`).toBe(false);
        if (r.ok) continue;
        expect(r.error.code).toBe('INVALID_INPUT');
        expect(r.error.details?.field, `${c} ${JSON.stringify(input).slice(0, 80)}`).toBe(field);
        expect(r.error.message).toContain(field);
        expect(r.error.messageZh).toContain(field);
        expect(r.error.messageZh).toMatch(/输入无效/);
        expect(r.error.message.length).toBeLessThan(300);
      }
    });
  }
});

describe('handler envelopes', () => {
  it('activation without vendor credentials is VENDOR_NOT_CONFIGURED (checked before the runtime)', async () => {
    const r = await createHandlers(untouchable, { mode: 'sandbox', version: '0.0.0-test', vendor: null, ...hostLogin })['terminal.activate']({ code: '10000001' }, WINDOW);
    expect(r).toMatchObject({ ok: false, error: { code: 'VENDOR_NOT_CONFIGURED' } });
  });

  it('a runtime failure becomes an envelope, never a throw', async () => {
    const broken = { queueStatus: () => { throw new Error('disk on fire'); } } as unknown as Runtime;
    const r = await createHandlers(broken, { mode: 'production', version: '1', vendor: null, ...hostLogin })['queue.status']({}, WINDOW);
    expect(r).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('an output that does not fit the contract is refused (defence in depth)', async () => {
    const leaky = { queueStatus: () => ({ queued: 0, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: null, online: true, terminalKey: 'abc' }) } as unknown as Runtime;
    // toQueueStatusView picks fields, so the key is dropped rather than refused:
    const r = await createHandlers(leaky, { mode: 'production', version: '1', vendor: null, ...hostLogin })['queue.status']({}, WINDOW);
    expect(r).toEqual({ ok: true, value: { queued: 0, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: null, online: true } });
    const wrong = { queueStatus: () => ({ queued: -1, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: null, online: true }) } as unknown as Runtime;
    const r2 = await createHandlers(wrong, { mode: 'production', version: '1', vendor: null, ...hostLogin })['queue.status']({}, WINDOW);
    expect(r2).toMatchObject({ ok: false, error: { code: 'INVALID_OUTPUT' } });
  });

  it('undefined input means {}', async () => {
    const rt = { queueStatus: () => ({ queued: 0, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: null, online: false }) } as unknown as Runtime;
    const r = await createHandlers(rt, { mode: 'production', version: '1', vendor: null, ...hostLogin })['queue.status'](undefined, WINDOW);
    expect(r.ok).toBe(true);
  });
});
