/**
 * registerIpc with a fake ipcMain: one handler per channel, foreign senders
 * refused with FORBIDDEN_SENDER before the runtime is touched, runtime
 * events pushed (as views) only to windows showing the app (and, here, signed
 * in: ipc-events-session.test.ts has who receives what). Also: loading
 * `upay-pos/main` never loads Electron.
 */
import { describe, expect, it, vi } from 'vitest';
import type { IpcMain, WebContents } from 'electron';
import { CHANNEL_NAMES } from '../../main/ipc/contract';
import { registerIpc } from '../../main/ipc/register';
import { RuntimeEvents } from '../../main/events';
import type { Runtime } from '../../main/runtime';
import type { Revoke } from '../../main/domain';
// With electron mocked to throw, this static import fails the file if main/index (or anything it loads) needs electron.
import * as mod from '../../main/index';

vi.mock('electron', () => {
  throw new Error('electron must not be loaded by main/index or main/ipc');
});

type Listener = (event: unknown, ...args: unknown[]) => unknown;

function fakeIpcMain() {
  const handlers = new Map<string, Listener>();
  const ipcMain = {
    handle: (channel: string, l: Listener) => {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, l);
    },
    removeHandler: (channel: string) => handlers.delete(channel),
  };
  return { ipcMain: ipcMain as unknown as IpcMain, handlers };
}

function fakeRuntime() {
  const warnings: string[] = [];
  const queueStatus = vi.fn(() => ({ queued: 1, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: 5, online: true }));
  const runtime = {
    events: new RuntimeEvents(),
    logger: { info: () => {}, warn: (l: string) => warnings.push(l), error: () => {} },
    queueStatus,
  } as unknown as Runtime;
  return { runtime, warnings, queueStatus };
}

const frame = (url: string, parent: unknown = null) => ({ url, origin: new URL(url).protocol === 'app:' ? 'app://pos' : new URL(url).origin, parent });
const event = (url: string, parent: unknown = null, sender: unknown = undefined) => ({ senderFrame: frame(url, parent), sender });

/** A host login where every window is signed in as a cashier (events need a session). */
const everyoneSignedIn = () => ({ id: null, name: 'host', role: 'cashier' as const });

let nextWindowId = 100;

function fakeWindow(url: string) {
  const sent: Array<[string, unknown]> = [];
  const wc = {
    id: nextWindowId++,
    mainFrame: frame(url),
    isDestroyed: () => false,
    send: (channel: string, payload: unknown) => sent.push([channel, payload]),
    once: () => {},
  };
  return { wc: wc as unknown as WebContents, sent };
}

const revoke: Revoke = {
  id: 7,
  orderSn: '7894259244096169',
  clientSn: 'c-1',
  state: 'pending',
  operator: null,
  operatorId: null,
  approverId: null,
  approverName: null,
  requestedAt: 1,
  updatedAt: 2,
  attempts: 1,
  queries: 0,
  nextAttemptAt: 3,
  deadlineDay: '2024-05-01',
  revokedAt: null,
  error: null,
  lastResultCode: 'CANCEL_IN_PROGRESS',
};

describe('registerIpc', () => {
  it('registers one handler per channel and removes them on dispose', () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const reg = registerIpc(fakeRuntime().runtime, ipcMain, { mode: 'sandbox', version: '1', vendor: null });
    expect([...handlers.keys()].sort()).toEqual([...CHANNEL_NAMES].sort());
    reg.dispose();
    expect(handlers.size).toBe(0);
  });

  it('answers the app page and refuses every other sender with FORBIDDEN_SENDER', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const { runtime, warnings, queueStatus } = fakeRuntime();
    // A host login that knows window 7 only: the handler gets the sender's webContents id as its caller.
    registerIpc(runtime, ipcMain, { mode: 'sandbox', version: '1', vendor: null, resolveOperator: (c) => (c.windowId === 7 ? { id: null, name: 'host', role: 'cashier' } : null) });
    const call = handlers.get('queue.status')!;

    await expect(call(event('app://pos/index.html', null, { id: 7, once: () => {} }), {})).resolves.toMatchObject({ ok: true, value: { queued: 1 } });
    await expect(call(event('app://pos/index.html', null, { id: 8, once: () => {} }), {})).resolves.toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    expect(queueStatus).toHaveBeenCalledTimes(1);

    const top = frame('app://pos/index.html');
    for (const e of [
      event('https://evil.example/'),
      event('http://localhost:3000/'),
      event('file:///etc/passwd'),
      event('app://pos/index.html', top),
      { senderFrame: null },
    ]) {
      await expect(call(e, {})).resolves.toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER', messageZh: expect.any(String), message: expect.any(String) } });
    }
    expect(queueStatus).toHaveBeenCalledTimes(1);
    expect(warnings.length).toBe(5);
  });

  it('a custom isAllowedSender replaces the default', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    registerIpc(fakeRuntime().runtime, ipcMain, { mode: 'sandbox', version: '1', vendor: null, isAllowedSender: () => false });
    await expect(handlers.get('queue.status')!(event('app://pos/'), {})).resolves.toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
  });

  it('pushes events as contract views to app windows only', () => {
    const { ipcMain } = fakeIpcMain();
    const { runtime } = fakeRuntime();
    const app = fakeWindow('app://pos/index.html');
    const foreign = fakeWindow('https://evil.example/');
    const reg = registerIpc(runtime, ipcMain, { mode: 'sandbox', version: '1', vendor: null, resolveOperator: everyoneSignedIn, webContentsList: () => [app.wc, foreign.wc] });
    runtime.events.emit('revoke.updated', revoke);
    runtime.events.emit('printer.changed', { status: 'on_fire', detail: null });
    expect(foreign.sent).toEqual([]);
    expect(app.sent.map(([c]) => c)).toEqual(['revoke.updated', 'printer.changed']);
    const view = app.sent[0]![1] as Record<string, unknown>;
    expect(view).toMatchObject({ id: 7, outcome: 'pending', deadlineDay: '2024-05-01' });
    expect(view).not.toHaveProperty('lastResultCode');
    expect(view).not.toHaveProperty('nextAttemptAt');
    expect(app.sent[1]![1]).toEqual({ status: 'unknown', detail: null });
    reg.dispose();
    runtime.events.emit('revoke.updated', revoke);
    expect(app.sent).toHaveLength(2);
  });

  it('a session is bound to the window that signed in and ends when that window goes away', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const { runtime } = fakeRuntime();
    Object.assign(runtime, {
      clock: { now: () => Date.now() },
      settings: () => ({ sessionIdleMinutes: 15, sessionMaxHours: 12, revokeApproval: 'above', revokeApprovalAboveCents: 50_000, refundApproval: 'always', refundApprovalAboveCents: 50_000, payApproval: 'never', payApprovalAboveCents: 100_000 }),
      operators: { verify: async () => ({ id: 3, name: '小王', role: 'cashier' }), noteSession: () => true, count: () => 1, get: () => undefined, sessionEpoch: () => 0 },
    });
    registerIpc(runtime, ipcMain, { mode: 'sandbox', version: '1', vendor: null });
    const destroyed: Array<() => void> = [];
    const sender = { id: 7, once: (name: string, fn: () => void) => name === 'destroyed' && destroyed.push(fn) };
    const at = (s: unknown) => event('app://pos/index.html', null, s);
    await expect(handlers.get('session.signIn')!(at(sender), { operatorId: 3, pin: '1234' })).resolves.toMatchObject({ ok: true, value: { signedIn: { name: '小王' } } });
    await expect(handlers.get('queue.status')!(at(sender), {})).resolves.toMatchObject({ ok: true });
    await expect(handlers.get('queue.status')!(at({ id: 8, once: () => {} }), {})).resolves.toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    for (const fn of destroyed) fn();
    await expect(handlers.get('queue.status')!(at(sender), {})).resolves.toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
  });

  it('without webContentsList, events go to the windows that called', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const { runtime } = fakeRuntime();
    registerIpc(runtime, ipcMain, { mode: 'sandbox', version: '1', vendor: null, resolveOperator: everyoneSignedIn });
    const w = fakeWindow('app://pos/index.html');
    runtime.events.emit('queue.changed', { queued: 0, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: null, online: false });
    expect(w.sent).toHaveLength(0);
    await handlers.get('queue.status')!(event('app://pos/index.html', null, w.wc), {});
    runtime.events.emit('queue.changed', { queued: 0, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: null, online: false });
    expect(w.sent).toEqual([['queue.changed', { queued: 0, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: null, online: false }]]);
  });

  it('loading upay-pos/main (main/index) does not load electron', () => {
    expect(typeof mod.registerIpc).toBe('function');
    expect(typeof mod.createRuntime).toBe('function');
    expect(typeof mod.createSandbox).toBe('function');
    expect(typeof mod.createHandlers).toBe('function');
    expect(mod.CHANNELS).toBeDefined();
  });
});
