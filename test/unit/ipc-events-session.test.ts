/**
 * Who receives the runtime's events: registerIpc with a fake ipcMain and fake
 * webContents (as ipc-register.test.ts), on a real runtime and the sandbox
 * gateway. An event that carries data reaches only a window whose session may
 * read that data (main/ipc/access.ts EVENT_ACCESS: the rule of the channel
 * that serves it). A window where nobody signed in gets none of them while
 * another window pays, revokes and refunds; a signed-in window gets them all;
 * a window whose session ended (sign-out, idle time, its operator disabled,
 * the window closed, a host login that forgets it) stops getting them, and
 * receiving them is no activity that keeps a session alive.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IpcMain, WebContents } from 'electron';
import { admits, CHANNEL_ACCESS, EVENT_ACCESS } from '../../main/ipc/access';
import { EVENT_NAMES, type EventName, type PaymentView, type RefundView, type RevokeView } from '../../main/ipc/contract';
import { registerIpc, type RegisterOptions } from '../../main/ipc/register';
import type { OperatorResolver } from '../../main/operators/policy';
import type { Role } from '../../main/operators/service';
import type { Revoke } from '../../main/domain';
import { createHarness, type Harness } from '../support/harness';
import { ensureOperator, ShiftClock, TEST_PINS } from '../support/operators';

type Listener = (event: unknown, input: unknown) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Listener>();
  const ipcMain = {
    handle: (channel: string, l: Listener) => void handlers.set(channel, l),
    removeHandler: (channel: string) => handlers.delete(channel),
  };
  return { ipcMain: ipcMain as unknown as IpcMain, handlers };
}

interface Sent {
  event: EventName;
  payload: unknown;
}

interface FakeWindow {
  readonly id: number;
  readonly wc: WebContents;
  readonly sent: Sent[];
  names(): Set<EventName>;
  /** An invoke from this window's top frame (app://pos), as the preload makes it. */
  call(channel: string, input?: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string } }>;
  /** The window goes away (Electron's `destroyed`). */
  close(): void;
}

let h: Harness;
let clock: ShiftClock;
let ipc: ReturnType<typeof fakeIpcMain>;
let windows: FakeWindow[];
let dispose: (() => void) | null;
let nextId = 1;

beforeEach(async () => {
  clock = new ShiftClock();
  h = await createHarness({ clock });
  ipc = fakeIpcMain();
  windows = [];
  dispose = null;
});

afterEach(async () => {
  dispose?.();
  await h.close();
});

/** registerIpc on the harness's runtime; by default the shell's list of windows (every window made so far). */
function register(extra: Partial<RegisterOptions> = {}) {
  const reg = registerIpc(h.rt, ipc.ipcMain, { mode: 'sandbox', version: 'test', vendor: null, actor: 'test', webContentsList: () => windows.map((w) => w.wc), ...extra });
  dispose = () => reg.dispose();
  return reg;
}

function openWindow(): FakeWindow {
  const sent: Sent[] = [];
  const onDestroyed: Array<() => void> = [];
  let destroyed = false;
  const mainFrame = { url: 'app://pos/index.html', origin: 'app://pos', parent: null };
  const id = nextId++;
  const wc = {
    id,
    mainFrame,
    isDestroyed: () => destroyed,
    send: (event: EventName, payload: unknown) => sent.push({ event, payload }),
    once: (name: string, fn: () => void) => {
      if (name === 'destroyed') onDestroyed.push(fn);
    },
  } as unknown as WebContents;
  const w: FakeWindow = {
    id,
    wc,
    sent,
    names: () => new Set(sent.map((s) => s.event)),
    call: async (channel, input = {}) => {
      const handler = ipc.handlers.get(channel);
      if (!handler) throw new Error(`no handler for ${channel}`);
      return (await handler({ senderFrame: mainFrame, sender: wc }, input)) as never;
    },
    close: () => {
      destroyed = true;
      for (const fn of onDestroyed.splice(0)) fn();
    },
  };
  windows.push(w);
  return w;
}

async function signIn(w: FakeWindow, role: Role): Promise<number> {
  const operatorId = await ensureOperator(h.rt, role);
  expect(await w.call('session.signIn', { operatorId, pin: TEST_PINS[role] })).toMatchObject({ ok: true, value: { signedIn: { role } } });
  return operatorId;
}

const revoke: Revoke = {
  id: 7,
  orderSn: '7894259244096169',
  clientSn: 'c-1',
  state: 'queued',
  operator: '小王',
  operatorId: 3,
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
  lastResultCode: null,
};

/** The runtime's events whose payload needs no gateway (each one carries data a signed-in channel serves). */
function emitDirect(): void {
  const ev = h.rt.events;
  ev.emit('revoke.updated', revoke);
  ev.emit('revoke.warning', { revoke, deadlineAt: 1_714_579_200_000, messageZh: '营业日即将结束', messageEn: 'The business day ends soon' });
  ev.emit('queue.changed', { queued: 1, pending: 0, sending: 0, needsAttention: 0, oldestAgeMs: 5, online: false });
  ev.emit('connectivity.changed', { online: false, at: clock.now() });
  ev.emit('printer.changed', { status: 'offline', detail: 'TCP 192.168.1.50:9100 refused' });
  ev.emit('print.updated', { jobId: 41, state: 'failed', error: 'paper out' });
}
const DIRECT: EventName[] = ['revoke.updated', 'revoke.warning', 'queue.changed', 'connectivity.changed', 'printer.changed', 'print.updated'];

const payload = <T>(w: FakeWindow, event: EventName): T[] => w.sent.filter((s) => s.event === event).map((s) => s.payload as T);

/** Lets deferred events (queue.changed is sent once per turn) go out. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('events reach only windows whose session may read their data', () => {
  it('every event carries data a signed-in channel serves: none is open to a window without a session', () => {
    expect(Object.keys(EVENT_ACCESS).sort()).toEqual([...EVENT_NAMES].sort());
    for (const name of EVENT_NAMES) expect(EVENT_ACCESS[name], name).toBe('signed-in');
    // The channels serving the same data are signed-in ones too.
    for (const c of ['revoke.listOpen', 'revoke.forOrder', 'queue.status', 'printer.status', 'print.jobs', 'refund.forOrder', 'orders.list', 'pay.listOpen'] as const) {
      expect(CHANNEL_ACCESS[c], c).toBe('signed-in');
    }
    expect(admits('signed-in', null)).toBe(false);
    expect(admits('signed-in', { role: 'cashier' })).toBe(true);
    expect(admits('store_it', { role: 'supervisor' })).toBe(false);
    expect(admits('store_it', { role: 'store_it' })).toBe(true);
    expect(admits('anyone', null)).toBe(true);
  });

  it('window 2 (only app.info) gets nothing while window 1 (a cashier) takes a QR payment, revokes and refunds; window 1 gets every event', async () => {
    register();
    const w1 = openWindow();
    const w2 = openWindow();
    await signIn(w1, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    expect(await w2.call('app.info')).toMatchObject({ ok: true, value: { apiDomain: null, dataDir: null } });

    // The repro: a QR payment at window 1. Its first update carries the QR code; the customer pays.
    const paid = await w1.call('pay.request', { method: 'qr', amountCents: 500, payway: '3' });
    expect(paid).toMatchObject({ ok: true, value: { qrCode: expect.stringMatching(/^weixin:/) } });
    const p = paid.value as PaymentView;
    await vi.waitFor(() => expect(payload<PaymentView>(w1, 'payment.updated').some((v) => v.id === p.id && v.qrCode !== null)).toBe(true), { timeout: 10_000 });
    h.sandbox.gateway.customerPays(p.clientSn);
    await vi.waitFor(() => expect(payload<PaymentView>(w1, 'payment.updated').some((v) => v.id === p.id && v.state === 'paid')).toBe(true), { timeout: 10_000 });
    expect(await w2.call('pay.listOpen')).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });

    // A revoke at window 1: revoke.updated and the order's row.
    const o1 = h.paidOrder();
    expect(await w1.call('revoke.request', { sn: o1.sn })).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(payload<RevokeView>(w1, 'revoke.updated').some((v) => v.orderSn === o1.sn && v.state === 'revoked')).toBe(true), { timeout: 10_000 });
    expect(payload<{ orders: Array<{ sn: string }> }>(w1, 'orders.changed').some((v) => v.orders.some((o) => o.sn === o1.sn))).toBe(true);

    // A refund at window 1 (the cashier needs a supervisor's PIN by default).
    const o2 = h.paidOrder();
    expect(await w1.call('refund.request', { sn: o2.sn, approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } })).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(payload<RefundView>(w1, 'refund.updated').some((v) => v.orderSn === o2.sn && v.state === 'refunded')).toBe(true), { timeout: 10_000 });

    // The rest: printer, print jobs, connectivity, a deadline warning.
    emitDirect();
    await settle();

    expect([...w1.names()].sort()).toEqual([...EVENT_NAMES].sort());
    expect(w2.sent).toEqual([]);
    // Window 2 is refused the same data by the channels.
    for (const c of ['queue.status', 'orders.list', 'revoke.listOpen', 'operations.open', 'print.jobs', 'printer.status']) {
      expect(await w2.call(c), c).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    }

    // Once signed in, window 2 gets the next ones (and reads what it missed by its channels).
    await signIn(w2, 'supervisor');
    emitDirect();
    expect([...w2.names()].sort()).toEqual([...DIRECT].sort());
    expect(await w2.call('pay.listOpen')).toMatchObject({ ok: true });
  });

  it('a window that signs out stops receiving; signing in again brings the events back', async () => {
    register();
    const w1 = openWindow();
    const other = openWindow();
    await signIn(w1, 'cashier');
    await signIn(other, 'supervisor');
    emitDirect();
    expect([...w1.names()].sort()).toEqual([...DIRECT].sort());

    expect(await w1.call('session.signOut')).toMatchObject({ ok: true, value: { signedIn: null } });
    const before = w1.sent.length;
    emitDirect();
    // A payment at the other window: its updates reach that window only.
    const paid = await other.call('pay.request', { method: 'qr', amountCents: 700, payway: '1' });
    expect(paid).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(payload<PaymentView>(other, 'payment.updated').length).toBeGreaterThan(0), { timeout: 10_000 });
    await settle();
    expect(w1.sent.slice(before)).toEqual([]);

    await signIn(w1, 'cashier');
    emitDirect();
    expect(w1.sent.length).toBeGreaterThan(before);
  });

  it('a session that idled out stops receiving at once; receiving events is no activity that keeps it alive', async () => {
    h.rt.updateSettings({ sessionIdleMinutes: 2 }, 'test');
    register();
    const w1 = openWindow();
    await signIn(w1, 'cashier');
    clock.offset += 60_000;
    emitDirect();
    expect(w1.names().has('queue.changed')).toBe(true);
    clock.offset += 60_000 + 1;
    const before = w1.sent.length;
    emitDirect();
    expect(w1.sent.slice(before)).toEqual([]);

    // Meanwhile another operator pays at another window: the idled-out counter's sign-in screen hears nothing of it.
    const w3 = openWindow();
    await signIn(w3, 'supervisor');
    const paid = await w3.call('pay.request', { method: 'qr', amountCents: 900, payway: '3' });
    expect(paid).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(payload<PaymentView>(w3, 'payment.updated').length).toBeGreaterThan(0), { timeout: 10_000 });
    await settle();
    expect(w1.sent.slice(before)).toEqual([]);
    expect(await w1.call('pay.listOpen')).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
  });

  it('a session ended by store IT (operator disabled) stops receiving; store IT keeps receiving', async () => {
    register();
    const w1 = openWindow();
    const it_ = openWindow();
    const cashierId = await signIn(w1, 'cashier');
    await signIn(it_, 'store_it');
    expect(await it_.call('operators.setActive', { operatorId: cashierId, active: false })).toMatchObject({ ok: true });
    const before = { w1: w1.sent.length, it: it_.sent.length };
    emitDirect();
    expect(w1.sent.slice(before.w1)).toEqual([]);
    expect(it_.sent.length - before.it).toBe(DIRECT.length);
  });

  it('without the shell list: a window that only called app.info gets nothing; a signed-in one that closes gets nothing more', async () => {
    register({ webContentsList: undefined });
    const w1 = openWindow();
    const w2 = openWindow();
    await signIn(w1, 'cashier');
    expect(await w2.call('app.info')).toMatchObject({ ok: true });
    emitDirect();
    expect([...w1.names()].sort()).toEqual([...DIRECT].sort());
    expect(w2.sent).toEqual([]);

    const before = w1.sent.length;
    w1.close();
    emitDirect();
    expect(w1.sent.length).toBe(before);
  });

  it('with a host login: a window receives while the host says someone is there, nothing once it says nobody, and nothing when it throws', async () => {
    let present: 'yes' | 'no' | 'throws' = 'yes';
    const resolveOperator: OperatorResolver = () => {
      if (present === 'throws') throw new Error('host login unavailable');
      return present === 'yes' ? { id: null, name: 'host cashier', role: 'cashier' } : null;
    };
    register({ resolveOperator });
    const w1 = openWindow();
    emitDirect();
    expect(w1.sent.length).toBe(DIRECT.length);
    present = 'no';
    emitDirect();
    present = 'throws';
    expect(() => emitDirect()).not.toThrow();
    expect(w1.sent.length).toBe(DIRECT.length);
  });
});
