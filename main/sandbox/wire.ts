/**
 * The sandbox gateway's wire rules: envelopes, the documents' field limits
 * (checked on the request side as the real gateway does), and the order
 * snapshot in the shape real answers have (`""` placeholders, extra fields).
 */

export type Biz = Record<string, unknown>;

export type Envelope =
  | { result_code: '200'; biz_response: Biz }
  | { result_code: '400' | '500'; error_code: string; error_message: string };

/** What one handled request did. */
export interface Outcome {
  envelope: Envelope;
  /** A state change was applied (terminal created, key rotated, order created/voided/refunded). */
  effect: boolean;
  /** The order or terminal the request was about, for the log and the effect ledger. */
  sn?: string;
  clientSn?: string;
  terminalSn?: string;
}

/** Request bodies reach the handlers as string maps, plus the two JSON-valued fields pay and refund allow. */
export type Fields = Record<string, string>;
export interface JsonExtras {
  extended?: Record<string, unknown>;
  goods_details?: unknown[];
}

/** How answers look: `real` (default) as the live gateway sends them, `lean` only the fields the protocol notes list. */
export type AnswerShape = 'real' | 'lean';

export function topError(resultCode: '400' | '500', errorCode: string, errorMessage: string): Envelope {
  return { result_code: resultCode, error_code: errorCode, error_message: errorMessage };
}

export function invalidParams(message: string): Outcome {
  return { envelope: topError('400', 'INVALID_PARAMS', `参数错误: ${message}`), effect: false };
}

export function ok(biz: Biz): Envelope {
  return { result_code: '200', biz_response: biz };
}

/** A business refusal; real answers carry `"data": null` when no order is involved. */
export function bizFail(shape: AnswerShape, resultCode: string, errorCode: string, errorMessage: string, extra: Biz = {}): Envelope {
  const base: Biz = { result_code: resultCode, error_code: errorCode, error_message: errorMessage };
  if (shape === 'real' && !('data' in extra)) base.data = null;
  return ok({ ...base, ...extra });
}

// ---------------------------------------------------------------------------
// Limits of the documents (WoSai/shouqianba-doc, pay/refund/activate tables)

export const LIMITS = {
  deviceId: 128,
  /** pay: "长度不超过32字节" */
  clientSnBytes: 32,
  /** pay: "不超过32字节" */
  dynamicIdBytes: 32,
  /** pay and refund: String(10), cents */
  amountDigits: 10,
  subject: 64,
  payOperator: 32,
  refundOperator: 64,
  refundRequestNo: 20,
  description: 256,
  reflect: 64,
  notifyUrl: 128,
  extendedKeys: 24,
  extendedKeyBytes: 64,
  extendedValueBytes: 256,
  goodsIdBytes: 32,
  goodsNameBytes: 32,
} as const;

export const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

const AMOUNT = new RegExp(`^[1-9]\\d{0,${LIMITS.amountDigits - 1}}$`);
export const isAmount = (s: string): boolean => AMOUNT.test(s);

export function requireFields(f: Fields, names: readonly string[]): Outcome | undefined {
  const absent = names.filter((n) => !f[n]);
  return absent.length > 0 ? invalidParams(`缺少 ${absent.join(', ')}`) : undefined;
}

/** A new order's request (pay, precreate): the required fields present, client_sn within its bytes, total_amount an amount. */
export function requireNewOrder(f: Fields, names: readonly string[]): Outcome | undefined {
  const missing = requireFields(f, names);
  if (missing) return missing;
  if (bytes(f.client_sn ?? '') > LIMITS.clientSnBytes) return invalidParams(`client_sn 长度不超过${LIMITS.clientSnBytes}字节`);
  if (!isAmount(f.total_amount ?? '')) return invalidParams(`total_amount金额为整数，长度不超过${LIMITS.amountDigits}位，以分为单位`);
  return undefined;
}

export function requireOrderRef(f: Fields): Outcome | undefined {
  const missing = requireFields(f, ['terminal_sn']);
  if (missing) return missing;
  if (!f.sn && !f.client_sn) return invalidParams('sn 与 client_sn 至少填写一个');
  return undefined;
}

/** Character limits of optional fields; undefined when all fit. */
export function checkLengths(f: Fields, max: Record<string, number>): Outcome | undefined {
  for (const [name, limit] of Object.entries(max)) {
    const v = f[name];
    if (v !== undefined && v.length > limit) return invalidParams(`${name} 超过${limit}个字符`);
  }
  return undefined;
}

/**
 * The body as the handlers see it: every value a string, except `extended`
 * (a JSON object) and `goods_details` (an array of goods with numbers) where
 * the endpoint allows them. Returns a message for INVALID_PARAMS otherwise.
 */
export function readFields(parsed: unknown, allowJson: boolean): { fields: Fields; extras: JsonExtras } | string {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return '请求体必须是 JSON 对象';
  const fields: Fields = {};
  const extras: JsonExtras = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (allowJson && k === 'extended') {
      const why = checkExtended(v);
      if (why) return why;
      extras.extended = v as Record<string, unknown>;
    } else if (allowJson && k === 'goods_details') {
      const why = checkGoods(v);
      if (why) return why;
      extras.goods_details = v as unknown[];
    } else if (typeof v !== 'string') {
      return `字段 ${k} 必须是字符串`;
    } else {
      fields[k] = v;
    }
  }
  return { fields, extras };
}

function checkExtended(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'extended 必须是 JSON 对象';
  const entries = Object.entries(v);
  if (entries.length > LIMITS.extendedKeys) return `extended 最多${LIMITS.extendedKeys}个字段`;
  for (const [k, val] of entries) {
    if (bytes(k) > LIMITS.extendedKeyBytes) return `extended 的字段名超过${LIMITS.extendedKeyBytes}字节`;
    const text = typeof val === 'string' ? val : JSON.stringify(val);
    if (bytes(text ?? '') > LIMITS.extendedValueBytes) return `extended.${k} 超过${LIMITS.extendedValueBytes}字节`;
  }
  return undefined;
}

function checkGoods(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'goods_details 必须是数组';
  for (const [i, g] of v.entries()) {
    if (typeof g !== 'object' || g === null || Array.isArray(g)) return `goods_details[${i}] 必须是对象`;
    const r = g as Record<string, unknown>;
    for (const [name, max] of [['goods_id', LIMITS.goodsIdBytes], ['goods_name', LIMITS.goodsNameBytes]] as const) {
      const s = r[name];
      if (typeof s !== 'string' || s === '' || bytes(s) > max) return `goods_details[${i}].${name} 必须是不超过${max}字节的字符串`;
    }
    for (const name of ['quantity', 'price', 'promotion_type'] as const) {
      if (typeof r[name] !== 'number' || !Number.isInteger(r[name]) || (r[name] as number) < 0) {
        return `goods_details[${i}].${name} 必须是非负整数（数字）`;
      }
    }
    if (r.promotion_type !== 0 && r.promotion_type !== 1) return `goods_details[${i}].promotion_type 只能是 0 或 1`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Payways

/** The payway list of the documents' appendix. */
export const PAYWAY_NAMES: Readonly<Record<string, string>> = {
  '1': '支付宝',
  '2': '支付宝',
  '3': '微信',
  '4': '百度钱包',
  '5': '京东钱包',
  '6': 'QQ钱包',
  '7': 'NFC支付',
  '8': '拉卡拉钱包',
  '9': '和包支付',
  '15': '拉卡拉微信',
  '16': '招商银行',
  '17': '银联云闪付',
  '18': '翼支付',
  '19': '微信境外支付',
  '20': '支付宝国际版',
  '22': '索迪斯',
  '100': '储值支付',
  '101': '礼品卡',
};

/** Barcode prefixes as the wallets issue them; unknown numeric codes pay as WeChat. */
export function paywayForBarcode(code: string): string {
  if (/^(2[5-9]|30)/.test(code)) return '1';
  if (/^1[0-5]/.test(code)) return '3';
  if (/^62/.test(code)) return '17';
  return '3';
}
