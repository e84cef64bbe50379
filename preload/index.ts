/**
 * The preload: exposes `window.pos`, one named async function per contract
 * channel plus `on(event, cb)`. The renderer never gets ipcRenderer, channel
 * names it can choose, or the Electron event object. Runs in a sandboxed
 * preload (bundled by esbuild): imports only `electron`, the channel and event
 * names (main/ipc/channels.ts, plain data) and the contract's types, so the
 * bundle carries neither zod nor the schemas.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { bridgeName, CHANNEL_NAMES, isEventName } from '../main/ipc/channels';
import type { Channel, EventName, EventPayload, PosBridge, Result } from '../main/ipc/contract';

/** The IPC calls the bridge needs (ipcRenderer in Electron, a fake in tests). */
export interface BridgeIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
}

const ipcFailed = (): Result<never> => ({
  ok: false,
  error: { code: 'IPC_FAILED', message: 'The app could not reach its main process. Restart the app.', messageZh: '应用内部通信失败，请重新启动应用。' },
});

function call(ipc: BridgeIpc, channel: Channel) {
  // A plain object is all that crosses: anything else is the main process's INVALID_INPUT to report.
  return (input?: unknown) => ipc.invoke(channel, input === undefined ? {} : input).catch(ipcFailed);
}

/** Builds the bridge object: exactly the contract's functions (BRIDGE_FUNCTIONS) plus `on`. */
export function createBridge(ipc: BridgeIpc = ipcRenderer): PosBridge {
  const on = <E extends EventName>(event: E, callback: (payload: EventPayload<E>) => void): (() => void) => {
    if (!isEventName(event)) throw new TypeError(`unknown event: ${String(event)}`);
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    // The Electron event (and its `sender`) never reaches the page.
    const listener = (_event: IpcRendererEvent, payload: unknown) => callback(payload as EventPayload<E>);
    ipc.on(event, listener);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      ipc.removeListener(event, listener);
    };
  };

  // One function per contract channel (CHANNEL_NAMES), named after it (`revoke.queryAgain` -> `revokeQueryAgain`), plus `on`.
  const bridge: Record<string, unknown> = Object.fromEntries(CHANNEL_NAMES.map((c) => [bridgeName(c), call(ipc, c)]));
  return Object.freeze({ ...bridge, on }) as PosBridge;
}

let exposed = false;

/** Exposes the bridge as `window.pos` (idempotent). Hosts call this from their own preload. */
export function exposeBridge(key = 'pos'): void {
  if (exposed) return;
  contextBridge.exposeInMainWorld(key, createBridge());
  exposed = true;
}

exposeBridge();
