/**
 * Revokes on the skeleton (../engine.ts): a cashier's request (eligibility,
 * then the intent written ahead, then the call), a person's "query again",
 * and what callers read. Everything between the first send and the final
 * state is the skeleton's; the revoke's table of answers, deadline, messages
 * and receipt are its kind (kind.ts).
 */
import type { Accountable } from '../../common/accountable';
import type { Order, Revoke } from '../../domain';
import { PosError } from '../../errors';
import type { OrderRef } from '../../orders/service';
import { perOrder, toRevoke, type RevokeRow, type RevokesRepo } from '../../store/revokes';
import { OperationEngine } from '../engine';
import type { OperationDeps } from '../operation';
import { underOrderLock } from '../order-lock';
import { ineligibility } from './interpret';
import { revokeKind, type RevokedReceipt } from './kind';
import * as T from './transitions';

export { ineligibility } from './interpret';
export { DEFAULT_TIMING, type RevokeTiming } from '../timing';
export type { RevokedReceipt } from './kind';

/**
 * Who voids: a name (or null) from a trusted caller, an Accountable, or a
 * decision made once the order is known (`eligible`: a revoke call would be made).
 */
export type RevokeAuthority = string | null | Accountable | ((order: Order, eligible: boolean) => Accountable | Promise<Accountable>);

async function accountableFor(who: RevokeAuthority, order: Order, eligible: boolean): Promise<Accountable | null> {
  if (typeof who === 'function') return who(order, eligible);
  if (typeof who === 'string') return { operatorId: null, operatorName: who, approverId: null, approverName: null };
  return who;
}

export interface RevokeEngineDeps extends OperationDeps<CrashPoint> {
  /** Lead time before the business day ends at which the cashier is warned. */
  warningLeadMs: () => number;
  /** The receipt of a revoke recorded `revoked`. */
  receipts?: RevokedReceipt;
}

export type CrashPoint = 'intent-committed' | 'answer-received' | 'revoked-committed' | 'send-committed';

export class RevokeEngine extends OperationEngine<RevokeRow> {
  constructor(deps: RevokeEngineDeps) {
    super(deps as OperationDeps<string>, revokeKind(deps));
  }

  private get revokes(): RevokesRepo {
    return this.repo as RevokesRepo;
  }

  /**
   * A cashier's revoke. Returns after the first attempt settles (revoked,
   * rejected, queued or pending); a second request for an order with an open
   * (or successful) revoke returns that one without any gateway call, and one
   * refused here (no gateway call) again for the same reason returns that
   * refusal, writing nothing. While another money operation of the order is
   * open, it is refused (OPERATION_OPEN).
   *
   * `who` is who voids (and who approved): fixed (the CLI: a name, or an
   * Accountable), or decided once the order is known (the IPC policy needs
   * the amount); a refusal there ends the request before any revoke call.
   */
  async request(ref: OrderRef, who: RevokeAuthority, actor: string): Promise<Revoke> {
    const found = await this.deps.orders.findOrImport(ref, actor);
    const existing = this.revokes.live(found.sn);
    if (existing) return toRevoke(existing);
    const order = await this.askAboutBlocker(found, (sn) => this.deps.orders.get(sn));
    const reason = ineligibility(order, this.deps.clock.now());
    const accountable = await accountableFor(who, order, reason === undefined);
    const signer = reason ? undefined : await this.deps.provisioning.signerForToday(actor);
    const created = underOrderLock(this.deps.db, order, () => T.recordRequest(this.revokes, order, accountable, actor, reason, this.stamp()));
    if (!created.fresh || created.row.state === 'rejected') {
      if (created.fresh) this.emit(created.row);
      return toRevoke(created.row);
    }
    const row = await this.sendFresh(created.row, signer!, (s) => this.deps.client.revoke(s, { sn: created.row.order_sn }));
    return toRevoke(row);
  }

  /** A person's "query again" on a pending or needs_attention revoke. */
  async queryAgain(id: number, actor: string): Promise<Revoke> {
    const row = this.repo.get(id);
    if (!row) throw new PosError('REVOKE_NOT_FOUND', `找不到撤销记录 ${id}。`, `Revoke ${id} was not found.`);
    return toRevoke((await this.queryRow(id, actor)) ?? row);
  }

  get(id: number): Revoke | undefined {
    const r = this.repo.get(id);
    return r && toRevoke(r);
  }

  forOrder(sn: string): Revoke | undefined {
    const r = this.revokes.live(sn) ?? this.revokes.latest(sn);
    return r && toRevoke(r);
  }

  /** Each order's revoke as `forOrder` picks it (the live one, else the latest), for many orders in one query. */
  forOrders(sns: readonly string[]): Map<string, Revoke> {
    return perOrder(this.revokes.forOrders(sns));
  }

  /** The same for every order of a business day. */
  forDay(day: string): Map<string, Revoke> {
    return perOrder(this.revokes.forDay(day));
  }

  open(): Revoke[] {
    return this.repo.open().map(toRevoke);
  }

  /** The re-check asks about one row as a person's "query again" would. */
  recheck(id: number): Promise<Revoke> {
    return this.queryAgain(id, 'recheck');
  }
}
