/**
 * THE IPC contract (docs/ipc-contract-spec.md): channel names, zod input and
 * output schemas, event names and payloads, the result envelope and the
 * `window.pos` bridge type. Imported by main, the preload and the renderer,
 * so it imports zod only: no Node or Electron APIs.
 *
 * Inputs are strict objects (unknown keys are refused) with bounded strings;
 * outputs are strict too, so a field that is not in the contract (a key, a
 * raw gateway answer) cannot slip through the main process's output check.
 */
import { z } from 'zod';
import { CLIENT_SN_MESSAGE, fitsClientSn, ORDER_SN_MESSAGE, ORDER_SN_PATTERN } from '../common/order-sn';
import { REVOKE_OUTCOMES, REVOKE_STATES } from '../common/states';
import type { BridgeName, Channel, EventName } from './channels';

export { BRIDGE_FUNCTIONS, CHANNEL_NAMES, EVENT_NAMES, isChannel, isEventName, type BridgeName, type Channel, type EventName } from './channels';

// ---------------------------------------------------------------- primitives

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** A real calendar date written `YYYY-MM-DD` (the business day, UTC+8). */
export const daySchema = z
  .string()
  .regex(DAY, 'expected YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
  }, 'not a calendar day');
const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().min(0);
const ms = z.number().int();
const cents = z.number().int();
const orderSn = z.string().regex(ORDER_SN_PATTERN, ORDER_SN_MESSAGE);
const clientSn = z.string().min(1).max(32).refine(fitsClientSn, CLIENT_SN_MESSAGE);
/** A PIN: 4-8 digits. Never echoed in an error, never logged. */
const pin = z.string().regex(/^\d{4,8}$/, 'expected 4-8 digits');
const operatorName = z.string().min(1).max(32);
/** A supervisor's PIN typed into the confirmation of a money operation. */
export const approvalInputSchema = z.strictObject({ operatorId: id, pin });
const empty = z.strictObject({});

// --------------------------------------------------------------------- views

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

export const revokeViewSchema = z.strictObject({
  id,
  orderSn: z.string(),
  clientSn: z.string(),
  state: z.enum(REVOKE_STATES),
  outcome: z.enum(REVOKE_OUTCOMES),
  /** Who voided it (撤销人); the payment's own operator is the order's `operator` (收款员). */
  operator: z.string().nullable(),
  operatorId: id.nullable(),
  /** Who approved it (审批人), when someone did. */
  approverId: id.nullable(),
  approverName: z.string().nullable(),
  requestedAt: ms,
  updatedAt: ms,
  attempts: count,
  queries: count,
  deadlineDay: z.string(),
  /** Unix ms when the business day of the deadline ends. */
  deadlineAt: ms,
  revokedAt: ms.nullable(),
  error: revokeErrorViewSchema.nullable(),
});

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
  kind: z.enum(['revoke', 'test', 'refund', 'report']),
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
  revokeApproval: z.enum(APPROVAL_RULES),
  revokeApprovalAboveCents: cents,
  refundApproval: z.enum(APPROVAL_RULES),
  refundApprovalAboveCents: cents,
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
  revokeApproval: z.enum(APPROVAL_RULES).nullable().optional(),
  revokeApprovalAboveCents: z.number().int().min(0).max(1e12).nullable().optional(),
  refundApproval: z.enum(APPROVAL_RULES).nullable().optional(),
  refundApprovalAboveCents: z.number().int().min(0).max(1e12).nullable().optional(),
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
});

export const appInfoSchema = z.strictObject({
  version: z.string(),
  mode: z.enum(MODES),
  apiDomain: z.string(),
  dataDir: z.string(),
  language: z.enum(LANGUAGES),
  businessDay: z.string(),
});

// ------------------------------------------------------------------ channels

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
  approverId: id.nullable(),
  approverName: z.string().nullable(),
  requestedAt: ms,
  updatedAt: ms,
  attempts: count,
  queries: count,
  refundedAt: ms.nullable(),
  error: revokeErrorViewSchema.nullable(),
  lastResultCode: z.string().nullable(),
});

const tallySchema = z.strictObject({ count, cents });
export const dayReportViewSchema = z.strictObject({
  day: z.string(),
  generatedAt: ms,
  payments: tallySchema,
  revokes: tallySchema,
  refunds: tallySchema,
  netCents: cents,
  byPayway: z.array(z.strictObject({ payway: z.string(), paywayName: z.string().nullable(), payments: tallySchema, revokes: tallySchema, refunds: tallySchema, netCents: cents })),
  byOperator: z.array(z.strictObject({ operator: z.string(), payments: tallySchema, revokes: tallySchema, refunds: tallySchema })),
  open: z.strictObject({
    items: z.array(z.strictObject({ kind: z.enum(['revoke', 'refund']), id, orderSn: z.string(), state: z.string(), amountCents: cents })),
    revokes: tallySchema,
    refunds: tallySchema,
  }),
  reconciled: z.boolean(),
  /** The same report as the printer gets it (receipt model → HTML, and as text lines). */
  html: z.string(),
  lines: z.array(z.string()),
});

/** Who refunds is the window's signed-in operator (main decides); a supervisor's PIN approves when the policy asks. */
const refundFields = { amountCents: z.number().int().positive().max(9_999_999_999).optional(), approval: approvalInputSchema.optional() };

export const CHANNELS = {
  'app.info': { input: empty, output: appInfoSchema },
  'terminal.status': { input: empty, output: terminalStatusSchema },
  'terminal.activate': {
    // Vendor credentials come from the main process configuration, never from the renderer.
    input: z.strictObject({
      code: z.string().min(1).max(64),
      deviceId: z.string().min(1).max(128).optional(),
      name: z.string().min(1).max(64).optional(),
      force: z.boolean().optional(),
    }),
    output: terminalStatusSchema,
  },
  'terminal.checkin': { input: empty, output: terminalStatusSchema },
  'orders.list': {
    input: z.strictObject({ day: daySchema.optional() }),
    output: z.strictObject({ day: z.string(), orders: z.array(orderViewSchema) }),
  },
  'orders.search': {
    input: z.strictObject({
      text: z.string().max(32).optional(),
      amountCents: z.number().int().positive().max(1e12).optional(),
      day: daySchema.optional(),
    }),
    output: z.strictObject({ orders: z.array(orderViewSchema) }),
  },
  'orders.import': {
    input: z.union([z.strictObject({ sn: orderSn }), z.strictObject({ clientSn })]),
    output: orderViewSchema,
  },
  'revoke.request': {
    // Who voids is the window's signed-in operator (main decides); a supervisor's PIN approves when the policy asks.
    input: z.union([
      z.strictObject({ sn: orderSn, approval: approvalInputSchema.optional() }),
      z.strictObject({ clientSn, approval: approvalInputSchema.optional() }),
    ]),
    output: revokeViewSchema,
  },
  'revoke.queryAgain': { input: z.strictObject({ revokeId: id }), output: revokeViewSchema },
  'revoke.listOpen': { input: empty, output: z.array(revokeViewSchema) },
  'revoke.forOrder': { input: z.strictObject({ sn: orderSn }), output: revokeViewSchema.nullable() },
  'queue.status': { input: empty, output: queueStatusSchema },
  /** Marks the runtime online and sends queued revokes now. */
  'queue.drain': { input: empty, output: queueStatusSchema },
  'receipt.preview': { input: z.strictObject({ revokeId: id }), output: receiptPreviewSchema },
  'receipt.reprint': { input: z.strictObject({ revokeId: id }), output: printJobViewSchema },
  'printer.status': { input: empty, output: printerStatusViewSchema },
  'printer.test': { input: empty, output: printJobViewSchema },
  'print.jobs': { input: z.strictObject({ state: z.enum(PRINT_JOB_STATES).optional() }), output: z.array(printJobViewSchema) },
  'print.retry': { input: z.strictObject({ jobId: id }), output: printJobViewSchema },
  'settings.get': { input: empty, output: settingsViewSchema },
  'settings.set': { input: settingsPatchInputSchema, output: settingsViewSchema },
  // --- operators
  'session.current': { input: empty, output: sessionStateSchema },
  'session.signIn': { input: z.strictObject({ operatorId: id, pin }), output: sessionStateSchema },
  'session.signOut': { input: empty, output: sessionStateSchema },
  'session.setLanguage': { input: z.strictObject({ language: z.enum(LANGUAGES).nullable() }), output: sessionStateSchema },
  'operators.roster': { input: empty, output: z.array(rosterEntrySchema) },
  /** First run only (no operator at all): the first store IT operator, signed in at once. */
  'operators.bootstrap': { input: z.strictObject({ name: operatorName, pin }), output: sessionStateSchema },
  'operators.list': { input: empty, output: z.array(operatorViewSchema) },
  'operators.add': { input: z.strictObject({ name: operatorName, role: z.enum(ROLES), pin }), output: operatorViewSchema },
  'operators.setActive': { input: z.strictObject({ operatorId: id, active: z.boolean() }), output: operatorViewSchema },
  'operators.resetPin': { input: z.strictObject({ operatorId: id, pin }), output: operatorViewSchema },
  // --- refunds
  /** A full (no amountCents) or partial refund; the main process checks the amount and the approval before any call. */
  'refund.request': {
    input: z.union([z.strictObject({ sn: orderSn, ...refundFields }), z.strictObject({ clientSn, ...refundFields })]),
    output: refundViewSchema,
  },
  'refund.queryAgain': { input: z.strictObject({ refundId: id }), output: refundViewSchema },
  'refund.forOrder': { input: z.strictObject({ sn: orderSn }), output: z.strictObject({ refundableCents: cents, refunds: z.array(refundViewSchema) }) },
  'refund.receipt': { input: z.strictObject({ refundId: id }), output: receiptPreviewSchema },
  'refund.reprint': { input: z.strictObject({ refundId: id }), output: printJobViewSchema },
  'report.day': { input: z.strictObject({ day: daySchema.optional() }), output: dayReportViewSchema },
  'report.print': { input: z.strictObject({ day: daySchema.optional() }), output: printJobViewSchema },
} as const satisfies { [C in Channel]: { input: z.ZodType; output: z.ZodType } };

export type Channels = typeof CHANNELS;
/** What a caller passes (before zod defaults). */
export type InputOf<C extends Channel> = z.input<Channels[C]['input']>;
/** What a handler returns in `value`. */
export type OutputOf<C extends Channel> = z.output<Channels[C]['output']>;

// ------------------------------------------------------------------ envelope

export const errorViewSchema = z.strictObject({
  code: z.string(),
  /** English message for the cashier. */
  message: z.string(),
  messageZh: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorView = z.output<typeof errorViewSchema>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorView };

export const resultSchema = <T extends z.ZodType>(value: T) =>
  z.union([z.strictObject({ ok: z.literal(true), value }), z.strictObject({ ok: z.literal(false), error: errorViewSchema })]);

/** Error codes the IPC layer itself produces (the runtime adds its own, e.g. NOT_TODAY, GATEWAY_REFUSED). */
export const IPC_ERROR_CODES = {
  INVALID_INPUT: 'INVALID_INPUT',
  FORBIDDEN_SENDER: 'FORBIDDEN_SENDER',
  VENDOR_NOT_CONFIGURED: 'VENDOR_NOT_CONFIGURED',
  INVALID_OUTPUT: 'INVALID_OUTPUT',
  UNKNOWN_CHANNEL: 'UNKNOWN_CHANNEL',
} as const;

// -------------------------------------------------------------------- events

export const EVENTS = {
  'revoke.updated': revokeViewSchema,
  'revoke.warning': z.strictObject({ revoke: revokeViewSchema, deadlineAt: ms, messageZh: z.string(), messageEn: z.string() }),
  'queue.changed': queueStatusSchema,
  'connectivity.changed': z.strictObject({ online: z.boolean(), at: ms }),
  'printer.changed': z.strictObject({ status: z.enum(PRINTER_STATES), detail: z.string().nullable() }),
  'print.updated': z.strictObject({ jobId: id, state: z.enum(PRINT_JOB_STATES), error: z.string().nullable() }),
  // --- refunds
  'refund.updated': refundViewSchema,
} as const satisfies { [E in EventName]: z.ZodType };

export type Events = typeof EVENTS;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

// -------------------------------------------------------------------- bridge

export type BridgeFunctionName = BridgeName<Channel>;

/** A channel whose input may be omitted (every field optional) takes an optional argument. */
export type BridgeFunction<C extends Channel> =
  Record<string, never> extends InputOf<C>
    ? (input?: InputOf<C>) => Promise<Result<OutputOf<C>>>
    : (input: InputOf<C>) => Promise<Result<OutputOf<C>>>;

/** The `window.pos` object the preload exposes. */
export type PosBridge = { readonly [C in Channel as BridgeName<C>]: BridgeFunction<C> } & {
  /** Subscribes to a main-process event; returns the unsubscribe function. */
  readonly on: <E extends EventName>(event: E, callback: (payload: EventPayload<E>) => void) => () => void;
};

// ------------------------------------------------------------ exported types

export type AppInfo = z.output<typeof appInfoSchema>;
export type TerminalView = z.output<typeof terminalViewSchema>;
export type TerminalStatus = z.output<typeof terminalStatusSchema>;
export type OrderView = z.output<typeof orderViewSchema>;
export type RevokeView = z.output<typeof revokeViewSchema>;
// --- refunds
export type RefundView = z.output<typeof refundViewSchema>;
export type DayReportView = z.output<typeof dayReportViewSchema>;
export type RevokeErrorView = z.output<typeof revokeErrorViewSchema>;
export type QueueStatusView = z.output<typeof queueStatusSchema>;
export type PrintJobView = z.output<typeof printJobViewSchema>;
export type PrinterStatusView = z.output<typeof printerStatusViewSchema>;
export type ReceiptPreview = z.output<typeof receiptPreviewSchema>;
export type SettingsView = z.output<typeof settingsViewSchema>;
export type SettingsPatchInput = z.input<typeof settingsPatchInputSchema>;
// --- operators
export type OperatorView = z.output<typeof operatorViewSchema>;
export type RosterEntry = z.output<typeof rosterEntrySchema>;
export type SessionState = z.output<typeof sessionStateSchema>;
export type ApprovalInput = z.output<typeof approvalInputSchema>;
