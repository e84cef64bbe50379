/**
 * THE IPC contract (docs/ipc-contract-spec.md): channel names, zod input and
 * output schemas, event names and payloads, the result envelope and the
 * `window.pos` bridge type (the view schemas live in view-schemas.ts and are
 * re-exported here). Imported by main, the preload and the renderer, so it
 * imports zod only: no Node or Electron APIs.
 *
 * Inputs are strict objects (unknown keys are refused) with bounded strings;
 * outputs are strict too, so a field that is not in the contract (a key, a
 * raw gateway answer) cannot slip through the main process's output check.
 */
import { z } from 'zod';
import { approvalInputSchema, cents, clientSn, daySchema, empty, id, ms, operatorName, orderSn, pin } from './schema-primitives';
import {
  appInfoSchema,
  dayReportViewSchema,
  LANGUAGES,
  openOperationSchema,
  operatorViewSchema,
  orderViewSchema,
  PRINT_JOB_STATES,
  PRINTER_STATES,
  printerStatusViewSchema,
  printJobViewSchema,
  queueStatusSchema,
  receiptPreviewSchema,
  paymentViewSchema,
  refundViewSchema,
  revokeViewSchema,
  ROLES,
  rosterEntrySchema,
  sessionStateSchema,
  settingsPatchInputSchema,
  settingsViewSchema,
  terminalStatusSchema,
  type revokeErrorViewSchema,
  type terminalViewSchema,
} from './view-schemas';
import type { BridgeName, Channel, EventName } from './channels';

export { approvalInputSchema, daySchema } from './schema-primitives';
export * from './view-schemas';
export { BRIDGE_FUNCTIONS, CHANNEL_NAMES, EVENT_NAMES, isChannel, isEventName, type BridgeName, type Channel, type EventName } from './channels';

// ------------------------------------------------------------------ channels

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
  /** Every open money operation, of every kind (the 待处理 pill counts their orders). */
  'operations.open': { input: empty, output: z.array(openOperationSchema) },
  // --- payments
  /**
   * A payment for the amount typed on the keypad: a scanned customer code (barcode) or our QR (payway). The
   * main process refuses a second charge of an amount already open unless `confirmDuplicateOf` names that open
   * payment (the id the confirmation showed, from the refusal's `details.paymentId`) and it is the only one open of
   * that amount; a payment while the counter's cap of open payments is reached (PAYMENT_TOO_MANY_OPEN); and a
   * payment above store IT's `payApproval` threshold (off by default) without a supervisor's `approval`.
   */
  'pay.request': {
    input: z.union([
      z.strictObject({ method: z.literal('barcode'), amountCents: z.number().int().positive().max(9_999_999_999), barcode: z.string().regex(/^\d{10,32}$/), confirmDuplicateOf: id.optional(), approval: approvalInputSchema.optional() }),
      z.strictObject({ method: z.literal('qr'), amountCents: z.number().int().positive().max(9_999_999_999), payway: z.enum(['1', '3', '17']), confirmDuplicateOf: id.optional(), approval: approvalInputSchema.optional() }),
    ]),
    output: paymentViewSchema,
  },
  'pay.queryAgain': { input: z.strictObject({ paymentId: id }), output: paymentViewSchema },
  'pay.listOpen': { input: empty, output: z.array(paymentViewSchema) },
  'pay.receipt': { input: z.strictObject({ paymentId: id }), output: receiptPreviewSchema },
} as const satisfies { [C in Channel]: { input: z.ZodType; output: z.ZodType } };

// --- payments
/**
 * `pay.request`'s answer when it failed unexpectedly (not a gateway outcome) and no payment row of the attempt
 * exists: nothing was recorded or sent, no money was taken, the cashier may charge again. Its `details` are
 * `PayNotRecordedDetails` (the attempt's client_sn and what failed). When the row does exist, pay.request answers
 * with that payment's view instead (its state: 正在确认 until the runtime resolves it).
 */
export const PAY_NOT_RECORDED = 'PAYMENT_NOT_RECORDED';
export const payNotRecordedDetailsSchema = z.strictObject({
  clientSn,
  /** The failure's own code (STORE_UNWRITABLE, VAULT_CANNOT_OPEN, INTERNAL, ...) and its words. */
  cause: z.string(),
  causeMessage: z.string(),
  causeMessageZh: z.string(),
});
export type PayNotRecordedDetails = z.output<typeof payNotRecordedDetailsSchema>;

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
  /** The rows of orders whose operations changed (only those): the list replaces them in place. */
  'orders.changed': z.strictObject({ orders: z.array(orderViewSchema) }),
  // --- payments
  'payment.updated': paymentViewSchema,
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
export type OpenOperationView = z.output<typeof openOperationSchema>;
export type DayReportView = z.output<typeof dayReportViewSchema>;
// --- payments
export type PaymentView = z.output<typeof paymentViewSchema>;
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
