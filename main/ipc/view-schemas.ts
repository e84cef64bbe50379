/**
 * What the main process returns across IPC, as strict zod schemas: orders,
 * revokes, refunds, the day report, the terminal, printing, settings and
 * operators. A field that is not here (a key, a raw gateway answer) cannot
 * pass the output check. Re-exported by contract.ts, the one entry point.
 */
import { z } from 'zod';
import { REVOKE_OUTCOMES, REVOKE_STATES } from '../common/states';
import { cents, count, id, ms } from './schema-primitives';

export { REVOKE_OUTCOMES, REVOKE_STATES };
export const PRINTER_STATES = ['ok', 'offline', 'paper_out', 'cover_open', 'unknown', 'none'] as const;
export const PRINT_JOB_STATES = ['pending', 'printed', 'failed'] as const;
export const LANGUAGES = ['zh-CN', 'en'] as const;
export const ROLES = ['cashier', 'supervisor', 'store_it'] as const;
export const APPROVAL_RULES = ['always', 'above', 'never'] as const;
export const MODES = ['sandbox', 'production'] as const;

export const revokeErrorViewSchema = z.strictObject({
  code: z.string(),
  messageZh: z.string(),
  messageEn: z.string(),
  gatewayCode: z.string().nullable(),
  gatewayMessage: z.string().nullable(),
});

/** A money operation's approver (审批人, when someone approved) and its progress: the same on a revoke and a refund. */
const operationProgress = {
  approverId: id.nullable(),
  approverName: z.string().nullable(),
  requestedAt: ms,
  updatedAt: ms,
  attempts: count,
  queries: count,
};

export const revokeViewSchema = z.strictObject({
  id,
  orderSn: z.string(),
  clientSn: z.string(),
  state: z.enum(REVOKE_STATES),
  outcome: z.enum(REVOKE_OUTCOMES),
  /** Who voided it (撤销人); the payment's own operator is the order's `operator` (收款员). */
  operator: z.string().nullable(),
  operatorId: id.nullable(),
  ...operationProgress,
  deadlineDay: z.string(),
  /** Unix ms when the business day of the deadline ends. */
  deadlineAt: ms,
  revokedAt: ms.nullable(),
  error: revokeErrorViewSchema.nullable(),
});

export const OPERATION_KINDS = ['revoke', 'refund', 'pay'] as const;
/** One money operation of an order, as the one status function (main/common/order-status.ts) reads it. */
export const operationSummarySchema = z.strictObject({ kind: z.enum(OPERATION_KINDS), id, state: z.string(), amountCents: cents, updatedAt: ms });

/** An open money operation of any kind, with its order (the 待处理 pill and its list). */
export const openOperationSchema = operationSummarySchema.extend({ orderSn: z.string() });

export const orderViewSchema = z.strictObject({
  sn: z.string(),
  clientSn: z.string(),
  tradeNo: z.string().nullable(),
  totalCents: cents,
  netCents: cents,
  payway: z.string().nullable(),
  paywayName: z.string().nullable(),
  subject: z.string().nullable(),
  operator: z.string().nullable(),
  finishedAt: ms,
  status: z.string(),
  businessDay: z.string(),
  revoke: revokeViewSchema.nullable(),
  /** Every money operation of the order, of every kind (its revoke too): the order's status is a function of these. */
  operations: z.array(operationSummarySchema),
});

export const terminalViewSchema = z.strictObject({
  terminalSn: z.string(),
  deviceId: z.string(),
  merchantSn: z.string().nullable(),
  merchantName: z.string().nullable(),
  storeSn: z.string().nullable(),
  storeName: z.string().nullable(),
  activatedAt: ms,
  keyUpdatedAt: ms,
  lastCheckinDay: z.string().nullable(),
});

export const terminalStatusSchema = z.strictObject({
  activated: z.boolean(),
  terminal: terminalViewSchema.nullable(),
  checkedInToday: z.boolean(),
  keyAgeMs: z.number().nullable(),
  businessDay: z.string(),
  /** The key vault's kind (e.g. `safe-storage`), never the key. */
  vault: z.string(),
});

/** The counter's queue: every kind's open operations summed, the oldest of any kind aged, the one online flag (events.ts QueueStatus). */
export const queueStatusSchema = z.strictObject({
  queued: count,
  pending: count,
  sending: count,
  needsAttention: count,
  oldestAgeMs: z.number().nullable(),
  online: z.boolean(),
});

export const printJobViewSchema = z.strictObject({
  id,
  revokeId: id.nullable(),
  orderSn: z.string().nullable(),
  kind: z.enum(['revoke', 'test', 'refund', 'report', 'payment']),
  copy: z.boolean(),
  state: z.enum(PRINT_JOB_STATES),
  attempts: count,
  lastError: z.string().nullable(),
  createdAt: ms,
  printedAt: ms.nullable(),
});

export const printerStatusViewSchema = z.strictObject({
  uri: z.string(),
  state: z.enum(PRINTER_STATES),
  detail: z.string().nullable(),
});

export const receiptPreviewSchema = z
  .strictObject({
    jobId: id,
    state: z.enum(PRINT_JOB_STATES),
    copy: z.boolean(),
    /** Sanitised HTML fragment rendered from the receipt model (no scripts). */
    html: z.string(),
    /** The printed lines as text (a QR code appears as `[QR] <data>`). */
    lines: z.array(z.string()),
  })
  .nullable();

export const settingsViewSchema = z.strictObject({
  apiDomain: z.string().nullable(),
  printer: z.string().nullable(),
  printerType: z.enum(['EPSON', 'STAR']),
  paperWidth: z.union([z.literal(58), z.literal(80)]),
  receiptChinese: z.boolean(),
  retentionDays: z.number().int(),
  expiryWarningMinutes: z.number().int(),
  language: z.enum(LANGUAGES),
  kiosk: z.boolean(),
  // --- operators
  sessionIdleMinutes: z.number().int(),
  sessionMaxHours: z.number().int(),
  revokeApproval: z.enum(APPROVAL_RULES),
  revokeApprovalAboveCents: cents,
  refundApproval: z.enum(APPROVAL_RULES),
  refundApprovalAboveCents: cents,
  payApproval: z.enum(APPROVAL_RULES),
  payApprovalAboveCents: cents,
  /** The receipt header when the gateway gave no store name. */
  storeName: z.string().nullable(),
});

/**
 * A partial SettingsView; `null` removes the stored value (back to the default).
 * The gateway (`apiDomain`, and with it sandbox vs production) is not here: it is
 * store IT's decision (env or `upay-pos settings set`), never the renderer's, and
 * the strict object refuses it.
 */
export const settingsPatchInputSchema = z.strictObject({
  printer: z.string().min(1).max(200).nullable().optional(),
  printerType: z.enum(['EPSON', 'STAR']).nullable().optional(),
  paperWidth: z.union([z.literal(58), z.literal(80)]).nullable().optional(),
  receiptChinese: z.boolean().nullable().optional(),
  retentionDays: z.number().int().min(1).max(3650).nullable().optional(),
  expiryWarningMinutes: z.number().int().min(0).max(720).nullable().optional(),
  language: z.enum(LANGUAGES).nullable().optional(),
  kiosk: z.boolean().nullable().optional(),
  // --- operators
  sessionIdleMinutes: z.number().int().min(1).max(720).nullable().optional(),
  sessionMaxHours: z.number().int().min(1).max(24).nullable().optional(),
  revokeApproval: z.enum(APPROVAL_RULES).nullable().optional(),
  revokeApprovalAboveCents: z.number().int().min(0).max(1e12).nullable().optional(),
  refundApproval: z.enum(APPROVAL_RULES).nullable().optional(),
  refundApprovalAboveCents: z.number().int().min(0).max(1e12).nullable().optional(),
  payApproval: z.enum(APPROVAL_RULES).nullable().optional(),
  payApprovalAboveCents: z.number().int().min(0).max(1e12).nullable().optional(),
  storeName: z.string().trim().min(1).max(40).nullable().optional(),
});

// --- operators
/** An operator as store IT manages them: never a PIN or its hash. */
export const operatorViewSchema = z.strictObject({
  id,
  name: z.string(),
  role: z.enum(ROLES),
  active: z.boolean(),
  language: z.enum(LANGUAGES).nullable(),
  /** Unix ms until which sign-in is refused (too many wrong PINs), when locked now. */
  lockedUntil: ms.nullable(),
  failedAttempts: count,
  createdAt: ms,
  updatedAt: ms,
});

/** Who may be picked on the sign-in screen (active operators only). */
export const rosterEntrySchema = z.strictObject({ id, name: z.string(), role: z.enum(ROLES), locked: z.boolean() });

/** The calling window's session: who is signed in, and what the sign-in screen should offer. */
export const sessionStateSchema = z.strictObject({
  signedIn: z
    .strictObject({
      /** null: a host app's own operator that is not in the operators table. */
      operatorId: id.nullable(),
      name: z.string(),
      role: z.enum(ROLES),
      /** The operator's own language choice (null: the store's). */
      language: z.enum(LANGUAGES).nullable(),
      signedInAt: ms,
      /** When the session ends if the window stays idle (null: the host app decides). */
      expiresAt: ms.nullable(),
    })
    .nullable(),
  /** No operator exists yet: the first store IT operator is created at setup. */
  bootstrap: z.boolean(),
  /** Sign-in happens in the host app, not at this PIN pad. */
  hostSignIn: z.boolean(),
  /** The revoke approval rule, so the confirmation can ask for a supervisor up front. */
  revokeApproval: z.enum(APPROVAL_RULES),
  revokeApprovalAboveCents: cents,
  /** The refund approval rule, likewise. */
  refundApproval: z.enum(APPROVAL_RULES),
  refundApprovalAboveCents: cents,
  /** The payment approval rule (off by default), likewise. */
  payApproval: z.enum(APPROVAL_RULES),
  payApprovalAboveCents: cents,
});

export const appInfoSchema = z.strictObject({
  version: z.string(),
  mode: z.enum(MODES),
  /** null before sign-in (the sign-in screen does not show it). */
  apiDomain: z.string().nullable(),
  /** null before sign-in. */
  dataDir: z.string().nullable(),
  language: z.enum(LANGUAGES),
  businessDay: z.string(),
});

// --- refunds
export const REFUND_STATES = ['sending', 'queued', 'pending', 'refunded', 'rejected', 'needs_attention'] as const;
export const REFUND_OUTCOMES = ['refunded', 'rejected', 'pending', 'needs_attention', 'queued'] as const;

export const refundViewSchema = z.strictObject({
  id,
  orderSn: z.string(),
  clientSn: z.string(),
  requestNo: z.string(),
  amountCents: cents,
  state: z.enum(REFUND_STATES),
  outcome: z.enum(REFUND_OUTCOMES),
  operatorId: id.nullable(),
  operatorName: z.string(),
  ...operationProgress,
  refundedAt: ms.nullable(),
  error: revokeErrorViewSchema.nullable(),
  lastResultCode: z.string().nullable(),
});

const tallySchema = z.strictObject({ count, cents });

// --- payments
export const PAYMENT_STATES = ['sending', 'pending', 'canceling', 'paid', 'failed', 'canceled', 'needs_attention'] as const;
export const PAY_OUTCOMES = ['paid', 'failed', 'canceled', 'pending', 'needs_attention', 'awaiting_customer'] as const;
/** A payment as the counter shows it: the one line the cashier reads (headline) and what the receipt needs; never a key. */
export const paymentViewSchema = z.strictObject({
  id,
  clientSn: z.string(),
  method: z.enum(['barcode', 'qr']),
  amountCents: cents,
  state: z.enum(PAYMENT_STATES),
  outcome: z.enum(PAY_OUTCOMES),
  headlineZh: z.string(),
  headlineEn: z.string(),
  payway: z.string().nullable(),
  paywayName: z.string().nullable(),
  orderSn: z.string().nullable(),
  qrCode: z.string().nullable(),
  windowUntil: ms,
  operatorName: z.string(),
  requestedAt: ms,
  paidAt: ms.nullable(),
  moneyReturned: z.boolean(),
  cancels: count,
  queries: count,
  error: revokeErrorViewSchema.nullable(),
});
const paymentLineSchema = { taken: tallySchema, returned: tallySchema, netCents: cents };
const counterPaymentsSchema = z.strictObject({
  ...paymentLineSchema,
  failed: tallySchema,
  list: z.array(z.unknown()),
  byPayway: z.array(z.strictObject({ payway: z.string(), paywayName: z.string().nullable(), ...paymentLineSchema })),
  byOperator: z.array(z.strictObject({ operator: z.string(), ...paymentLineSchema })),
  open: z.array(z.strictObject({ id, clientSn: z.string(), state: z.string(), amountCents: cents, orderSn: z.string().nullable(), businessDay: z.string() })),
});

export const dayReportViewSchema = z.strictObject({
  day: z.string(),
  generatedAt: ms,
  payments: tallySchema,
  revokes: tallySchema,
  refunds: tallySchema,
  netCents: cents,
  byPayway: z.array(z.strictObject({ payway: z.string(), paywayName: z.string().nullable(), payments: tallySchema, revokes: tallySchema, refunds: tallySchema, netCents: cents })),
  byOperator: z.array(z.strictObject({ operator: z.string(), payments: tallySchema, revokes: tallySchema, refunds: tallySchema })),
  /** Money the gateway shows returned on the day's orders without a revoke or refund here (其他途径退回). */
  returnedElsewhere: z.strictObject({
    count,
    cents,
    byPayway: z.array(z.strictObject({ payway: z.string(), paywayName: z.string().nullable(), count, cents })),
    byOperator: z.array(z.strictObject({ operator: z.string(), count, cents })),
    orders: z.array(z.strictObject({ orderSn: z.string(), status: z.string(), payway: z.string(), operator: z.string(), cents })),
  }),
  /** What the net was checked against: the day's orders' own net amounts. */
  check: z.strictObject({
    ordersNetCents: cents,
    returnedOnOtherDaysCents: cents,
    returnedForOtherOrdersCents: cents,
    mismatches: z.array(z.strictObject({ orderSn: z.string(), cents })),
  }),
  open: z.strictObject({
    items: z.array(z.strictObject({ kind: z.enum(['revoke', 'refund']), id, orderSn: z.string(), state: z.string(), amountCents: cents })),
    revokes: tallySchema,
    refunds: tallySchema,
  }),
  reconciled: z.boolean(),
  /** Payments taken at this counter (taken, returned by 冲正, net, still open). */
  counterPayments: counterPaymentsSchema.optional(),
  /** The same report as the printer gets it (receipt model → HTML, and as text lines). */
  html: z.string(),
  lines: z.array(z.string()),
});
