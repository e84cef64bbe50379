/**
 * The preload exposes exactly the contract's functions plus `on`, forwards
 * each call as ipcRenderer.invoke(channel, input), and strips the Electron
 * event from listeners. Electron is replaced by a fake module.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BRIDGE_FUNCTIONS, CHANNEL_NAMES, type PosBridge } from '../../main/ipc/contract';
import * as preload from '../../preload/index';

const fake = vi.hoisted(() => {
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  return {
    exposed: new Map<string, unknown>(),
    listeners,
    invoke: vi.fn(async (channel: string, input: unknown) => ({ ok: true, value: { channel, input } })),
  };
});

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => {
      if (fake.exposed.has(key)) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
      fake.exposed.set(key, api);
    },
  },
  ipcRenderer: {
    invoke: fake.invoke,
    on: (channel: string, l: (...args: unknown[]) => void) => {
      if (!fake.listeners.has(channel)) fake.listeners.set(channel, new Set());
      fake.listeners.get(channel)!.add(l);
    },
    removeListener: (channel: string, l: (...args: unknown[]) => void) => fake.listeners.get(channel)?.delete(l),
    send: () => {
      throw new Error('the bridge must not use send');
    },
  },
}));

const bridge = fake.exposed.get('pos') as PosBridge;

const emit = (channel: string, payload: unknown) => {
  const fakeEvent = { sender: { secret: 'ipcRenderer' }, ports: [] };
  for (const l of fake.listeners.get(channel) ?? []) l(fakeEvent, payload);
};

describe('preload bridge', () => {
  beforeEach(() => fake.invoke.mockClear());

  it('is exposed as window.pos on load, once', () => {
    expect(fake.exposed.size).toBe(1);
    expect(bridge).toBeDefined();
    expect(() => preload.exposeBridge()).not.toThrow();
    expect(fake.exposed.size).toBe(1);
  });

  it('holds exactly the contract functions plus on, all functions, frozen', () => {
    const expected = [...Object.values(BRIDGE_FUNCTIONS), 'on'].sort();
    expect(Object.keys(bridge).sort()).toEqual(expected);
    for (const k of Object.keys(bridge)) expect(typeof (bridge as unknown as Record<string, unknown>)[k]).toBe('function');
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.keys(bridge)).not.toContain('invoke');
    expect(Object.keys(bridge)).not.toContain('ipcRenderer');
  });

  it('each function invokes its own channel with the input (or {})', async () => {
    for (const channel of CHANNEL_NAMES) {
      const fn = (bridge as unknown as Record<string, (input?: unknown) => Promise<unknown>>)[BRIDGE_FUNCTIONS[channel]]!;
      await expect(fn({ probe: channel })).resolves.toEqual({ ok: true, value: { channel, input: { probe: channel } } });
      await expect(fn()).resolves.toEqual({ ok: true, value: { channel, input: {} } });
    }
    expect(fake.invoke).toHaveBeenCalledTimes(CHANNEL_NAMES.length * 2);
    for (const call of fake.invoke.mock.calls) expect(CHANNEL_NAMES as string[]).toContain(call[0]);
  });

  it('a failed invoke becomes an IPC_FAILED envelope, not a rejection', async () => {
    fake.invoke.mockRejectedValueOnce(new Error("No handler registered for 'queue.status'"));
    await expect(bridge.queueStatus()).resolves.toMatchObject({ ok: false, error: { code: 'IPC_FAILED' } });
  });

  it('on() subscribes to contract events only, strips the Electron event, and unsubscribes', () => {
    const seen: unknown[][] = [];
    const off = bridge.on('queue.changed', (...args: unknown[]) => seen.push(args));
    emit('queue.changed', { queued: 1 });
    expect(seen).toEqual([[{ queued: 1 }]]);
    off();
    off();
    emit('queue.changed', { queued: 2 });
    expect(seen).toHaveLength(1);
    expect(fake.listeners.get('queue.changed')?.size ?? 0).toBe(0);
  });

  it('on() refuses channel names that are not contract events', () => {
    for (const name of ['revoke.request', 'terminal.activate', 'ELECTRON_BROWSER_REQUIRE', '', 'constructor', '__proto__']) {
      expect(() => bridge.on(name as never, () => {})).toThrow(/unknown event/);
    }
    expect(() => bridge.on('revoke.updated', 'not a function' as never)).toThrow(/callback/);
  });

  it('createBridge works with any ipc implementation (hosts, tests)', async () => {
    const calls: unknown[] = [];
    const b = preload.createBridge({ invoke: async (...a: unknown[]) => (calls.push(a), { ok: true, value: null }), on: () => {}, removeListener: () => {} });
    await b.revokeForOrder({ sn: '1' });
    expect(calls).toEqual([['revoke.forOrder', { sn: '1' }]]);
  });
});
