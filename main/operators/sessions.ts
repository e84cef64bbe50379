/**
 * Signed-in sessions, in the main process only: one per window (the IPC
 * sender's webContents id), ended by sign-out, by the window going away, or
 * after the idle time (a setting) without a call from that window. Nothing
 * of a session crosses IPC except who is signed in.
 */
import type { Clock } from '../common/time';
import type { Role } from '../store/operators';

/** Who makes an IPC call: the window (webContents id) it came from. */
export interface Caller {
  readonly windowId: number;
}

/** Who is signed in at a window. */
export interface SignedIn {
  /** null: a host app's own operator that is not in our operators table. */
  id: number | null;
  name: string;
  role: Role;
}

interface Session extends SignedIn {
  id: number;
  signedInAt: number;
  lastSeenAt: number;
}

export type SessionLookup = { session: SignedIn & { signedInAt: number; expiresAt: number } } | { expired: true } | null;

export class Sessions {
  private readonly byWindow = new Map<number, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly idleMs: () => number,
  ) {}

  signIn(caller: Caller, who: SignedIn & { id: number }): void {
    const now = this.clock.now();
    this.byWindow.set(caller.windowId, { ...who, signedInAt: now, lastSeenAt: now });
  }

  signOut(caller: Caller): SignedIn | undefined {
    const s = this.byWindow.get(caller.windowId);
    this.byWindow.delete(caller.windowId);
    return s;
  }

  /** Ends every session of an operator (disabled, role changed). */
  endFor(operatorId: number): void {
    for (const [w, s] of this.byWindow) if (s.id === operatorId) this.byWindow.delete(w);
  }

  /** The window's session; `touch` (a call that acts) restarts its idle time. An idle one is ended and reported once. */
  lookup(caller: Caller | undefined, touch: boolean): SessionLookup {
    if (!caller) return null;
    const s = this.byWindow.get(caller.windowId);
    if (!s) return null;
    const now = this.clock.now();
    if (now - s.lastSeenAt >= this.idleMs()) {
      this.byWindow.delete(caller.windowId);
      return { expired: true };
    }
    if (touch) s.lastSeenAt = now;
    return { session: { id: s.id, name: s.name, role: s.role, signedInAt: s.signedInAt, expiresAt: s.lastSeenAt + this.idleMs() } };
  }

  /** How many windows are signed in (tests, diagnostics). */
  get size(): number {
    return this.byWindow.size;
  }
}
