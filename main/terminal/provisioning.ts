/**
 * Terminal provisioning: activation (vendor-signed), daily check-in (key
 * rotation) and the signer every other gateway call uses. The key is sealed
 * by the injected vault; a new key is stored before it is ever used, and the
 * previous one is kept until then, so a lost check-in answer can be retried
 * with the old key.
 */
import type { TerminalInfo } from '../domain';
import { notActivated, PosError } from '../errors';
import { audit } from '../store/audit';
import { tx, type Db } from '../store/db';
import { acquireLease, newOwnerId, releaseLease } from '../store/locks';
import { TerminalRepo, type TerminalRow } from '../store/terminal';
import type { Signer, UpayClient } from '../upay/client';
import { failureToError } from '../upay/explain';
import { businessDay, type Clock } from '../common/time';
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

  constructor(private readonly deps: ProvisioningDeps) {
    this.repo = new TerminalRepo(deps.db);
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
    const existing = this.repo.get();
    if (existing && !input.force) {
      throw new PosError(
        'ALREADY_ACTIVATED',
        `本机已激活为终端 ${existing.terminal_sn}；如需重新激活请使用 --force。`,
        `This device is already activated as terminal ${existing.terminal_sn}; use --force to re-activate.`,
        { terminalSn: existing.terminal_sn },
      );
    }
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
      });
    });
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
        if (this.checkedInToday()) return this.info()!;
        if (this.takeLease()) break;
        if (Date.now() >= waitUntil) {
          throw new PosError('CHECKIN_BUSY', '另一个程序正在签到，请稍后再试。', 'Another program is checking in right now; try again shortly.');
        }
        await new Promise((r) => setTimeout(r, CHECKIN_WAIT_STEP_MS));
      }
      try {
        if (this.checkedInToday()) return this.info()!;
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

  private async checkinLocked(actor: string): Promise<TerminalInfo> {
    let lostReason = '';
    // A lost answer is retried with the same (old) key: the gateway still accepts the previous key after one
    // rotation, and a retry cannot make things worse (if two answers were lost, the old key is dead either way).
    for (let attempt = 1; attempt <= CHECKIN_ATTEMPTS; attempt++) {
      const row = this.repo.get();
      if (!row) throw notActivated();
      const oldKey = this.openKey(row);
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
        tx(this.deps.db, () => {
          this.repo.rotateKey(this.vaultOf(row).seal(res.value.terminalKey), row.sealed_key, businessDay(now), now);
          audit(this.deps.db, now, actor, 'terminal.checkin', row.terminal_sn, { attempt });
        });
        return this.info()!;
      }
      if (res.kind !== 'maybe_sent') throw failureToError(res);
      lostReason = res.reason;
      this.deps.log?.(`check-in answer lost (${res.reason}); ${attempt < CHECKIN_ATTEMPTS ? 'retrying with the previous key' : 'giving up for now'}`);
    }
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
   * current key stays valid.
   */
  async signerForToday(actor: string): Promise<Signer> {
    const row = this.repo.signing();
    if (!row) throw notActivated();
    if (row.last_checkin_day === businessDay(this.deps.clock.now())) return { sn: row.terminal_sn, key: this.openKey(row) };
    try {
      await this.checkinToday(actor);
    } catch (err) {
      this.deps.log?.(`daily check-in failed: ${(err as PosError).code ?? 'error'}; continuing with the current key`);
    }
    return this.signer();
  }
}
