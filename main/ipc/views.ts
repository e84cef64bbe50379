/**
 * The contract's view types built from the runtime's domain objects: what
 * crosses IPC (never a key, never a raw gateway answer).
 */
import { revokeOutcome } from '../common/states';
import { businessDay, businessDayEnd } from '../common/time';
import type { Order, PrintJob, Revoke, TerminalInfo } from '../domain';
import type { QueueStatus } from '../events';
import type { Settings } from '../store/settings';
import { safeStrings } from '../util/text';
import type { Operator } from '../operators/service';
import type { Refund } from '../store/refunds';
import type { OperationSummary } from '../common/order-status';
import type { OperatorView, OrderView, PrintJobView, QueueStatusView, RevokeView, SettingsView, TerminalStatus } from './contract';

function deadlineAt(day: string): number {
  try {
    return businessDayEnd(day);
  } catch {
    return 0;
  }
}

/** The approver and progress fields a revoke's and a refund's views share. */
export function operationProgress(r: Pick<Revoke, 'approverId' | 'approverName' | 'requestedAt' | 'updatedAt' | 'attempts' | 'queries'>) {
  return { approverId: r.approverId, approverName: r.approverName, requestedAt: r.requestedAt, updatedAt: r.updatedAt, attempts: r.attempts, queries: r.queries };
}

export function toRevokeView(r: Revoke): RevokeView {
  return {
    id: r.id,
    orderSn: r.orderSn,
    clientSn: r.clientSn,
    state: r.state,
    outcome: revokeOutcome(r.state),
    operator: r.operator,
    operatorId: r.operatorId,
    ...operationProgress(r),
    deadlineDay: r.deadlineDay,
    deadlineAt: deadlineAt(r.deadlineDay),
    revokedAt: r.revokedAt,
    error: r.error
      ? { code: r.error.code, messageZh: r.error.messageZh, messageEn: r.error.messageEn, gatewayCode: r.error.gatewayCode, gatewayMessage: r.error.gatewayMessage }
      : null,
  };
}

/** Every money operation of an order as the one status function reads it (main/common/order-status.ts). */
export function operationSummaries(o: Pick<Order, 'totalCents'>, revoke: Revoke | null | undefined, refunds: readonly Refund[]): OperationSummary[] {
  const out: OperationSummary[] = refunds.map((r) => ({ kind: 'refund', id: r.id, state: r.state, amountCents: r.amountCents, updatedAt: r.updatedAt }));
  if (revoke) out.push({ kind: 'revoke', id: revoke.id, state: revoke.state, amountCents: o.totalCents, updatedAt: revoke.updatedAt });
  return out;
}

/** Cleaned of control and format characters here too: the day's list (DayOrders) is built from this, not through `wrap`. */
export function toOrderView(o: Order, revoke: Revoke | null | undefined, refunds: readonly Refund[] = []): OrderView {
  return safeStrings({
    sn: o.sn,
    clientSn: o.clientSn,
    tradeNo: o.tradeNo,
    totalCents: o.totalCents,
    netCents: o.netCents,
    payway: o.payway,
    paywayName: o.paywayName,
    subject: o.subject,
    operator: o.operator,
    finishedAt: o.finishedAt,
    status: o.status,
    businessDay: o.businessDay,
    revoke: revoke ? toRevokeView(revoke) : null,
    operations: operationSummaries(o, revoke, refunds),
  });
}

export function toTerminalStatus(info: TerminalInfo | null, vaultKind: string, now: number): TerminalStatus {
  const day = businessDay(now);
  return {
    activated: info !== null,
    terminal: info
      ? {
          terminalSn: info.terminalSn,
          deviceId: info.deviceId,
          merchantSn: info.merchantSn,
          merchantName: info.merchantName,
          storeSn: info.storeSn,
          storeName: info.storeName,
          activatedAt: info.activatedAt,
          keyUpdatedAt: info.keyUpdatedAt,
          lastCheckinDay: info.lastCheckinDay,
        }
      : null,
    checkedInToday: info?.lastCheckinDay === day,
    keyAgeMs: info ? Math.max(0, now - info.keyUpdatedAt) : null,
    businessDay: day,
    vault: vaultKind,
  };
}

export function toPrintJobView(j: PrintJob): PrintJobView {
  return {
    id: j.id,
    revokeId: j.revokeId,
    orderSn: j.orderSn,
    kind: j.kind,
    copy: j.copy,
    state: j.state,
    attempts: j.attempts,
    lastError: j.lastError,
    createdAt: j.createdAt,
    printedAt: j.printedAt,
  };
}

export function toQueueStatusView(q: QueueStatus): QueueStatusView {
  return { queued: q.queued, pending: q.pending, sending: q.sending, needsAttention: q.needsAttention, oldestAgeMs: q.oldestAgeMs, online: q.online };
}

export function toSettingsView(s: Settings): SettingsView {
  return {
    apiDomain: s.apiDomain ?? null,
    printer: s.printer ?? null,
    printerType: s.printerType,
    paperWidth: s.paperWidth,
    receiptChinese: s.receiptChinese,
    retentionDays: s.retentionDays,
    expiryWarningMinutes: s.expiryWarningMinutes,
    language: s.language,
    kiosk: s.kiosk,
    // --- operators
    sessionIdleMinutes: s.sessionIdleMinutes,
    sessionMaxHours: s.sessionMaxHours,
    revokeApproval: s.revokeApproval,
    revokeApprovalAboveCents: s.revokeApprovalAboveCents,
    refundApproval: s.refundApproval,
    refundApprovalAboveCents: s.refundApprovalAboveCents,
    payApproval: s.payApproval,
    payApprovalAboveCents: s.payApprovalAboveCents,
    storeName: s.storeName ?? null,
  };
}

// --- operators
export function toOperatorView(o: Operator): OperatorView {
  return safeStrings({
    id: o.id,
    name: o.name,
    role: o.role,
    active: o.active,
    language: o.language,
    lockedUntil: o.lockedUntil,
    failedAttempts: o.failedAttempts,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  });
}
