/**
 * Signed-in sessions, in the main process only: one per window (the IPC
 * sender's webContents id), ended by sign-out, by the window going away,
 * after the idle time (a setting) without a call from that window, at the
 * absolute lifetime (a setting: a fresh PIN at least once a shift), and in
 * every window at once when the operator is disabled or their PIN is reset
 * (the operator's session epoch in SQLite, so a change made by the CLI or
 * another process ends them too). Nothing of a session crosses IPC except
 * who is signed in.
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
  epoch: number | undefined;
  signedInAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  /** Idle time after which a session ends. */
  idleMs(): number;
  /** Absolute lifetime from sign-in. */
  maxMs(): number;
  /** The operator's current session epoch; undefined: disabled or gone. Absent: epochs are not checked. */
  epochOf?(operatorId: number): number | undefined;
}

/** Why a session is gone: timed out (idle or lifetime), or ended because the operator changed. */
export type SessionLookup = { session: SignedIn & { signedInAt: number; expiresAt: number } } | { expired: true; reason: 'expired' | 'ended' } | null;

export class Sessions {
  private readonly byWindow = new Map<number, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: SessionLimits,
  ) {}

  signIn(caller: Caller, who: SignedIn & { id: number }): void {
    const now = this.clock.now();
    this.byWindow.set(caller.windowId, { ...who, epoch: this.limits.epochOf?.(who.id), signedInAt: now, lastSeenAt: now });
  }

  signOut(caller: Caller): SignedIn | undefined {
    const s = this.byWindow.get(caller.windowId);
    this.byWindow.delete(caller.windowId);
    return s;
  }

  /** Ends every session of an operator in this process at once (disabled, PIN reset); other processes see the epoch. */
  endFor(operatorId: number): void {
    for (const [w, s] of this.byWindow) if (s.id === operatorId) this.byWindow.delete(w);
  }

  /** The window's session; `touch` (a call that acts) restarts its idle time. An ended one is removed and reported once. */
  lookup(caller: Caller | undefined, touch: boolean): SessionLookup {
    if (!caller) return null;
    const s = this.byWindow.get(caller.windowId);
    if (!s) return null;
    const now = this.clock.now();
    const idle = this.limits.idleMs();
    const endsAt = s.signedInAt + this.limits.maxMs();
    if (now - s.lastSeenAt >= idle || now >= endsAt) {
      this.byWindow.delete(caller.windowId);
      return { expired: true, reason: 'expired' };
    }
    if (this.limits.epochOf && this.limits.epochOf(s.id) !== s.epoch) {
      this.byWindow.delete(caller.windowId);
      return { expired: true, reason: 'ended' };
    }
    if (touch) s.lastSeenAt = now;
    return { session: { id: s.id, name: s.name, role: s.role, signedInAt: s.signedInAt, expiresAt: Math.min(s.lastSeenAt + idle, endsAt) } };
  }

  /** How many windows are signed in (tests, diagnostics). */
  get size(): number {
    return this.byWindow.size;
  }
}
