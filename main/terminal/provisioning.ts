/**
 * Terminal provisioning: activation (vendor-signed), daily check-in (key
 * rotation) and the signer every other gateway call uses. The key is sealed
 * by the injected vault; a new key is stored before it is ever used, and the
 * previous one is kept until then, so a lost check-in answer can be retried
 * with the old key.
 *
 * One lease (`terminal.checkin`) covers every change of the key: check-in and
 * activation (a --force re-activation never runs while a check-in is between
 * reading the key and storing the next one), and a rotation only replaces the
 * key it read. A daily check-in that failed or got no answer is not tried
 * again before a back-off (1 min doubling to 15 min, shared by the processes
 * of the data dir); calls meanwhile use the current key at once. A call
 * refused ILLEGAL_SIGN (e.g. a key the gateway dated to the day before, its
 * clock being behind ours) reports it with `keyRefused`: the next call checks
 * in first, at most once per 5 minutes.
 */
import type { TerminalInfo } from '../domain';
import { notActivated, PosError } from '../errors';
import { audit } from '../store/audit';
import { tx, type Db } from '../store/db';
import { acquireLease, clearLease, newOwnerId, releaseLease } from '../store/locks';
import { TerminalRepo, type TerminalRow } from '../store/terminal';
import type { Signer, UpayClient } from '../upay/client';
import { failureToError } from '../upay/explain';
import { businessDay, type Clock } from '../common/time';
import { openOperationCounts } from '../store/open-operations';
import { operationsOpen } from './activation-guard';
import { CheckinBackoff } from './checkin-backoff';
import { VaultError, type KeyVault } from './vault';

export interface ActivateInput {
  appId: string;
  code: string;
  deviceId: string;
  vendorSn: string;
  /** Secret: used to sign this one call, never stored. */
  vendorKey: string;
  name?: string | undefined;
  force?: boolean | undefined;
  /**
   * With `force`: re-activate although money operations of the current
   * terminal are still open (they are then queried or canceled under the new
   * terminal). Store IT's escape hatch when `queue drain` cannot settle them
   * (e.g. the old terminal's key is dead).
   */
  allowOpenOperations?: boolean | undefined;
}

export interface ProvisioningDeps {
  db: Db;
  /** Seals the key of a terminal activated here. */
  vault: KeyVault;
  /**
   * Other vaults this process can use for a terminal activated elsewhere (the
   * app also holds the file vault, so a terminal activated from the CLI keeps
   * working in both). A terminal keeps the vault it was activated with.
   */
  otherVaults?: KeyVault[];
  client: UpayClient;
  clock: Clock;
  log?: (line: string) => void;
  osInfo?: string;
  sdkVersion?: string;
}

const CHECKIN_LEASE = 'terminal.checkin';
/** Taken (never released) by a `keyRefused` that forced a check-in: at most one per KEY_REFUSED_EVERY_MS. */
const KEY_REFUSED = 'terminal.key-refused';
/** At most one check-in forced by ILLEGAL_SIGN answers per this interval (all processes of the data dir). */
export const KEY_REFUSED_EVERY_MS = 5 * 60_000;
/** Attempts per check-in while the answer is lost (each signed with the key on disk). */
const CHECKIN_ATTEMPTS = 3;
/** How often a caller waiting for another process's check-in looks again. */
const CHECKIN_WAIT_STEP_MS = 100;

export class Provisioning {
  private readonly repo: TerminalRepo;
  private readonly owner = newOwnerId('checkin');
  private opened: { sealed: Buffer; key: string } | null = null;
  /** The check-in this process is running: every caller in the meantime shares it (single-flight). */
  private inflight: Promise<TerminalInfo> | null = null;
  private readonly backoff: CheckinBackoff;

  constructor(private readonly deps: ProvisioningDeps) {
    this.repo = new TerminalRepo(deps.db);
    this.backoff = new CheckinBackoff(deps.db, deps.clock, deps.log);
  }

  info(): TerminalInfo | null {
    return this.repo.info() ?? null;
  }

  /** The current signer; throws NOT_ACTIVATED when there is no terminal. */
  signer(): Signer {
    const row = this.repo.signing();
    if (!row) throw notActivated();
    return { sn: row.terminal_sn, key: this.openKey(row) };
  }

  /** The vault that sealed this terminal's key; refuses clearly when this process has no such vault. */
  private vaultOf(row: Pick<TerminalRow, 'key_vault'>): KeyVault {
    const vault = [this.deps.vault, ...(this.deps.otherVaults ?? [])].find((v) => v.kind === row.key_vault);
    if (!vault) {
      throw new VaultError(
        'VAULT_MISMATCH',
        `the terminal key is sealed by the ${row.key_vault} vault, which this program cannot use (it has ${this.deps.vault.kind}): run it where the terminal was activated (e.g. the app), or re-activate here`,
      );
    }
    return vault;
  }

  private openKey(row: Pick<TerminalRow, 'key_vault' | 'sealed_key'>): string {
    // Opened once per sealed key, not per gateway call (a key changes once a day).
    if (this.opened && this.opened.sealed.equals(row.sealed_key)) return this.opened.key;
    const key = this.vaultOf(row).open(row.sealed_key);
    this.opened = { sealed: Buffer.from(row.sealed_key), key };
    return key;
  }

  async activate(input: ActivateInput, actor: string): Promise<TerminalInfo> {
    // Refused at once (no wait, no gateway call), then again under the lease: another process may have changed things.
    this.checkActivation(input);
    // The check-in lease: a check-in running now finishes (and stores its key) first, and none starts until this
    // activation is stored, so a rotation never writes the old terminal's key over the new one.
    await this.takeLeaseWaiting(this.deps.client.timeoutFor('activate') + 5_000, () => {
      return new PosError(
        'CHECKIN_BUSY',
        '另一个程序正在签到或激活终端，请稍后再试。',
        'Another program is checking in or activating the terminal right now; try again shortly.',
      );
    });
    try {
      const existing = this.checkActivation(input);
      return await this.activateLocked(input, actor, existing);
    } finally {
      releaseLease(this.deps.db, CHECKIN_LEASE, this.owner);
    }
  }

  /** ALREADY_ACTIVATED without force; OPERATIONS_OPEN when force would strand open money operations. */
  private checkActivation(input: ActivateInput): TerminalRow | undefined {
    const existing = this.repo.get();
    if (existing && !input.force) {
      throw new PosError(
        'ALREADY_ACTIVATED',
        `本机已激活为终端 ${existing.terminal_sn}；如需重新激活请使用 --force。`,
        `This device is already activated as terminal ${existing.terminal_sn}; use --force to re-activate.`,
        { terminalSn: existing.terminal_sn },
      );
    }
    if (existing && !input.allowOpenOperations) {
      const refusal = operationsOpen(this.deps.db, existing.terminal_sn);
      if (refusal) throw refusal;
    }
    return existing;
  }

  private async activateLocked(input: ActivateInput, actor: string, existing: TerminalRow | undefined): Promise<TerminalInfo> {
    const res = await this.deps.client.activate(
      { sn: input.vendorSn, key: input.vendorKey },
      {
        app_id: input.appId,
        code: input.code,
        device_id: input.deviceId,
        ...(input.name ? { name: input.name } : {}),
        ...(this.deps.osInfo ? { os_info: this.deps.osInfo } : {}),
        ...(this.deps.sdkVersion ? { sdk_version: this.deps.sdkVersion } : {}),
      },
    );
    if (!res.ok) {
      const err = failureToError(res);
      if (res.kind === 'maybe_sent') {
        // The gateway may have created a terminal and used up the code; we cannot know its key.
        err.details!.hint = 'the activation code may be used up: ask for a new code';
      }
      throw err;
    }
    const now = this.deps.clock.now();
    const c = res.value;
    // Persist before anything else: each activation creates a new terminal at the gateway.
    tx(this.deps.db, () => {
      // Opened since the check (the app taking a payment meanwhile): stored anyway (the code is used up), and told.
      const stillOpen = existing ? openOperationCounts(this.deps.db).reduce((n, o) => n + o.count, 0) : 0;
      this.repo.put({
        terminal_sn: c.terminalSn,
        device_id: input.deviceId,
        app_id: input.appId,
        merchant_sn: c.merchantSn,
        merchant_name: c.merchantName,
        store_sn: c.storeSn,
        store_name: c.storeName,
        key_vault: this.deps.vault.kind,
        sealed_key: this.deps.vault.seal(c.terminalKey),
        key_updated_at: now,
        activated_at: now,
      });
      audit(this.deps.db, now, actor, 'terminal.activated', c.terminalSn, {
        deviceId: input.deviceId,
        storeName: c.storeName,
        merchantName: c.merchantName,
        forced: Boolean(existing),
        ...(existing ? { previousTerminalSn: existing.terminal_sn } : {}),
        ...(stillOpen > 0 ? { openOperations: stillOpen } : {}),
      });
    });
    // A new terminal: the old one's back-off and refusals say nothing about it.
    this.backoff.clear();
    clearLease(this.deps.db, KEY_REFUSED);
    return this.info()!;
  }

  /**
   * Rotates the key. Within this process a check-in already running is shared;
   * across processes it runs under a lease so the app and the CLI never rotate
   * at once (two rotations would leave one of them with a dead key).
   */
  checkin(actor: string): Promise<TerminalInfo> {
    return this.shared(async () => {
      if (!this.takeLease()) {
        throw new PosError('CHECKIN_BUSY', '另一个程序正在签到，请稍后再试。', 'Another program is checking in right now; try again shortly.');
      }
      try {
        return await this.checkinLocked(actor);
      } finally {
        releaseLease(this.deps.db, CHECKIN_LEASE, this.owner);
      }
    });
  }

  /**
   * The day's first check-in, once however many callers ask at the same
   * moment: in this process they share one promise; another process's
   * check-in is waited for (its lease), and "checked in today?" is asked
   * again after taking the lease, so the key rotates once a day.
   */
  private checkinToday(actor: string): Promise<TerminalInfo> {
    return this.shared(async () => {
      const waitUntil = Date.now() + this.leaseTtlMs();
      for (;;) {
        // Another process may have checked in, or failed and set the back-off, while we waited.
        if (this.checkedInToday() || this.backoff.active()) return this.info()!;
        if (this.takeLease()) break;
        if (Date.now() >= waitUntil) {
          throw new PosError('CHECKIN_BUSY', '另一个程序正在签到，请稍后再试。', 'Another program is checking in right now; try again shortly.');
        }
        await new Promise((r) => setTimeout(r, CHECKIN_WAIT_STEP_MS));
      }
      try {
        if (this.checkedInToday() || this.backoff.active()) return this.info()!;
        return await this.checkinLocked(actor);
      } finally {
        releaseLease(this.deps.db, CHECKIN_LEASE, this.owner);
      }
    });
  }

  private shared(run: () => Promise<TerminalInfo>): Promise<TerminalInfo> {
    if (this.inflight) return this.inflight;
    const p = run().finally(() => {
      this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  private checkedInToday(): boolean {
    const row = this.repo.signing();
    if (!row) throw notActivated();
    return row.last_checkin_day === businessDay(this.deps.clock.now());
  }

  /** Long enough for every attempt of one check-in to run to its deadline. */
  private leaseTtlMs(): number {
    return CHECKIN_ATTEMPTS * this.deps.client.timeoutFor('checkin') + 5_000;
  }

  private takeLease(): boolean {
    return acquireLease(this.deps.db, CHECKIN_LEASE, this.owner, this.leaseTtlMs(), this.deps.clock.now());
  }

  /** Takes the check-in lease for `ttlMs`, waiting at most as long as a check-in may run; else `busy()`. */
  private async takeLeaseWaiting(ttlMs: number, busy: () => PosError): Promise<void> {
    const waitUntil = Date.now() + this.leaseTtlMs();
    while (!acquireLease(this.deps.db, CHECKIN_LEASE, this.owner, ttlMs, this.deps.clock.now())) {
      if (Date.now() >= waitUntil) throw busy();
      await new Promise((r) => setTimeout(r, CHECKIN_WAIT_STEP_MS));
    }
  }

  private async checkinLocked(actor: string): Promise<TerminalInfo> {
    let lostReason = '';
    // A lost answer is retried with the same (old) key: the gateway still accepts the previous key after one
    // rotation, and a retry cannot make things worse (if two answers were lost, the old key is dead either way).
    for (let attempt = 1; attempt <= CHECKIN_ATTEMPTS; attempt++) {
      const row = this.repo.get();
      if (!row) throw notActivated();
      const oldKey = this.openKey(row);
      // The day the key is for is the day the request left: an answer that comes back after midnight may carry a
      // key the gateway dated to the day before, and that key must not pass for the new day's.
      const sentAt = this.deps.clock.now();
      const res = await this.deps.client.checkin(
        { sn: row.terminal_sn, key: oldKey },
        {
          device_id: row.device_id,
          ...(this.deps.osInfo ? { os_info: this.deps.osInfo } : {}),
          ...(this.deps.sdkVersion ? { sdk_version: this.deps.sdkVersion } : {}),
        },
      );
      if (res.ok) {
        const now = this.deps.clock.now();
        const stored = tx(this.deps.db, () => {
          // Only over the key this check-in read: a re-activation (or another rotation) in between keeps its key.
          const changed = this.repo.rotateKey(this.vaultOf(row).seal(res.value.terminalKey), { terminalSn: row.terminal_sn, sealedKey: row.sealed_key }, businessDay(sentAt), now);
          if (changed) audit(this.deps.db, now, actor, 'terminal.checkin', row.terminal_sn, { attempt });
          return changed > 0;
        });
        if (!stored) {
          this.deps.log?.(`check-in answer for terminal ${row.terminal_sn} discarded: the stored terminal or key changed meanwhile (re-activated?); nothing overwritten`);
          throw new PosError(
            'CHECKIN_SUPERSEDED',
            `签到期间终端 ${row.terminal_sn} 已被重新激活或密钥已被更换：本次签到得到的密钥未保存，已保存的终端和密钥保持不变。`,
            `The terminal ${row.terminal_sn} was re-activated or its key replaced during the check-in: the key it got was not stored; the stored terminal and key are unchanged.`,
            { terminalSn: row.terminal_sn },
          );
        }
        this.backoff.clear();
        return this.info()!;
      }
      if (res.kind !== 'maybe_sent') {
        const err = failureToError(res);
        this.backoff.failed(err.code);
        throw err;
      }
      lostReason = res.reason;
      this.deps.log?.(`check-in answer lost (${res.reason}); ${attempt < CHECKIN_ATTEMPTS ? 'retrying with the previous key' : 'giving up for now'}`);
    }
    this.backoff.failed('CHECKIN_UNCERTAIN');
    throw new PosError(
      'CHECKIN_UNCERTAIN',
      '签到没有收到明确答复：当前密钥仍然保留，请稍后再次签到。',
      'The check-in got no clear answer; the current key is kept. Run check-in again shortly.',
      { reason: lostReason, attempts: CHECKIN_ATTEMPTS },
    );
  }

  /**
   * The signer for a gateway call, checking in first when this business day
   * has had no check-in yet. A failed check-in does not block the call: the
   * current key stays valid; and after one, calls do not wait for another
   * before the back-off is over (1 min doubling to 15 min): they get the
   * current key at once.
   */
  async signerForToday(actor: string): Promise<Signer> {
    const row = this.repo.signing();
    if (!row) throw notActivated();
    if (row.last_checkin_day === businessDay(this.deps.clock.now()) || this.backoff.active()) return { sn: row.terminal_sn, key: this.openKey(row) };
    try {
      await this.checkinToday(actor);
    } catch (err) {
      this.deps.log?.(`daily check-in failed: ${(err as PosError).code ?? 'error'}; continuing with the current key`);
    }
    return this.signer();
  }

  /**
   * A terminal-signed call was answered ILLEGAL_SIGN: the key may be dated to
   * the day before (the gateway's clock behind ours at the day's check-in) or
   * otherwise stale. Marks today as not checked in, so the next call's
   * `signerForToday` checks in first. At most once per KEY_REFUSED_EVERY_MS
   * across the processes of the data dir, and only for the key stored now
   * (`refused`, when given, is the signer the refused call used: a refusal of
   * a key already replaced changes nothing). The back-off of a failed
   * check-in still applies. Returns true when it marked the day.
   */
  keyRefused(refused?: Signer): boolean {
    const row = this.repo.signing();
    if (!row) return false;
    if (refused && (refused.sn !== row.terminal_sn || refused.key !== this.openKey(row))) return false;
    const now = this.deps.clock.now();
    const today = businessDay(now);
    // Not checked in today: the next call checks in anyway (or the back-off holds it).
    if (row.last_checkin_day !== today) return false;
    const marked = tx(this.deps.db, () => {
      if (!acquireLease(this.deps.db, KEY_REFUSED, this.owner, KEY_REFUSED_EVERY_MS, now)) return 'rate-limited';
      // Dated to the day before, like a key the gateway dated so: "last check-in" stays readable, and is not today.
      if (this.repo.markKeyStale({ terminalSn: row.terminal_sn, sealedKey: row.sealed_key }, today, businessDay(now - 86_400_000)) > 0) return 'marked';
      // Re-activated or rotated meanwhile: nothing to force, and the allowance is not spent.
      releaseLease(this.deps.db, KEY_REFUSED, this.owner);
      return 'changed';
    });
    const said = marked === 'marked' ? ': the next call checks in first' : marked === 'rate-limited' ? `; a check-in was forced less than ${KEY_REFUSED_EVERY_MS / 60_000} min ago: not again yet` : null;
    if (said) this.deps.log?.(`the gateway refused the signature (ILLEGAL_SIGN) of terminal ${row.terminal_sn}${said}`);
    return marked === 'marked';
  }
}

export { refusesKey } from '../upay/result';
export { CHECKIN_BACKOFF_BASE_MS, CHECKIN_BACKOFF_CAP_MS } from './checkin-backoff';
