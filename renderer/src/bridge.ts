/**
 * The renderer's only way out: `window.pos`, exposed by the preload (or by a
 * test harness) and typed by the IPC contract. Types come from the contract;
 * no value of main/ is imported, so nothing of Node ends up in the bundle.
 */
import type { ErrorView, PosBridge, Result } from '../../main/ipc/contract';

export type {
  AppInfo,
  ErrorView,
  EventName,
  EventPayload,
  OrderView,
  PosBridge,
  PrintJobView,
  PrinterStatusView,
  QueueStatusView,
  ReceiptPreview,
  Result,
  RevokeView,
  SettingsView,
  TerminalStatus,
} from '../../main/ipc/contract';

declare global {
  interface Window {
    pos?: PosBridge;
  }
}

export function hasBridge(): boolean {
  return typeof window.pos === 'object' && window.pos !== null;
}

export function pos(): PosBridge {
  if (!window.pos) throw new Error('window.pos is not available');
  return window.pos;
}

/** An error the bridge itself raised (IPC broken): shown like any envelope. */
export const ipcFailure = (err: unknown): ErrorView => ({
  code: 'IPC_FAILED',
  message: 'Cannot reach the POS system; the operation did not complete.',
  messageZh: '无法调用收银系统，操作未完成。',
  details: { reason: err instanceof Error ? err.message : String(err) },
});

/** Awaits a bridge call; a rejected promise (which the contract never sends) becomes an error envelope too. */
export async function call<T>(run: (bridge: PosBridge) => Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await run(pos());
  } catch (err) {
    return { ok: false, error: ipcFailure(err) };
  }
}
