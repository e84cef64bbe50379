/**
 * Who may call the IPC contract: a top-level frame showing the app's own
 * origin (`app://pos`). Pure (typed against a structural frame, no Electron
 * import) so it is tested with fake events; main/ipc/register.ts applies it
 * to every invoke, as VS Code's validatedIpcMain does.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'pos';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** The parts of Electron's WebFrameMain the decision reads. */
export interface FrameLike {
  readonly url: string;
  readonly origin?: string;
  readonly parent: unknown;
  readonly top?: unknown;
  readonly detached?: boolean;
}

/** The parts of Electron's IpcMainInvokeEvent the decision reads. */
export interface SenderEventLike {
  readonly senderFrame: FrameLike | null | undefined;
}

/** True when `url` is on the app's own origin: app://pos/..., no credentials, no port. */
export function isAppUrl(url: string, origin: string = APP_ORIGIN): boolean {
  let u: URL;
  let o: URL;
  try {
    u = new URL(url);
    o = new URL(origin);
  } catch {
    return false;
  }
  // Non-special schemes have an opaque `origin` ("null") in WHATWG URL: compare the parts.
  return u.protocol === o.protocol && u.hostname === o.hostname && u.port === '' && u.username === '' && u.password === '' && u.host === o.host;
}

/** The decision for one frame: top-level, attached, on the app's origin (URL and, when known, the frame's origin). */
export function isAllowedFrame(frame: FrameLike | null | undefined, origin: string = APP_ORIGIN): boolean {
  if (!frame || typeof frame.url !== 'string') return false;
  if (frame.detached === true) return false;
  if (frame.parent !== null) return false;
  if (frame.top !== undefined && frame.top !== null && frame.top !== frame) return false;
  if (typeof frame.origin === 'string' && frame.origin !== '' && frame.origin !== origin) return false;
  return isAppUrl(frame.url, origin);
}

/** The decision for one IPC event. */
export function isAllowedSender(event: SenderEventLike | null | undefined, origin: string = APP_ORIGIN): boolean {
  try {
    return isAllowedFrame(event?.senderFrame, origin);
  } catch {
    // A frame that went away while we read it is no sender we trust.
    return false;
  }
}
