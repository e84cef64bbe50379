/**
 * The operators' channels: the calling window's session (sign-in with a PIN,
 * sign-out, its language), the sign-in roster, the first-run bootstrap and
 * store IT's operator management. Who may call each is in access.ts; this
 * file decides nothing about access itself.
 */
import { PosError } from '../errors';
import { signInByHost } from '../operators/errors';
import type { Runtime } from '../runtime';
import type { OutputOf } from './contract';
import type { CallContext, ChannelImpls } from './handler-types';
import { toOperatorView } from './views';

type OperatorChannel =
  | 'session.current'
  | 'session.signIn'
  | 'session.signOut'
  | 'session.setLanguage'
  | 'operators.roster'
  | 'operators.bootstrap'
  | 'operators.list'
  | 'operators.add'
  | 'operators.setActive'
  | 'operators.resetPin';

const noWindow = () => new PosError('NO_WINDOW', '无法识别发起登录的窗口。', 'The window that signs in cannot be identified.');

export function operatorHandlers(runtime: Runtime): ChannelImpls<OperatorChannel> {
  const sessionState = (ctx: CallContext): OutputOf<'session.current'> => {
    const s = runtime.settings();
    const base = {
      bootstrap: !ctx.policy.hostSignIn && runtime.operators.count() === 0,
      hostSignIn: ctx.policy.hostSignIn,
      revokeApproval: s.revokeApproval,
      revokeApprovalAboveCents: s.revokeApprovalAboveCents,
      refundApproval: s.refundApproval,
      refundApprovalAboveCents: s.refundApprovalAboveCents,
      payApproval: s.payApproval,
      payApprovalAboveCents: s.payApprovalAboveCents,
    };
    if (ctx.policy.hostSignIn) {
      const who = ctx.policy.current(ctx.caller);
      const language = who?.id != null ? (runtime.operators.get(who.id)?.language ?? null) : null;
      return { ...base, signedIn: who ? { operatorId: who.id, name: who.name, role: who.role, language, signedInAt: runtime.clock.now(), expiresAt: null } : null };
    }
    const found = ctx.sessions.lookup(ctx.caller, false);
    if (!found || 'expired' in found) return { ...base, signedIn: null };
    const { session } = found;
    return {
      ...base,
      signedIn: {
        operatorId: session.id,
        name: session.name,
        role: session.role,
        language: session.id !== null ? (runtime.operators.get(session.id)?.language ?? null) : null,
        signedInAt: session.signedInAt,
        expiresAt: session.expiresAt,
      },
    };
  };

  const startSession = (ctx: CallContext, op: { id: number; name: string; role: 'cashier' | 'supervisor' | 'store_it' }) => {
    if (!ctx.caller) throw noWindow();
    ctx.sessions.signIn(ctx.caller, { id: op.id, name: op.name, role: op.role });
    runtime.operators.noteSession('signed_in', op, `${ctx.actor}:${op.name}`, ctx.caller.windowId);
  };

  return {
    'session.current': (_input, ctx) => sessionState(ctx),
    'session.signIn': async (input, ctx) => {
      if (ctx.policy.hostSignIn) throw signInByHost();
      if (!ctx.caller) throw noWindow();
      const op = await runtime.operators.verify(input.operatorId, input.pin, 'sign-in', ctx.caller.windowId);
      startSession(ctx, op);
      return sessionState(ctx);
    },
    'session.signOut': (_input, ctx) => {
      if (ctx.caller && !ctx.policy.hostSignIn) {
        const ended = ctx.sessions.signOut(ctx.caller);
        if (ended) runtime.operators.noteSession('signed_out', ended, ctx.actor, ctx.caller.windowId);
      }
      return sessionState(ctx);
    },
    'session.setLanguage': (input, ctx) => {
      // The language is the signed-in operator's own; a host's operator without a row keeps the store's.
      if (ctx.who?.id != null) runtime.operators.setLanguage(ctx.who.id, input.language);
      return sessionState(ctx);
    },
    'operators.roster': () =>
      runtime.operators
        .list()
        .filter((o) => o.active)
        .map((o) => ({ id: o.id, name: o.name, role: o.role, locked: o.lockedUntil !== null })),
    'operators.bootstrap': async (input, ctx) => {
      if (ctx.policy.hostSignIn) throw signInByHost();
      if (!ctx.caller) throw noWindow();
      const op = await runtime.operators.bootstrap({ name: input.name, pin: input.pin }, ctx.actor);
      startSession(ctx, op);
      return sessionState(ctx);
    },
    'operators.list': () => runtime.operators.list().map(toOperatorView),
    'operators.add': async (input, ctx) => toOperatorView(await runtime.operators.add(input, ctx.actor)),
    'operators.setActive': (input, ctx) => {
      const op = runtime.operators.setActive(input.operatorId, input.active, ctx.actor);
      // A disabled operator's windows are signed out at once, not at their idle time.
      if (!op.active) ctx.sessions.endFor(op.id);
      return toOperatorView(op);
    },
    'operators.resetPin': async (input, ctx) => {
      const op = await runtime.operators.resetPin(input.operatorId, input.pin, ctx.actor);
      // A new PIN ends the operator's sessions everywhere (other processes see the new session epoch).
      ctx.sessions.endFor(op.id);
      return toOperatorView(op);
    },
  };
}
