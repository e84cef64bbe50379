/**
 * The preload: exposes `window.pos`, one named async function per contract
 * channel plus `on(event, cb)`. The renderer never gets ipcRenderer, channel
 * names it can choose, or the Electron event object. Runs in a sandboxed
 * preload (bundled by esbuild): imports only `electron` and the contract's types.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Channel, EventName, EventPayload, InputOf, OutputOf, PosBridge, Result } from '../main/ipc/contract';

/**
 * The contract's event names. Types only come from the contract, so the
 * sandboxed preload bundle does not carry zod and every schema; the compiler
 * checks this list against the contract both ways.
 */
const EVENT_NAMES = ['revoke.updated', 'revoke.warning', 'queue.changed', 'connectivity.changed', 'printer.changed', 'print.updated'] as const satisfies readonly EventName[];
type MissingEvent = Exclude<EventName, (typeof EVENT_NAMES)[number]>;
const allEventsListed: [MissingEvent] extends [never] ? true : MissingEvent = true;
void allEventsListed;

const isEventName = (name: unknown): name is EventName => typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);

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
  // Written out so a reviewer sees every function the page gets; a unit test checks it against BRIDGE_FUNCTIONS.
  const invoke = <C extends Channel>(channel: C) => call(ipc, channel) as (input?: InputOf<C>) => Promise<Result<OutputOf<C>>>;

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

  const bridge = {
    appInfo: invoke('app.info'),
    terminalStatus: invoke('terminal.status'),
    terminalActivate: invoke('terminal.activate'),
    terminalCheckin: invoke('terminal.checkin'),
    ordersList: invoke('orders.list'),
    ordersSearch: invoke('orders.search'),
    ordersImport: invoke('orders.import'),
    revokeRequest: invoke('revoke.request'),
    revokeQueryAgain: invoke('revoke.queryAgain'),
    revokeListOpen: invoke('revoke.listOpen'),
    revokeForOrder: invoke('revoke.forOrder'),
    queueStatus: invoke('queue.status'),
    queueDrain: invoke('queue.drain'),
    receiptPreview: invoke('receipt.preview'),
    receiptReprint: invoke('receipt.reprint'),
    printerStatus: invoke('printer.status'),
    printerTest: invoke('printer.test'),
    printJobs: invoke('print.jobs'),
    printRetry: invoke('print.retry'),
    settingsGet: invoke('settings.get'),
    settingsSet: invoke('settings.set'),
    on,
  } satisfies PosBridge;
  return Object.freeze(bridge);
}

let exposed = false;

/** Exposes the bridge as `window.pos` (idempotent). Hosts call this from their own preload. */
export function exposeBridge(key = 'pos'): void {
  if (exposed) return;
  contextBridge.exposeInMainWorld(key, createBridge());
  exposed = true;
}

exposeBridge();
