/**
 * The sandbox's terminals: activation codes, activation, check-in with key
 * rotation, the keys a request may be signed with (in `strict` mode a key
 * expires at the end of the natural day, UTC+8, it was issued on, as the
 * documents' FAQ says), and switchable terminal states.
 */
import { businessDay, type Clock } from '../common/time';
import { invalidParams, LIMITS, ok, requireFields, topError, type AnswerShape, type Fields, type Outcome } from './wire';

/** `abnormal`: UPAY_TERMINAL_STATUS_ABNORMAL; `not_exists`: UPAY_TERMINAL_NOT_EXISTS (order endpoints). */
export type TerminalStatus = 'active' | 'abnormal' | 'not_exists';

/** A terminal as the sandbox knows it (keys included: this is the gateway side). */
export interface SandboxTerminal {
  terminalSn: string;
  /** The current key. */
  terminalKey: string;
  /** The key before the last rotation; still accepted. Null right after activation. */
  previousKey: string | null;
  /** Unix ms the current key was issued (strict mode expires it with its day). */
  keyIssuedAt: number;
  previousKeyIssuedAt: number | null;
  deviceId: string;
  merchantSn: string;
  merchantName: string;
  storeSn: string;
  storeName: string;
  activatedAt: number;
  /** Number of successful check-ins (key rotations). */
  checkins: number;
  status: TerminalStatus;
}

export const SANDBOX_MERCHANT = {
  merchantSn: '1680001234567',
  merchantName: '收钱吧沙箱商户',
  storeSn: '1580001234567',
  storeName: '沙箱一号店',
} as const;

export type AuthResult = { ok: true; terminal: SandboxTerminal; signedWith: string } | { ok: false; outcome: Outcome };

export class TerminalRegistry {
  private readonly bySn = new Map<string, SandboxTerminal>();
  /** Code -> used. */
  private readonly codes = new Map<string, boolean>();

  constructor(
    private readonly opts: { clock: Clock; appId: string; shape: AnswerShape; strict: boolean; digits: (n: number) => string; newKey: () => string },
    codes: string[],
  ) {
    for (const code of codes) this.codes.set(code, false);
  }

  unusedCodes(): string[] {
    return [...this.codes].filter(([, used]) => !used).map(([code]) => code);
  }

  addCode(code?: string): string {
    let c = code;
    if (c === undefined) {
      do c = `2${this.opts.digits(7)}`;
      while (this.codes.has(c));
    }
    if (!this.codes.has(c)) this.codes.set(c, false);
    return c;
  }

  get(sn: string): SandboxTerminal | undefined {
    return this.bySn.get(sn);
  }

  all(): SandboxTerminal[] {
    return [...this.bySn.values()].map((t) => ({ ...t }));
  }

  setStatus(sn: string, status: TerminalStatus): void {
    const t = this.bySn.get(sn);
    if (!t) throw new Error(`sandbox: no terminal ${sn}`);
    t.status = status;
  }

  create(deviceId = `sandbox-device-${this.bySn.size + 1}`): SandboxTerminal {
    let sn: string;
    do sn = `100${this.opts.digits(11)}`;
    while (this.bySn.has(sn));
    const now = this.opts.clock.now();
    const t: SandboxTerminal = {
      terminalSn: sn,
      terminalKey: this.opts.newKey(),
      previousKey: null,
      keyIssuedAt: now,
      previousKeyIssuedAt: null,
      deviceId,
      ...SANDBOX_MERCHANT,
      activatedAt: now,
      checkins: 0,
      status: 'active',
    };
    this.bySn.set(sn, t);
    return { ...t };
  }

  /**
   * Which key signed the request. Unknown terminals answer the tables'
   * INVALID_TERMINAL. In strict mode a key from an earlier day only signs a
   * check-in (the way to get today's key); anything else is ILLEGAL_SIGN.
   */
  authenticate(sn: string, matches: (key: string) => boolean, checkin: boolean): AuthResult {
    const t = this.bySn.get(sn);
    if (!t) return { ok: false, outcome: { envelope: topError('400', 'INVALID_TERMINAL', '终端错误'), effect: false, terminalSn: sn } };
    const signedWith = [t.terminalKey, t.previousKey].find((k): k is string => k !== null && matches(k));
    const illegal = (message: string): AuthResult => ({ ok: false, outcome: { envelope: topError('400', 'ILLEGAL_SIGN', message), effect: false, terminalSn: sn } });
    if (signedWith === undefined) return illegal('签名错误');
    const issuedAt = signedWith === t.terminalKey ? t.keyIssuedAt : (t.previousKeyIssuedAt ?? t.keyIssuedAt);
    if (this.opts.strict && !checkin && businessDay(issuedAt) !== businessDay(this.opts.clock.now())) {
      return illegal('签名错误（终端密钥已过期，请先签到）');
    }
    return { ok: true, terminal: t, signedWith };
  }

  activate(f: Fields): Outcome {
    const missing = requireFields(f, ['app_id', 'code', 'device_id']);
    if (missing) return missing;
    if (f.app_id !== this.opts.appId) return invalidParams('app_id 不存在');
    if ((f.device_id ?? '').length > LIMITS.deviceId) return invalidParams(`device_id 超过${LIMITS.deviceId}个字符`);
    const code = f.code ?? '';
    const used = this.codes.get(code);
    if (used === undefined) return { envelope: topError('400', 'INVALID_PARAMS', '激活码不存在'), effect: false };
    if (used) return { envelope: topError('400', 'INVALID_PARAMS', '激活码已被使用'), effect: false };
    this.codes.set(code, true);
    const t = this.create(f.device_id);
    return {
      envelope: ok({
        terminal_sn: t.terminalSn,
        terminal_key: t.terminalKey,
        merchant_sn: t.merchantSn,
        merchant_name: t.merchantName,
        store_sn: t.storeSn,
        store_name: t.storeName,
      }),
      effect: true,
      terminalSn: t.terminalSn,
    };
  }

  /**
   * Rotation rule: after a check-in the valid keys are the new key and the key
   * that signed the check-in. Signed with the current key this is the usual
   * "new + previous". Signed with the previous key it is a retry after a lost
   * response: the undelivered key is dropped and the caller can retry again
   * with the same old key as often as it takes, never locking itself out.
   */
  checkin(t: SandboxTerminal, signedWith: string, f: Fields): Outcome {
    const missing = requireFields(f, ['terminal_sn', 'device_id']);
    if (missing) return missing;
    t.previousKeyIssuedAt = signedWith === t.terminalKey ? t.keyIssuedAt : t.previousKeyIssuedAt;
    t.previousKey = signedWith;
    t.terminalKey = this.opts.newKey();
    t.keyIssuedAt = this.opts.clock.now();
    t.checkins += 1;
    // Real check-in answers carry the merchant fields, empty.
    const merchant = this.opts.shape === 'real' ? { merchant_sn: '', merchant_name: '', store_sn: '', store_name: '' } : {};
    return { envelope: ok({ terminal_sn: t.terminalSn, terminal_key: t.terminalKey, ...merchant }), effect: true, terminalSn: t.terminalSn };
  }
}
