/**
 * Operators: who may sign in at the counter, their roles, PIN hashes and
 * the durable lockout (5 wrong PINs lock an operator for 5 minutes, in
 * SQLite, so a restart does not reset it). Used by the IPC policy and by
 * the CLI (store IT, trusted).
 */
import type { Clock } from '../common/time';
import { invalidInput } from '../errors';
import { audit } from '../store/audit';
import { tx, type Db } from '../store/db';
import { OperatorsRepo, ROLES, type OperatorRow, type Role } from '../store/operators';
import { approverNotAllowed, lastStoreIt, nameTaken, operatorLocked, operatorsExist, operatorUnknown, pinInvalid } from './errors';
import { DEFAULT_PIN_COST, hashPin, isPinShaped, verifyPin, type ScryptCost } from './pin';

export type { Role } from '../store/operators';
export { ROLES } from '../store/operators';

export const MAX_FAILED_PINS = 5;
export const LOCKOUT_MS = 5 * 60_000;

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
   * A wrong PIN is counted (durably); the fifth locks the operator for
   * LOCKOUT_MS. A locked operator's PIN is not even checked.
   */
  async verify(id: number, pin: string, purpose: 'sign-in' | 'approval'): Promise<Operator> {
    const row = this.repo.get(id);
    if (!row || row.active !== 1) throw operatorUnknown();
    const before = this.deps.clock.now();
    if (row.locked_until !== null && row.locked_until > before) throw operatorLocked(row.locked_until, before);
    const good = isPinShaped(pin) && (await verifyPin(pin, row.pin_hash));
    const now = this.deps.clock.now();
    if (good) {
      this.repo.recordSuccess(id, now);
      return this.view(this.repo.get(id)!);
    }
    const after = tx(this.deps.db, () => {
      const r = this.repo.recordFailure(id, MAX_FAILED_PINS, now + LOCKOUT_MS, now);
      const locked = r.locked_until !== null && r.locked_until > now && r.failed_attempts === 0;
      audit(this.deps.db, now, `operator:${id}`, locked ? 'operator.locked' : 'operator.pin_failed', `operator:${id}`, { operatorId: id, purpose });
      return r;
    });
    if (after.locked_until !== null && after.locked_until > now && after.failed_attempts === 0) throw operatorLocked(after.locked_until, now);
    throw pinInvalid(MAX_FAILED_PINS - after.failed_attempts);
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

  /** An approver: a supervisor or store IT, other than `operatorId`, with the right PIN. */
  async approve(approverId: number, pin: string, operatorId: number | null): Promise<Operator> {
    const row = this.repo.get(approverId);
    if (row && row.active === 1 && (row.role === 'cashier' || row.id === operatorId)) throw approverNotAllowed();
    return this.verify(approverId, pin, 'approval');
  }
}
