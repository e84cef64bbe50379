/**
 * zod schemas for Upay v2 requests (validated before anything is sent) and
 * responses (validated before anything is believed). Every wire value is a
 * string; `""` and null read as absent; unknown codes are kept verbatim.
 */
import { z } from 'zod';

/**
 * A wire string where `""`/null mean absent, at most `max` characters: a
 * gateway's strings are believed only within the bounds real answers keep
 * (an answer outside them is malformed, i.e. "maybe sent", settled by query).
 */
const opt = (max: number) =>
  z
    .union([z.string().max(max), z.null()])
    .optional()
    .transform((v) => (v === '' || v === null || v === undefined ? undefined : v));

/** Bounds of answer strings (characters). */
const CODE = 64;
const MESSAGE = 512;
const ID = 64;
const AMOUNT = 20;
const NAME = 128;

export const envelopeSchema = z.object({
  result_code: z.string().min(1).max(CODE),
  error_code: opt(CODE),
  error_message: opt(MESSAGE),
  biz_response: z.unknown().optional(),
});

export const orderSnapshotSchema = z.object({
  terminal_sn: opt(ID),
  sn: opt(ID),
  client_sn: opt(ID),
  trade_no: opt(ID),
  status: opt(CODE),
  order_status: opt(CODE),
  payway: opt(16),
  payway_name: opt(NAME),
  sub_payway: opt(16),
  total_amount: opt(AMOUNT),
  net_amount: opt(AMOUNT),
  subject: opt(NAME),
  finish_time: opt(AMOUNT),
  channel_finish_time: opt(AMOUNT),
  operator: opt(NAME),
  refund_request_no: opt(ID),
});
export type OrderSnapshotWire = z.output<typeof orderSnapshotSchema>;

/** Order endpoints: fields may sit flat in biz_response or under `data`. */
export const orderBizSchema = orderSnapshotSchema.extend({
  result_code: z.string().min(1).max(CODE),
  error_code: opt(CODE),
  error_message: opt(MESSAGE),
  data: z.union([orderSnapshotSchema, z.null(), z.literal('')]).optional(),
});

export const terminalBizSchema = z.object({
  terminal_sn: z.string().min(1).max(32),
  terminal_key: z.string().min(1).max(128),
  merchant_sn: opt(ID),
  merchant_name: opt(NAME),
  store_sn: opt(ID),
  store_name: opt(NAME),
});

// ---------- requests ----------

const sn = z.string().regex(/^\d{1,16}$/, 'sn must be 1-16 digits');
const clientSn = z.string().min(1, 'client_sn must not be empty').max(32, 'client_sn must be at most 32 characters');
const terminalSn = z.string().min(1, 'terminal_sn must not be empty').max(32, 'terminal_sn must be at most 32 characters');
const amount = z.string().regex(/^[1-9]\d{0,14}$/, 'amount must be a positive integer number of cents, as a string');
const text = (name: string, max: number) =>
  z.string().min(1, `${name} must not be empty`).max(max, `${name} must be at most ${max} characters`);

const orderRef = z
  .object({ sn: sn.optional(), client_sn: clientSn.optional() })
  .refine((r) => r.sn !== undefined || r.client_sn !== undefined, { message: 'sn or client_sn is required', path: ['sn'] });

export const requestSchemas = {
  activate: z.object({
    app_id: text('app_id', 64),
    code: text('code', 64),
    device_id: text('device_id', 128),
    client_sn: clientSn.optional(),
    name: text('name', 128).optional(),
    os_info: text('os_info', 128).optional(),
    sdk_version: text('sdk_version', 64).optional(),
  }),
  checkin: z.object({
    terminal_sn: terminalSn,
    device_id: text('device_id', 128),
    os_info: text('os_info', 128).optional(),
    sdk_version: text('sdk_version', 64).optional(),
  }),
  query: z.object({ terminal_sn: terminalSn }).and(orderRef),
  revoke: z.object({ terminal_sn: terminalSn }).and(orderRef),
  cancel: z.object({ terminal_sn: terminalSn }).and(orderRef),
  refund: z
    .object({
      terminal_sn: terminalSn,
      refund_request_no: text('refund_request_no', 20),
      refund_amount: amount,
      operator: text('operator', 32),
    })
    .and(orderRef),
  pay: z.object({
    terminal_sn: terminalSn,
    client_sn: clientSn,
    total_amount: amount,
    dynamic_id: z.string().regex(/^[0-9A-Za-z]{1,32}$/, 'dynamic_id must be the scanned code'),
    subject: text('subject', 64),
    operator: text('operator', 32),
    payway: z.string().regex(/^\d{1,3}$/).optional(),
    description: text('description', 255).optional(),
  }),
} as const;

export type Endpoint = keyof typeof requestSchemas;
export type RequestOf<E extends Endpoint> = z.input<(typeof requestSchemas)[E]>;

export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  activate: '/terminal/activate',
  checkin: '/terminal/checkin',
  query: '/upay/v2/query',
  revoke: '/upay/v2/revoke',
  cancel: '/upay/v2/cancel',
  refund: '/upay/v2/refund',
  pay: '/upay/v2/pay',
};

/** The vendor SDKs' own timeouts: 35 s when money moves or a terminal is created, 20 s otherwise. */
export const DEFAULT_TIMEOUTS_MS: Record<Endpoint, number> = {
  activate: 35_000,
  pay: 35_000,
  refund: 35_000,
  cancel: 35_000,
  revoke: 35_000,
  query: 20_000,
  checkin: 20_000,
};
