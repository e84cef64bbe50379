/**
 * The product's error type: a stable code, a message for a cashier in zh-CN
 * and en, and details (the gateway's own code and message when there is one).
 * What crosses IPC and what the CLI prints is built from this, never from a
 * thrown Error's text. Messages never contain secrets.
 */
import { sqliteCannotWrite } from './common/sqlite-codes';

export interface ErrorInfo {
  code: string;
  messageZh: string;
  messageEn: string;
  details?: Record<string, unknown>;
}

export class PosError extends Error implements ErrorInfo {
  readonly messageZh: string;
  readonly messageEn: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    readonly code: string,
    messageZh: string,
    messageEn: string,
    details?: Record<string, unknown>,
  ) {
    super(messageEn);
    this.name = 'PosError';
    this.messageZh = messageZh;
    this.messageEn = messageEn;
    this.details = details;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, messageZh: this.messageZh, messageEn: this.messageEn, ...(this.details ? { details: this.details } : {}) };
  }
}

export const invalidInput = (field: string, reasonEn: string, reasonZh = reasonEn) =>
  new PosError('INVALID_INPUT', `输入无效（${field}）：${reasonZh}`, `Invalid input (${field}): ${reasonEn}`, { field });

export const notActivated = () =>
  new PosError('NOT_ACTIVATED', '终端尚未激活：请先由门店 IT 激活终端。', 'This terminal is not activated yet: ask store IT to activate it first.');

/** Maps an unexpected throwable to a PosError without leaking its text to a cashier. */
export function toPosError(err: unknown): PosError {
  if (err instanceof PosError) return err;
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'PrinterUriError') {
    // A refused printer destination is a bad input, named as such (not an internal error).
    const p = err as { message: string; messageZh: string };
    return new PosError('INVALID_INPUT', p.messageZh, p.message, { field: 'printer' });
  }
  if (e?.name === 'StoreError' && (err as { messageZh?: string }).messageZh) {
    const s = err as { code: string; message: string; messageZh: string; details?: Record<string, unknown> };
    return new PosError(s.code, s.messageZh, s.message, s.details);
  }
  if (e?.name === 'StoreError') {
    return new PosError(
      e.code ?? 'STORE_FAILED',
      '本机数据库无法写入，已保存的数据不受影响。请联系门店 IT 检查磁盘空间和权限。',
      'The local database cannot be written; what was saved is intact. Ask store IT to check disk space and permissions.',
      { reason: e.message },
    );
  }
  if (e?.name === 'VaultError') {
    return new PosError(e.code ?? 'VAULT_ERROR', '终端密钥无法读取，请联系门店 IT。', `The terminal key cannot be read (${e.message}): ask store IT.`, {
      reason: e.message,
    });
  }
  if (sqliteCannotWrite(e?.code)) {
    return new PosError(
      'STORE_UNWRITABLE',
      '本机数据库无法写入（磁盘已满或只读），已保存的数据不受影响。请联系门店 IT。',
      'The local database cannot be written (disk full or read-only); what was saved is intact. Ask store IT.',
      { reason: e.code },
    );
  }
  return new PosError('INTERNAL', '系统内部错误，操作未完成。请重试或联系门店 IT。', 'Internal error: the operation did not complete. Retry or ask store IT.', {
    reason: e?.message ?? String(err),
  });
}
