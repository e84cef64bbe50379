/**
 * No secret crosses IPC: a real runtime on a temp data dir talking HTTP to
 * the sandbox gateway, activated through the handler; every channel runs
 * with a valid input and every answer (and every pushed event) is searched
 * for the terminal key (current and previous), the vendor key and the sealed
 * key blobs, as text, hex and base64.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, CHANNEL_NAMES, EVENTS, resultSchema, type Channel } from '../../main/ipc/contract';
import { createHandlerSet, forwardEvents, type Handlers } from '../../main/ipc/handlers';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import { bind, newWindow } from '../support/operators';

let sandbox: Sandbox;
let rt: Runtime;
let handlers: Handlers;
const events: Array<[string, unknown]> = [];
const answers: Array<[Channel, unknown]> = [];
let stopEvents: () => void;

async function call<C extends Channel>(channel: C, input: unknown) {
  const r = await handlers[channel](input);
  answers.push([channel, r]);
  expect(resultSchema(CHANNELS[channel].output).safeParse(r).success, channel).toBe(true);
  return r;
}

async function ok<C extends Channel>(channel: C, input: unknown) {
  const r = await call(channel, input);
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
  return r.value;
}

beforeAll(async () => {
  sandbox = await createSandbox({ host: '127.0.0.1' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-ipc-secrets-'));
  rt = createRuntime({
    dataDir,
    apiDomain: sandbox.gateway.url,
    printer: 'virtual',
    virtualPrinterUri: sandbox.printer.uri,
    timing: { firstQueryMs: 30, queryEveryMs: 60, pendingWindowMs: 1500, backoffBaseMs: 30, backoffCapMs: 200 },
    printWorker: { backoffBaseMs: 50, backoffMaxMs: 200, pollMs: 100 },
  });
  // A fresh terminal: this window bootstraps the first store IT operator in the test itself.
  const set = createHandlerSet(rt, { mode: 'sandbox', version: '9.9.9', vendor: { ...sandbox.gateway.vendor }, actor: 'test' });
  handlers = bind(set, newWindow());
  stopEvents = forwardEvents(
    rt.events,
    (event, payload) => {
      expect(EVENTS[event].safeParse(payload).success, event).toBe(true);
      events.push([event, payload]);
    },
    set.orderRow,
  );
});

afterAll(async () => {
  stopEvents?.();
  await rt?.close();
  await sandbox?.close();
});

describe('IPC secrecy (real runtime, sandbox gateway)', () => {
  it('runs every channel and leaks no key', async () => {
    const before = await ok('terminal.status', {});
    expect(before.activated).toBe(false);
    expect(await ok('session.current', {})).toMatchObject({ bootstrap: true, signedIn: null });
    const boot = await ok('operators.bootstrap', { name: 'it', pin: '958271' });
    const itId = boot.signedIn!.operatorId!;

    const code = sandbox.gateway.activationCodes()[0]!;
    const activated = await ok('terminal.activate', { code, deviceId: 'ipc-test-counter', name: 'ipc' });
    expect(activated.activated).toBe(true);
    const terminalSn = activated.terminal!.terminalSn;
    const again = await call('terminal.activate', { code: sandbox.gateway.activationCodes()[0]! });
    expect(again).toMatchObject({ ok: false, error: { code: 'ALREADY_ACTIVATED' } });
    await ok('terminal.checkin', {});

    // Two paid orders: one revoked through IPC, one imported from the gateway.
    const paid = sandbox.gateway.seedOrder({ terminalSn, totalCents: 1234, subject: '测试', operator: 'op' });
    const other = sandbox.gateway.seedOrder({ terminalSn, totalCents: 555, subject: 'other', operator: 'op' });
    rt.orders.record({ sn: paid.sn, clientSn: paid.clientSn, tradeNo: paid.tradeNo, totalCents: paid.totalCents, payway: paid.payway, paywayName: paid.paywayName, subject: paid.subject, operator: paid.operator, finishedAt: paid.finishTime, status: 'PAID' });

    const info = await ok('app.info', {});
    expect(info).toMatchObject({ version: '9.9.9', mode: 'sandbox', apiDomain: sandbox.gateway.url });
    const list = await ok('orders.list', {});
    expect(list.orders.map((o) => o.sn)).toContain(paid.sn);
    await ok('orders.list', { day: list.day });
    expect((await ok('orders.search', { text: paid.sn.slice(0, 6) })).orders.length).toBeGreaterThan(0);
    await ok('orders.search', { amountCents: 1234, day: list.day });
    expect((await ok('orders.import', { sn: other.sn })).sn).toBe(other.sn);
    await ok('orders.import', { clientSn: other.clientSn });

    const revoke = await ok('revoke.request', { sn: paid.sn });
    expect(revoke.outcome).toBe('revoked');
    expect((await ok('revoke.request', { clientSn: paid.clientSn })).id).toBe(revoke.id);
    await ok('revoke.queryAgain', { revokeId: revoke.id });
    await ok('revoke.listOpen', {});
    expect((await ok('revoke.forOrder', { sn: paid.sn }))?.id).toBe(revoke.id);
    expect(await ok('revoke.forOrder', { sn: '1' })).toBeNull();
    await ok('queue.status', {});
    await ok('queue.drain', {});

    const preview = await ok('receipt.preview', { revokeId: revoke.id });
    expect(preview?.lines.join('\n')).toContain(paid.sn);
    expect(preview?.html).not.toMatch(/<script/i);
    await ok('receipt.reprint', { revokeId: revoke.id });
    await call('receipt.preview', { revokeId: 999_999 });
    await call('receipt.reprint', { revokeId: 999_999 });
    await ok('printer.status', {});
    const test = await ok('printer.test', {});
    await ok('print.jobs', {});
    await ok('print.jobs', { state: 'pending' });
    await ok('print.retry', { jobId: test.id });
    expect(await call('print.retry', { jobId: 999_999 })).toMatchObject({ ok: false, error: { code: 'PRINT_JOB_NOT_FOUND' } });
    await ok('settings.get', {});
    const s = await ok('settings.set', { paperWidth: 58, language: 'en', kiosk: null });
    expect(s).toMatchObject({ paperWidth: 58, language: 'en', kiosk: false });
    await ok('settings.set', {});
    // Operators: never a PIN or a hash in an answer.
    const cashier = await ok('operators.add', { name: 'cashier-1', role: 'cashier', pin: '736154' });
    await ok('operators.resetPin', { operatorId: cashier.id, pin: '736155' });
    await ok('operators.setActive', { operatorId: cashier.id, active: false });
    await ok('operators.list', {});
    await ok('operators.roster', {});
    await ok('session.setLanguage', { language: 'en' });
    await ok('session.signOut', {});
    expect(await call('orders.list', {})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    await ok('session.signIn', { operatorId: itId, pin: '958271' });
    // Business errors travel as envelopes with both languages.
    const notFound = await call('revoke.queryAgain', { revokeId: 424242 });
    expect(notFound).toMatchObject({ ok: false, error: { code: 'REVOKE_NOT_FOUND', messageZh: expect.stringMatching(/撤销/) } });

    // --- refunds: a partial refund of the imported order, its receipt, a reprint, the day report.
    const refund = await ok('refund.request', { sn: other.sn, amountCents: 100 });
    expect(refund).toMatchObject({ outcome: 'refunded', amountCents: 100 });
    expect(await ok('refund.forOrder', { sn: other.sn })).toMatchObject({ refundableCents: 455, refunds: [{ id: refund.id }] });
    await ok('refund.queryAgain', { refundId: refund.id });
    expect((await ok('refund.receipt', { refundId: refund.id }))?.lines.join('\n')).toContain('退款凭证');
    await ok('refund.reprint', { refundId: refund.id });
    const day = await ok('report.day', {});
    expect(day).toMatchObject({ reconciled: true, refunds: { count: 1, cents: 100 } });
    await ok('report.print', { day: day.day });
    await ok('operations.open', {});

    // --- payments: a barcode payment, the same amount refused while one is open, a QR, its receipt, the day report.
    const payment = await ok('pay.request', { method: 'barcode', amountCents: 321, barcode: '134567890123456789' });
    expect(payment).toMatchObject({ outcome: 'paid', headlineZh: '收款成功', amountCents: 321 });
    expect((await ok('pay.receipt', { paymentId: payment.id }))?.lines.join('\n')).toContain('收款凭证');
    const qr = await ok('pay.request', { method: 'qr', amountCents: 654, payway: '3' });
    expect(qr).toMatchObject({ outcome: 'awaiting_customer', qrCode: expect.stringMatching(/^weixin:/) });
    expect(await call('pay.request', { method: 'qr', amountCents: 654, payway: '1' })).toMatchObject({ ok: false, error: { code: 'PAYMENT_SAME_AMOUNT_OPEN' } });
    expect(await ok('pay.listOpen', {})).toEqual([expect.objectContaining({ id: qr.id })]);
    await ok('pay.queryAgain', { paymentId: qr.id });
    expect(await ok('report.day', {})).toMatchObject({ counterPayments: { taken: { count: 1, cents: 321 } } });

    await rt.printing.waitForJob(test.id, 5000);
    await rt.revokes.idle();
    const used = new Set(answers.filter(([, r]) => (r as { ok: boolean }).ok).map(([c]) => c));
    expect([...used].sort()).toEqual([...CHANNEL_NAMES].sort());
    expect(events.map(([e]) => e)).toEqual(expect.arrayContaining(['revoke.updated', 'print.updated']));

    // What must never appear.
    const t = sandbox.gateway.terminal(terminalSn)!;
    const row = databaseOf(rt).prepare('SELECT sealed_key, sealed_prev_key FROM terminal').get() as { sealed_key: Buffer; sealed_prev_key: Buffer | null };
    const secrets = [t.terminalKey, t.previousKey, sandbox.gateway.vendor.vendorKey]
      .filter((s): s is string => !!s)
      .flatMap((s) => [s, s.toUpperCase(), Buffer.from(s).toString('base64'), Buffer.from(s).toString('hex')]);
    for (const blob of [row.sealed_key, row.sealed_prev_key, fs.readFileSync(path.join(rt.dataDir, 'vault.key'))]) {
      if (!blob) continue;
      secrets.push(blob.toString('hex'), blob.toString('base64'), blob.subarray(1, 17).toString('hex'), blob.subarray(-16).toString('base64'));
    }
    const hashes = databaseOf(rt).prepare('SELECT pin_hash FROM operators').pluck().all() as string[];
    secrets.push('958271', '736154', '736155', ...hashes, ...hashes.map((x) => x.split('$').pop()!));
    expect(secrets.length).toBeGreaterThan(10);
    const haystack = JSON.stringify({ answers, events });
    for (const secret of secrets) expect(haystack.includes(secret), `leaked ${secret.slice(0, 6)}...`).toBe(false);
    // Byte arrays would hide a key from a text search: no output holds one.
    expect(haystack).not.toMatch(/"type":"Buffer"/);
  });
});
