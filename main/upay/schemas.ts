/**
 * zod schemas for Upay v2 requests (validated before anything is sent) and
 * responses (validated before anything is believed). Every wire value is a
 * string; `""` and null read as absent; unknown codes are kept verbatim.
 */
import { z } from 'zod';
import { CLIENT_SN_MESSAGE, fitsClientSn, ORDER_SN_MESSAGE, ORDER_SN_PATTERN } from '../common/order-sn';

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
/** The answers' field limits (UTF-16 units), shared with the hand-written reader (./answers.ts). */
export const CODE = 64;
export const MESSAGE = 512;
export const ID = 64;
export const AMOUNT = 20;
export const NAME = 128;

/*
 * The answers' rules. The money path reads envelopes and order answers with
 * the hand-written ./answers.ts (one pass, no copy); these schemas are its
 * reference, and test/unit/answers.test.ts keeps the two equal.
 */
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
  /** precreate: the code the customer scans (a URL or payload, shown as a QR). */
  qr_code: opt(MESSAGE),
  // Real answers also carry these (the documents' examples).
  ctime: opt(AMOUNT),
  client_tsn: opt(ID),
  payer_uid: opt(NAME),
  payer_login: opt(NAME),
  store_id: opt(ID),
  description: opt(MESSAGE),
  reflect: z
    .unknown()
    .optional()
    .transform((v) => (v === undefined || v === null || v === '' ? undefined : typeof v === 'string' ? v : JSON.stringify(v)))
    .pipe(z.string().max(MESSAGE).optional()),
  payment_list: z
    .union([z.array(z.object({ type: z.string().max(CODE), amount_total: z.union([z.string().max(AMOUNT), z.number()]).transform(String) })).max(16), z.null(), z.literal('')])
    .optional()
    .catch(undefined)
    .transform((v) => (Array.isArray(v) ? v : undefined)),
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
// Limits as the documents state them: client_sn at most 32 bytes (UTF-8), amounts at most 10 digits of cents,
// the refund operator String(64), the pay operator String(32). Unknown fields are refused, not dropped.

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
/** At most `max` bytes of UTF-8, cut on a character boundary (the gateway's String(32) counts bytes). */
export function utf8Prefix(text: string, max: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    bytes += utf8Bytes(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}
/** Request patterns, shared with the quick look at the runtime's own requests (./request-check.ts). */
export const AMOUNT_PATTERN = /^[1-9]\d{0,9}$/;
export const PAYWAY_PATTERN = /^\d{1,3}$/;
export const DYNAMIC_ID_PATTERN = /^[0-9A-Za-z]{1,32}$/;
/** Length limits of the money path's plain fields (characters, or UTF-8 bytes where named so), shared likewise. */
export const LIMITS = {
  terminalSn: 32,
  refundRequestNo: 20,
  refundOperator: 64,
  /** What the runtime sends as a refund's operator: the English page's String(32), the stricter of the two pages. */
  refundOperatorSentBytes: 32,
  clientTsn: 53,
  subjectBytes: 64,
  payOperatorBytes: 32,
} as const;
const sn = z.string().regex(ORDER_SN_PATTERN, ORDER_SN_MESSAGE);
const clientSn = z.string().min(1, 'client_sn must not be empty').refine(fitsClientSn, CLIENT_SN_MESSAGE);
const terminalSn = z.string().min(1, 'terminal_sn must not be empty').max(LIMITS.terminalSn, `terminal_sn must be at most ${LIMITS.terminalSn} characters`);
const amount = z.string().regex(AMOUNT_PATTERN, 'amount must be a positive integer number of cents of at most 10 digits, as a string');
const text = (name: string, max: number) =>
  z.string().min(1, `${name} must not be empty`).max(max, `${name} must be at most ${max} characters`);
const bytesText = (name: string, max: number) =>
  z.string().min(1, `${name} must not be empty`).refine((s) => utf8Bytes(s) <= max, `${name} must be at most ${max} bytes`);

/** `extended`: a JSON object of at most 24 fields, keys ≤ 64 bytes, values ≤ 256 bytes. */
const extended = z
  .record(z.string(), z.unknown())
  .refine((o) => Object.keys(o).length <= 24, 'extended must have at most 24 fields')
  .refine((o) => Object.keys(o).every((k) => utf8Bytes(k) <= 64), 'extended keys must be at most 64 bytes')
  .refine(
    (o) => Object.values(o).every((v) => utf8Bytes(typeof v === 'string' ? v : (JSON.stringify(v) ?? '')) <= 256),
    'extended values must be at most 256 bytes',
  );
/** `goods_details`: goods with string ids/names and numeric quantity, price (cents) and promotion type. */
export const goodsSchema = z
  .object({
    goods_id: bytesText('goods_id', 32),
    goods_name: bytesText('goods_name', 32),
    quantity: z.number().int().min(0).max(9_999_999_999),
    price: z.number().int().min(0).max(999_999_999),
    promotion_type: z.union([z.literal(0), z.literal(1)]),
  })
  .strict();

const orderRefFields = { sn: sn.optional(), client_sn: clientSn.optional() };
const needsRef = (r: { sn?: string | undefined; client_sn?: string | undefined }, ctx: z.RefinementCtx): void => {
  if (r.sn === undefined && r.client_sn === undefined) ctx.addIssue({ code: 'custom', message: 'sn or client_sn is required', path: ['sn'] });
};
const orderRef = z.object({ terminal_sn: terminalSn, ...orderRefFields }).strict().superRefine(needsRef);

export const requestSchemas = {
  activate: z
    .object({
      app_id: text('app_id', 64),
      code: text('code', 64),
      device_id: text('device_id', 128),
      client_sn: text('client_sn', 50).optional(),
      name: text('name', 128).optional(),
      os_info: text('os_info', 45).optional(),
      sdk_version: text('sdk_version', 45).optional(),
    })
    .strict(),
  checkin: z
    .object({
      terminal_sn: terminalSn,
      device_id: text('device_id', 128),
      os_info: text('os_info', 45).optional(),
      sdk_version: text('sdk_version', 45).optional(),
    })
    .strict(),
  query: z
    .object({ terminal_sn: terminalSn, ...orderRefFields, refund_request_no: text('refund_request_no', LIMITS.refundRequestNo).optional() })
    .strict()
    .superRefine(needsRef),
  revoke: orderRef,
  cancel: orderRef,
  refund: z
    .object({
      terminal_sn: terminalSn,
      ...orderRefFields,
      refund_request_no: text('refund_request_no', LIMITS.refundRequestNo),
      refund_amount: amount,
      operator: text('operator', LIMITS.refundOperator),
      client_tsn: text('client_tsn', LIMITS.clientTsn).optional(),
      extended: extended.optional(),
      goods_details: z.array(goodsSchema).optional(),
    })
    .strict()
    .superRefine(needsRef),
  pay: z
    .object({
      terminal_sn: terminalSn,
      client_sn: clientSn,
      total_amount: amount,
      dynamic_id: z.string().regex(DYNAMIC_ID_PATTERN, 'dynamic_id must be the scanned code'),
      subject: bytesText('subject', LIMITS.subjectBytes),
      operator: bytesText('operator', LIMITS.payOperatorBytes),
      payway: z.string().regex(PAYWAY_PATTERN, 'payway must be the payway number').optional(),
      description: text('description', 256).optional(),
      longitude: z.string().regex(/^-?\d{1,3}(\.\d+)?$/, 'longitude must be decimal degrees').optional(),
      latitude: z.string().regex(/^-?\d{1,2}(\.\d+)?$/, 'latitude must be decimal degrees').optional(),
      device_id: text('device_id', 32).optional(),
      extended: extended.optional(),
      goods_details: z.array(goodsSchema).optional(),
      reflect: text('reflect', 64).optional(),
      notify_url: text('notify_url', 128).optional(),
    })
    .strict()
    .refine((r) => (r.longitude === undefined) === (r.latitude === undefined), { message: 'longitude and latitude go together', path: ['longitude'] }),
  precreate: z
    .object({
      terminal_sn: terminalSn,
      client_sn: clientSn,
      total_amount: amount,
      payway: z.string().regex(PAYWAY_PATTERN, 'payway must be the payway number'),
      sub_payway: z.string().regex(PAYWAY_PATTERN, 'sub_payway must be a number').optional(),
      subject: bytesText('subject', LIMITS.subjectBytes),
      operator: bytesText('operator', LIMITS.payOperatorBytes),
      description: text('description', 256).optional(),
      reflect: text('reflect', 64).optional(),
      notify_url: text('notify_url', 128).optional(),
    })
    .strict(),
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
  precreate: '/upay/v2/precreate',
};

/** The vendor SDKs' own timeouts: 35 s when money moves or a terminal is created, 20 s otherwise. */
export const DEFAULT_TIMEOUTS_MS: Record<Endpoint, number> = {
  activate: 35_000,
  pay: 35_000,
  precreate: 35_000,
  refund: 35_000,
  cancel: 35_000,
  revoke: 35_000,
  query: 20_000,
  checkin: 20_000,
};
