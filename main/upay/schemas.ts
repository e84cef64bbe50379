/**
 * zod schemas for Upay v2 requests (validated before anything is sent) and
 * responses (validated before anything is believed). Every wire value is a
 * string; `""` and null read as absent; unknown codes are kept verbatim.
 */
import { z } from 'zod';
import { ORDER_SN_MESSAGE, ORDER_SN_PATTERN } from '../common/order-sn';

/** A wire string where `""`/null mean absent. */
const opt = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => (v === '' || v === null || v === undefined ? undefined : v));

// ---------- responses ----------

export const envelopeSchema = z.object({
  result_code: z.string().min(1),
  error_code: opt,
  error_message: opt,
  biz_response: z.unknown().optional(),
});

export const orderSnapshotSchema = z.object({
  terminal_sn: opt,
  sn: opt,
  client_sn: opt,
  trade_no: opt,
  status: opt,
  order_status: opt,
  payway: opt,
  payway_name: opt,
  sub_payway: opt,
  total_amount: opt,
  net_amount: opt,
  subject: opt,
  finish_time: opt,
  channel_finish_time: opt,
  operator: opt,
  refund_request_no: opt,
});
export type OrderSnapshotWire = z.output<typeof orderSnapshotSchema>;

/** Order endpoints: fields may sit flat in biz_response or under `data`. */
export const orderBizSchema = orderSnapshotSchema.extend({
  result_code: z.string().min(1),
  error_code: opt,
  error_message: opt,
  data: z.union([orderSnapshotSchema, z.null(), z.literal('')]).optional(),
});

export const terminalBizSchema = z.object({
  terminal_sn: z.string().min(1).max(32),
  terminal_key: z.string().min(1).max(128),
  merchant_sn: opt,
  merchant_name: opt,
  store_sn: opt,
  store_name: opt,
});

// ---------- requests ----------

const sn = z.string().regex(ORDER_SN_PATTERN, ORDER_SN_MESSAGE);
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
