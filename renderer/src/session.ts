/**
 * Who is signed in at this window, as the main process says (it decides;
 * this only shows it): the session state, the sign-in roster, and the calls
 * that change them. Polled, because a session also ends by itself (idle
 * time) in the main process.
 */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import type { RosterEntry, SessionState } from '../../main/ipc/contract';
import { call, type ErrorView, type Result } from './bridge';

export type { RosterEntry, SessionState } from '../../main/ipc/contract';

export interface Session {
  state: SessionState | null;
  roster: RosterEntry[];
  /** The bridge itself failed (shown instead of the sign-in screen). */
  error: ErrorView | null;
  signIn(operatorId: number, pin: string): Promise<Result<SessionState>>;
  bootstrap(name: string, pin: string): Promise<Result<SessionState>>;
  signOut(): Promise<void>;
  setLanguage(language: 'zh-CN' | 'en'): Promise<void>;
  refresh(): Promise<void>;
}

const POLL_MS = 10_000;

export function useSession(): Session {
  const [state, setState] = useState<SessionState | null>(null);
  const [roster, setRoster] = useState<RosterEntry[]>([]);
  const [error, setError] = useState<ErrorView | null>(null);

  const refresh = useCallback(async () => {
    const [s, r] = await Promise.all([call((p) => p.sessionCurrent()), call((p) => p.operatorsRoster())]);
    if (s.ok) {
      setState(s.value);
      setError(null);
    } else setError(s.error);
    if (r.ok) setRoster(r.value);
  }, []);

  useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => void refresh(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);

  const adopt = useCallback(
    (r: Result<SessionState>) => {
      if (r.ok) setState(r.value);
      // A wrong PIN changes the roster (a lockout): read it again either way.
      void call((p) => p.operatorsRoster()).then((x) => x.ok && setRoster(x.value));
      return r;
    },
    [],
  );

  return {
    state,
    roster,
    error,
    refresh,
    signIn: async (operatorId, pin) => adopt(await call((p) => p.sessionSignIn({ operatorId, pin }))),
    bootstrap: async (name, pin) => adopt(await call((p) => p.operatorsBootstrap({ name, pin }))),
    signOut: async () => {
      adopt(await call((p) => p.sessionSignOut()));
    },
    setLanguage: async (language) => {
      adopt(await call((p) => p.sessionSetLanguage({ language })));
    },
  };
}

export const SessionContext = createContext<Session | null>(null);

export function useSessionContext(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('SessionContext missing');
  return s;
}

/** Money operations that may need a supervisor's approval (a payment's rule is off unless store IT sets it). */
export type ApprovalKind = 'revoke' | 'refund' | 'pay';

/** The rule for a kind: always, above an amount, or never (`revokeApproval`, `refundApproval`, `payApproval`, as main reads them). */
export function approvalRule(state: SessionState, kind: ApprovalKind): { rule: SessionState['revokeApproval']; aboveCents: number } {
  return { rule: state[`${kind}Approval`], aboveCents: state[`${kind}ApprovalAboveCents`] };
}

/** Whether `kind` of `amountCents` by the signed-in operator needs a supervisor's PIN (main decides again). */
export function needsApproval(state: SessionState | null, amountCents: number, kind: ApprovalKind = 'revoke'): boolean {
  const role = state?.signedIn?.role;
  if (!role || role !== 'cashier') return false;
  const { rule, aboveCents } = approvalRule(state, kind);
  return rule === 'always' || (rule === 'above' && amountCents > aboveCents);
}
