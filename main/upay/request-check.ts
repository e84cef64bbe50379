/**
 * The quick look at an outgoing request on the money path: true only when
 * every field is one of the plain ones the runtime itself builds (a revoke's
 * `{terminal_sn, sn}`, a refund's number, amount and operator, a payment's
 * code, subject and operator) and keeps the rule of `requestSchemas`
 * (./schemas.ts, the reference, whose patterns and LIMITS it uses). Anything else, or anything it is unsure of
 * (extras, goods, `extended`, coordinates, an `undefined`), is left to the
 * schema, which then decides and words the refusal. So it can only say
 * "yes" for a request the schema accepts as it is: the zod parse cost about
 * 2% of a money operation end to end (docs/performance.md).
 * test/unit/request-check.test.ts holds that on generated and hostile requests.
 */
import { fitsClientSn, ORDER_SN_PATTERN } from '../common/order-sn';
import { AMOUNT_PATTERN, DYNAMIC_ID_PATTERN, LIMITS, PAYWAY_PATTERN, utf8Bytes, type Endpoint } from './schemas';

type Rule = (v: string) => boolean;

const chars = (max: number): Rule => (v) => v.length >= 1 && v.length <= max;
const bytes = (max: number): Rule => (v) => v.length >= 1 && utf8Bytes(v) <= max;

const terminalSn = chars(LIMITS.terminalSn);
const sn: Rule = (v) => ORDER_SN_PATTERN.test(v);
const clientSn: Rule = (v) => v.length >= 1 && fitsClientSn(v);
const amount: Rule = (v) => AMOUNT_PATTERN.test(v);
const payway: Rule = (v) => PAYWAY_PATTERN.test(v);

interface Shape {
  fields: Readonly<Record<string, Rule>>;
  required: readonly string[];
  /** At least one of `sn`, `client_sn` (the order it is about). */
  needsRef?: boolean;
}

const orderRef: Shape = { fields: { terminal_sn: terminalSn, sn, client_sn: clientSn }, required: ['terminal_sn'], needsRef: true };

/** The plain shapes per endpoint (activation and check-in are rare: always the schema). */
const SHAPES: Partial<Record<Endpoint, Shape>> = {
  revoke: orderRef,
  cancel: orderRef,
  query: { fields: { ...orderRef.fields, refund_request_no: chars(LIMITS.refundRequestNo) }, required: ['terminal_sn'], needsRef: true },
  refund: {
    fields: {
      ...orderRef.fields,
      refund_request_no: chars(LIMITS.refundRequestNo),
      refund_amount: amount,
      operator: chars(LIMITS.refundOperator),
      client_tsn: chars(LIMITS.clientTsn),
    },
    required: ['terminal_sn', 'refund_request_no', 'refund_amount', 'operator'],
    needsRef: true,
  },
  pay: {
    fields: {
      terminal_sn: terminalSn,
      client_sn: clientSn,
      total_amount: amount,
      dynamic_id: (v) => DYNAMIC_ID_PATTERN.test(v),
      subject: bytes(LIMITS.subjectBytes),
      operator: bytes(LIMITS.payOperatorBytes),
      payway,
    },
    required: ['terminal_sn', 'client_sn', 'total_amount', 'dynamic_id', 'subject', 'operator'],
  },
  precreate: {
    fields: {
      terminal_sn: terminalSn,
      client_sn: clientSn,
      total_amount: amount,
      payway,
      sub_payway: payway,
      subject: bytes(LIMITS.subjectBytes),
      operator: bytes(LIMITS.payOperatorBytes),
    },
    required: ['terminal_sn', 'client_sn', 'total_amount', 'payway', 'subject', 'operator'],
  },
};

/** True when `req` is a plain request of `endpoint` that its schema accepts unchanged; false means "ask the schema". */
export function plainRequestOk(endpoint: Endpoint, req: unknown): boolean {
  const shape = SHAPES[endpoint];
  if (!shape || typeof req !== 'object' || req === null || Object.getPrototypeOf(req) !== Object.prototype) return false;
  const o = req as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const rule = Object.hasOwn(shape.fields, key) ? shape.fields[key] : undefined;
    const v = o[key];
    if (!rule || typeof v !== 'string' || !rule(v)) return false;
  }
  for (const key of shape.required) if (typeof o[key] !== 'string') return false;
  return !shape.needsRef || typeof o.sn === 'string' || typeof o.client_sn === 'string';
}
