/**
 * The only ipcMain user. For each contract channel it registers one invoke
 * handler that refuses any sender which is not a top-level frame of the app's
 * own origin (FORBIDDEN_SENDER envelope), then runs the pure handler with the
 * caller (the sender's webContents id: a session belongs to the window that
 * signed in, and ends when it goes away); and it pushes runtime events to the
 * app's windows, each event only to a window whose session may read its data
 * (access.ts EVENT_ACCESS, judged when it is sent: none before sign-in, none
 * once the session ended by sign-out, idle time, lifetime or the operator's change).
 *
 * It imports Electron's types only: `ipcMain` is passed in, so requiring
 * `upay-pos/main` under plain Node never loads Electron.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { PosError } from '../errors';
import type { Runtime } from '../runtime';
import { CHANNEL_NAMES, IPC_ERROR_CODES, type Channel, type EventName, type EventPayload } from './contract';
import { admits, EVENT_ACCESS } from './access';
import { createHandlerSet, errorEnvelope, forwardEvents, type HandlerOptions, type Handlers } from './handlers';
import { APP_ORIGIN, isAllowedFrame, isAllowedSender as defaultIsAllowedSender, type SenderEventLike } from './sender';

export interface RegisterOptions extends HandlerOptions {
  /** The sender check (default: top-level frame on app://pos). */
  isAllowedSender?: (event: SenderEventLike) => boolean;
  /**
   * The windows that receive runtime events (the shell passes its windows).
   * Default: every WebContents that has made an allowed call, while it lives.
   * Either way, only a WebContents whose main frame is on the app's origin gets them,
   * and only the events its session admits (EVENT_ACCESS).
   */
  webContentsList?: () => readonly WebContents[];
  /** The app's own origin (default app://pos). */
  origin?: string;
}

export interface IpcRegistration {
  readonly handlers: Handlers;
  /** Removes every handler and stops pushing events. */
  dispose(): void;
}

export const forbiddenSender = () =>
  new PosError(IPC_ERROR_CODES.FORBIDDEN_SENDER, '拒绝来自非本应用页面的请求。', 'Refused: the request does not come from this app’s own page.');

export function registerIpc(runtime: Runtime, ipcMain: IpcMain, options: RegisterOptions): IpcRegistration {
  const origin = options.origin ?? APP_ORIGIN;
  const allowed = options.isAllowedSender ?? ((event: SenderEventLike) => defaultIsAllowedSender(event, origin));
  const { handlers, policy, sessions, orderRow } = createHandlerSet(runtime, {
    ...options,
    onInternalError: (channel, err) => {
      runtime.logger.error(`ipc ${channel}: ${err.code} ${String(err.details?.reason ?? '')}`);
      options.onInternalError?.(channel, err);
    },
  });
  const seen = new Set<WebContents>();

  const handle = <C extends Channel>(channel: C) => {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, input: unknown) => {
      if (!allowed(event)) {
        runtime.logger.warn(`ipc ${channel}: refused a call from ${describeSender(event)}`);
        return errorEnvelope(forbiddenSender());
      }
      trackSender(event.sender);
      const windowId = event.sender?.id;
      return handlers[channel](input, typeof windowId === 'number' ? { windowId } : undefined);
    });
  };

  const trackSender = (wc: WebContents | undefined) => {
    if (!wc || seen.has(wc)) return;
    seen.add(wc);
    const windowId = wc.id;
    wc.once('destroyed', () => {
      seen.delete(wc);
      // A closed (or crashed and replaced) window's session ends with it: a new page signs in again.
      if (typeof windowId === 'number') sessions.signOut({ windowId });
    });
  };

  for (const channel of CHANNEL_NAMES) handle(channel);

  const targets = (): readonly WebContents[] => (options.webContentsList ? options.webContentsList() : [...seen].filter((wc) => !wc.isDestroyed()));
  // The one place an event meets a window's session: the same rule (access.ts) and the same session
  // (policy.current, as a passive call: receiving restarts no idle time) as the channel serving that data.
  const admitted = (wc: WebContents, event: EventName): boolean => {
    const access = EVENT_ACCESS[event];
    if (access === 'anyone') return true;
    const windowId: unknown = wc.id;
    return typeof windowId === 'number' && admits(access, policy.current({ windowId }));
  };
  const unsubscribe = forwardEvents(runtime.events, <E extends EventName>(event: E, payload: EventPayload<E>) => {
    for (const wc of targets()) {
      try {
        if (wc.isDestroyed() || !isAllowedFrame(wc.mainFrame, origin)) continue;
        // A window nobody may read this at (not signed in, signed out, timed out) gets nothing of it.
        if (!admitted(wc, event)) continue;
        wc.send(event, payload);
      } catch {
        // A window closing while we send is not the runtime's problem (nor a host login that throws: nothing is sent).
      }
    }
  }, orderRow);

  return {
    handlers,
    dispose() {
      unsubscribe();
      for (const channel of CHANNEL_NAMES) ipcMain.removeHandler(channel);
      seen.clear();
    },
  };
}

function describeSender(event: IpcMainInvokeEvent): string {
  try {
    const frame = event.senderFrame;
    if (!frame) return 'a frame that is gone';
    return `${frame.parent ? 'a subframe' : 'a top frame'} at ${JSON.stringify(frame.url.slice(0, 200))}`;
  } catch {
    return 'an unknown frame';
  }
}
