/**
 * Operators: who may sign in at the counter, their roles, PIN hashes and
 * the durable lockout (5 wrong PINs lock an operator for 5 minutes, in
 * SQLite, so a restart does not reset it; each lockout within a day of the
 * last lasts twice as long, up to a day). Used by the IPC policy and by
 * the CLI (store IT, trusted).
 */
import type { Clock } from '../common/time';
import { invalidInput } from '../errors';
import { recordApproval, type ApprovalRecord } from '../store/approvals';
import { audit } from '../store/audit';
import { tx, type Db } from '../store/db';
import { OperatorsRepo, ROLES, type LockoutPolicy, type OperatorRow, type Role } from '../store/operators';
import { approverNotAllowed, lastStoreIt, nameTaken, operatorLocked, operatorsExist, operatorUnknown, pinInvalid } from './errors';
import { DEFAULT_PIN_COST, hashPin, isPinShaped, verifyPin, type ScryptCost } from './pin';

export type { Role } from '../store/operators';
export { ROLES } from '../store/operators';

export const MAX_FAILED_PINS = 5;
/** The first lockout; each one in a row (within LOCKOUT_DECAY_MS of the last) lasts twice the last, up to LOCKOUT_MAX_MS. */
export const LOCKOUT_MS = 5 * 60_000;
export const LOCKOUT_MAX_MS = 24 * 3_600_000;
export const LOCKOUT_DECAY_MS = 24 * 3_600_000;
const LOCKOUTS: LockoutPolicy = { baseMs: LOCKOUT_MS, capMs: LOCKOUT_MAX_MS, decayMs: LOCKOUT_DECAY_MS };

/** What may be shown of an operator: never the hash. */
export interface Operator {
  id: number;
  name: string;
  role: Role;
  active: boolean;
  language: 'zh-CN' | 'en' | null;
  /** Unix ms until which sign-in is refused, when locked now. */
  lockedUntil: number | null;
  failedAttempts: number;
  createdAt: number;
  updatedAt: number;
}

export interface OperatorsDeps {
  db: Db;
  clock: Clock;
  /** The scrypt cost of new hashes (default DEFAULT_PIN_COST). */
  pinCost?: ScryptCost;
}

const NAME_MAX = 32;

function checkName(name: string): string {
  const n = name.trim();
  if (n.length < 1 || n.length > NAME_MAX || /[\p{Cc}\p{Cf}]/u.test(n)) throw invalidInput('name', `1-${NAME_MAX} printable characters`, `1-${NAME_MAX} 个可打印字符`);
  return n;
}

function checkPin(pin: string): string {
  if (!isPinShaped(pin)) throw invalidInput('pin', '4-8 digits', '4-8 位数字');
  return pin;
}

function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) throw invalidInput('role', `one of ${ROLES.join(', ')}`, `须为 ${ROLES.join('、')} 之一`);
  return role as Role;
}

export class Operators {
  private readonly repo: OperatorsRepo;
  private readonly cost: ScryptCost;

  constructor(private readonly deps: OperatorsDeps) {
    this.repo = new OperatorsRepo(deps.db);
    this.cost = deps.pinCost ?? DEFAULT_PIN_COST;
  }

  private view(r: OperatorRow): Operator {
    const now = this.deps.clock.now();
    return {
      id: r.id,
      name: r.name,
      role: r.role,
      active: r.active === 1,
      language: r.language,
      lockedUntil: r.locked_until !== null && r.locked_until > now ? r.locked_until : null,
      failedAttempts: r.failed_attempts,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  list(): Operator[] {
    return this.repo.list().map((r) => this.view(r));
  }

  get(id: number): Operator | undefined {
    const r = this.repo.get(id);
    return r ? this.view(r) : undefined;
  }

  /** The active operator of that name, or of that numeric id. */
  find(nameOrId: string): Operator | undefined {
    const byName = this.repo.activeByName(nameOrId.trim());
    if (byName) return this.view(byName);
    const id = /^\d+$/.test(nameOrId) ? Number(nameOrId) : NaN;
    return Number.isSafeInteger(id) ? this.get(id) : undefined;
  }

  count(): number {
    return this.repo.count();
  }

  async add(input: { name: string; role: string; pin: string }, actor: string): Promise<Operator> {
    const name = checkName(input.name);
    const role = checkRole(input.role);
    const hash = await hashPin(checkPin(input.pin), this.cost);
    return this.view(tx(this.deps.db, () => this.insert(name, role, hash, actor)));
  }

  /**
   * First run: the first store_it operator, only while there is no operator
   * at all (checked in the same transaction that inserts, so two windows
   * cannot both bootstrap).
   */
  async bootstrap(input: { name: string; pin: string }, actor: string): Promise<Operator> {
    const name = checkName(input.name);
    if (this.repo.count() > 0) throw operatorsExist();
    const hash = await hashPin(checkPin(input.pin), this.cost);
    return this.view(
      tx(this.deps.db, () => {
        if (this.repo.count() > 0) throw operatorsExist();
        return this.insert(name, 'store_it', hash, actor, 'operator.bootstrap');
      }),
    );
  }

  private insert(name: string, role: Role, hash: string, actor: string, action: 'operator.added' | 'operator.bootstrap' = 'operator.added'): OperatorRow {
    if (this.repo.activeByName(name)) throw nameTaken(name);
    const now = this.deps.clock.now();
    const row = this.repo.insert({ name, role, pin_hash: hash, now });
    audit(this.deps.db, now, actor, action, `operator:${row.id}`, { operatorId: row.id, name, role });
    return row;
  }

  setActive(id: number, active: boolean, actor: string): Operator {
    return this.view(
      tx(this.deps.db, () => {
        const row = this.repo.get(id);
        if (!row) throw operatorUnknown();
        if (active && row.active === 0 && this.repo.activeByName(row.name)) throw nameTaken(row.name);
        if (!active && row.role === 'store_it' && row.active === 1) {
          const others = this.repo.list().filter((o) => o.role === 'store_it' && o.active === 1 && o.id !== id);
          if (others.length === 0) throw lastStoreIt();
        }
        const now = this.deps.clock.now();
        this.repo.setActive(id, active, now);
        audit(this.deps.db, now, actor, active ? 'operator.enabled' : 'operator.disabled', `operator:${id}`, { operatorId: id, name: row.name });
        return this.repo.get(id)!;
      }),
    );
  }

  async resetPin(id: number, pin: string, actor: string): Promise<Operator> {
    if (!this.repo.get(id)) throw operatorUnknown();
    const hash = await hashPin(checkPin(pin), this.cost);
    return this.view(
      tx(this.deps.db, () => {
        const row = this.repo.get(id);
        if (!row) throw operatorUnknown();
        const now = this.deps.clock.now();
        this.repo.setPinHash(id, hash, now);
        audit(this.deps.db, now, actor, 'operator.pin_reset', `operator:${id}`, { operatorId: id, name: row.name });
        return this.repo.get(id)!;
      }),
    );
  }

  setLanguage(id: number, language: 'zh-CN' | 'en' | null): Operator {
    if (!this.repo.get(id)) throw operatorUnknown();
    this.repo.setLanguage(id, language, this.deps.clock.now());
    return this.view(this.repo.get(id)!);
  }

  /**
   * Checks an operator's PIN: an active operator, not locked, right PIN.
   * The check is counted before scrypt runs (one IMMEDIATE transaction, so
   * concurrent guesses from any window or process count as many); with
   * MAX_FAILED_PINS counted, the next is refused unhashed. A wrong PIN stays
   * counted and the fifth locks the operator (LOCKOUT_MS, doubled per lockout in a row); an approval
   * stays counted too (a replayed approval uses up the approver's tries); a
   * sign-in with the right PIN starts the count again. `windowId`: the
   * calling window, in the audit (null: none, or the trusted CLI).
   */
  async verify(id: number, pin: string, purpose: 'sign-in' | 'approval', windowId: number | null = null): Promise<Operator> {
    const at = this.deps.clock.now();
    const reserved = tx(this.deps.db, () => {
      const row = this.repo.get(id);
      if (!row || row.active !== 1) throw operatorUnknown();
      return { row: this.repo.reservePinCheck(id, MAX_FAILED_PINS, at - LOCKOUT_MS, at), before: row };
    });
    if (!reserved.row) {
      // Refused unhashed: locked, or every try is counted (some may still be running).
      const { before } = reserved;
      const until = before.locked_until !== null && before.locked_until > at ? before.locked_until : (before.last_attempt_at ?? at) + LOCKOUT_MS;
      throw operatorLocked(until, at);
    }
    const hash = reserved.row.pin_hash;
    let good: boolean;
    try {
      good = isPinShaped(pin) && (await verifyPin(pin, hash));
    } catch (err) {
      this.settle(id, false, hash, purpose, windowId); // a check that failed stays counted, like a wrong PIN
      throw err;
    }
    const settled = this.settle(id, good, hash, purpose, windowId);
    if (settled.error) throw settled.error;
    return this.view(this.repo.get(id)!);
  }

  private settle(id: number, good: boolean, hashChecked: string, purpose: 'sign-in' | 'approval', windowId: number | null): { error?: Error } {
    const now = this.deps.clock.now();
    return tx(this.deps.db, () => {
      const cur = this.repo.get(id)!;
      const lockedBefore = cur.locked_until !== null && cur.locked_until > now;
      // Disabled or a new PIN set while this one was checked: it no longer proves anything.
      const accepted = good && !lockedBefore && cur.active === 1 && cur.pin_hash === hashChecked;
      if (accepted && purpose === 'sign-in') {
        this.repo.settleSignedIn(id, now);
        return {};
      }
      const after = this.repo.settleSpent(id, MAX_FAILED_PINS, LOCKOUTS, now);
      const lockedNow = !lockedBefore && after.locked_until !== null && after.locked_until > now;
      const details = { operatorId: id, purpose, window: windowId };
      if (!accepted) audit(this.deps.db, now, `operator:${id}`, 'operator.pin_failed', `operator:${id}`, details);
      if (lockedNow) audit(this.deps.db, now, `operator:${id}`, 'operator.locked', `operator:${id}`, { ...details, lockedUntil: after.locked_until, lockouts: after.lockouts });
      if (accepted) return {};
      if (lockedBefore || lockedNow) return { error: operatorLocked(after.locked_until!, now) };
      if (cur.active !== 1) return { error: operatorUnknown() };
      return { error: pinInvalid(Math.max(0, MAX_FAILED_PINS - after.failed_attempts)) };
    });
  }

  /** Lifts a lockout at once (store IT, from the trusted CLI); audited. */
  unlock(id: number, actor: string): Operator {
    return this.view(
      tx(this.deps.db, () => {
        const row = this.repo.get(id);
        if (!row) throw operatorUnknown();
        const now = this.deps.clock.now();
        this.repo.unlock(id, now);
        const wasLocked = row.locked_until !== null && row.locked_until > now;
        audit(this.deps.db, now, actor, 'operator.unlocked', `operator:${id}`, { operatorId: id, name: row.name, wasLocked, failedAttempts: row.failed_attempts });
        return this.repo.get(id)!;
      }),
    );
  }

  /** Records an approval granted for one money operation, with an audit entry, in one transaction (the clock stamps it). */
  recordApproval(a: Omit<ApprovalRecord, 'at'>): void {
    tx(this.deps.db, () => {
      const at = this.deps.clock.now();
      const id = recordApproval(this.deps.db, { ...a, at });
      const { operation, orderSn, amountCents, cumulativeCents, approverId, operatorId, windowId } = a;
      audit(this.deps.db, at, `operator:${approverId}`, 'approval.granted', orderSn, { approvalId: id, operation, amountCents, cumulativeCents, approverId, operatorId, window: windowId });
    });
  }

  /** The operator's session epoch while active (undefined: disabled or gone); sessions of another epoch have ended. */
  sessionEpoch(id: number): number | undefined {
    return this.repo.sessionEpoch(id);
  }

  /**
   * Records a sign-in or sign-out at a window in the audit log. Best effort: a full or read-only disk
   * must not keep cashiers from signing in to look (anything that changes money writes, and fails, anyway).
   */
  noteSession(event: 'signed_in' | 'signed_out', who: { id: number | null; name: string }, actor: string, windowId: number | null): boolean {
    try {
      audit(this.deps.db, this.deps.clock.now(), actor, `session.${event}`, who.id !== null ? `operator:${who.id}` : null, { operatorId: who.id, name: who.name, window: windowId });
      return true;
    } catch {
      return false;
    }
  }

  /** An approver: a supervisor or store IT, other than `operatorId`, with the right PIN (a counted check, like a sign-in). */
  async approve(approverId: number, pin: string, operatorId: number | null, windowId: number | null = null): Promise<Operator> {
    const row = this.repo.get(approverId);
    if (row && row.active === 1 && (row.role === 'cashier' || row.id === operatorId)) throw approverNotAllowed();
    return this.verify(approverId, pin, 'approval', windowId);
  }
}
