/**
 * The policy the IPC handlers enforce (never the renderer): who is signed in
 * at the calling window, which role a channel needs, and whether a money
 * operation (revoke, refund, pay) needs a supervisor's approval. A host app with
 * its own login replaces the sessions with an operator resolver; with
 * neither, nobody is signed in and no money moves.
 */
import type { Accountable } from '../common/accountable';
import type { Settings } from '../store/settings';
import { approvalRequired, operatorRequired, roleRequired } from './errors';
import type { Operators, Role } from './service';
import type { Caller, SignedIn, Sessions } from './sessions';

export type { Caller, SignedIn } from './sessions';

/** A host app's own login: who is signed in at the calling window, or null. */
export type OperatorResolver = (caller: Caller) => SignedIn | null;

/** A supervisor's PIN typed into the confirmation (IPC input of revoke.request and refund.request). */
export interface Approval {
  operatorId: number;
  pin: string;
}

export type MoneyAction = 'revoke' | 'refund' | 'pay';

/** The approval rule of `action` in the settings (`revokeApproval`, `refundApproval`, `payApproval` and their thresholds). */
export function approvalRuleOf(s: Settings, action: MoneyAction): { rule: Settings['revokeApproval']; aboveCents: number } {
  return { rule: s[`${action}Approval`], aboveCents: s[`${action}ApprovalAboveCents`] };
}

/** What a money operation is about: the policy judges, and the approvals record keeps, all of it. */
export interface MoneySubject {
  /** The order; for a payment (no order yet), the attempt's client_sn. */
  orderSn: string;
  amountCents: number;
  /** The amount the approval rule is judged on (default `amountCents`): a refund's is the order's refunds so far plus this one. */
  cumulativeCents?: number;
}

export interface PolicyDeps {
  operators: Operators;
  sessions: Sessions;
  settings: () => Settings;
  /** Default: the built-in sessions (sign-in with a PIN at the window). */
  resolver?: OperatorResolver;
}

/** Roles that approve money operations (and need no approval for their own). */
const APPROVERS: readonly Role[] = ['supervisor', 'store_it'];

export class Policy {
  constructor(private readonly deps: PolicyDeps) {}

  /** Whether sign-in happens in the host app (an operator resolver) rather than at our PIN pad. */
  get hostSignIn(): boolean {
    return this.deps.resolver !== undefined;
  }

  /** Who is signed in at the calling window, without counting it as activity. */
  current(caller: Caller | undefined): SignedIn | null {
    return this.lookup(caller, false);
  }

  /** Who is signed in at the calling window, or OPERATOR_REQUIRED; `activity`: the call restarts the idle time. */
  signedIn(caller: Caller | undefined, activity = true): SignedIn {
    const who = this.lookup(caller, activity, true);
    if (!who) throw operatorRequired();
    return who;
  }

  /** The signed-in operator, when their role is one of `roles`; else OPERATOR_REQUIRED or ROLE_REQUIRED. */
  requireRole(caller: Caller | undefined, roles: readonly Role[], activity = true): SignedIn {
    const who = this.signedIn(caller, activity);
    if (!roles.includes(who.role)) throw roleRequired(roles);
    return who;
  }

  /** Whether `action` of `amountCents` by someone of `role` needs a supervisor's approval under the settings. */
  needsApproval(action: MoneyAction, amountCents: number, role: Role): boolean {
    if (APPROVERS.includes(role)) return false;
    const { rule, aboveCents } = approvalRuleOf(this.deps.settings(), action);
    return rule === 'always' || (rule === 'above' && amountCents > aboveCents);
  }

  /**
   * Who does a money operation and who approved it. Throws OPERATOR_REQUIRED
   * (nobody signed in), APPROVAL_REQUIRED (the policy wants a supervisor and
   * none was given), PIN_INVALID (the approver's PIN is wrong) or
   * OPERATOR_LOCKED. Every approval is a counted PIN check of the approver,
   * good for this one operation only, recorded with it (operation, order,
   * amount, approver, window); it signs no window in. A signed-in supervisor
   * approves their own.
   */
  async authorizeMoney(action: MoneyAction, subject: MoneySubject, caller: Caller | undefined, approval?: Approval): Promise<Accountable> {
    const who = this.signedIn(caller);
    const accountable: Accountable = { operatorId: who.id, operatorName: who.name, approverId: null, approverName: null };
    const judged = subject.cumulativeCents ?? subject.amountCents;
    if (!this.needsApproval(action, judged, who.role)) return accountable;
    if (!approval) {
      const { rule, aboveCents } = approvalRuleOf(this.deps.settings(), action);
      throw approvalRequired(action, rule === 'above' ? aboveCents : null);
    }
    const windowId = caller?.windowId ?? null;
    const approver = await this.deps.operators.approve(approval.operatorId, approval.pin, who.id, windowId);
    this.deps.operators.recordApproval({
      operation: action,
      orderSn: subject.orderSn,
      amountCents: subject.amountCents,
      cumulativeCents: judged,
      approverId: approver.id,
      approverName: approver.name,
      operatorId: who.id,
      operatorName: who.name,
      windowId,
    });
    return { ...accountable, approverId: approver.id, approverName: approver.name };
  }

  /** Who is accountable for an operation that needs no approval (e.g. a request refused before any call). */
  identify(caller: Caller | undefined): Accountable {
    const who = this.signedIn(caller);
    return { operatorId: who.id, operatorName: who.name, approverId: null, approverName: null };
  }

  private lookup(caller: Caller | undefined, touch: boolean, reportExpiry = false): SignedIn | null {
    if (this.deps.resolver) {
      if (!caller) return null;
      const who = this.deps.resolver(caller);
      return who ? { id: who.id, name: who.name, role: who.role } : null;
    }
    const found = this.deps.sessions.lookup(caller, touch);
    if (found && 'expired' in found) {
      if (reportExpiry) throw operatorRequired(found.reason);
      return null;
    }
    return found ? { id: found.session.id, name: found.session.name, role: found.session.role } : null;
  }
}
