/**
 * A payment request, checked before anything is stored or sent (the CLI and
 * the counter use the same checks: exit 2 / INVALID_INPUT with no gateway
 * call), the attempt's own client_sn, and the body of pay / precreate.
 */
import { randomBytes } from 'node:crypto';
import { invalidInput } from '../../errors';
import type { PaymentMethod } from '../../store/payments';
import { LIMITS, utf8Bytes, utf8Prefix } from '../../upay/schemas';

export interface PaymentInput {
  amountCents: number;
  method: PaymentMethod;
  /** Barcode: the customer's payment code (digits, 10-32). */
  barcode?: string;
  /** QR: the payway number (1 Alipay, 3 WeChat, 17 UnionPay, ...). */
  payway?: string;
  subject?: string;
  /** The operator sent to the gateway (≤ 32 bytes); default the accountable's name. */
  operator?: string;
  /** The attempt's client_sn when main chose it first (an approval is recorded with it); default a new one. */
  clientSn?: string;
}

export const PAYWAY_WORDS: Readonly<Record<string, string>> = { alipay: '1', wechat: '3', unionpay: '17' };
export const DEFAULT_SUBJECT = '收款';
/** At most 10 digits of cents (the documents' total_amount). */
export const MAX_AMOUNT_CENTS = 9_999_999_999;

const PRINTABLE = /^[^\p{Cc}\p{Cf}]+$/u;

/**
 * `--amount`: yuan above zero with at most two decimals and at most 10 digits in cents. Leading zeros are
 * digits of the text, not of the amount (`000000001.00` is 100 cents); the text is bounded, the amount checked.
 */
export function parseAmountYuan(text: string): number {
  const m = /^(\d{1,16})(?:\.(\d{1,2}))?$/.exec(text);
  const cents = m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : NaN;
  if (!Number.isSafeInteger(cents) || cents <= 0 || cents > MAX_AMOUNT_CENTS) {
    throw invalidInput('--amount', 'must be yuan above zero with at most two decimals and at most 10 digits in cents, e.g. 12.34', '必须是大于零、最多两位小数、以分计不超过 10 位的金额（元），例如 12.34');
  }
  return cents;
}

/** A payment code as a scanner reads it: digits only, 10-32 characters. */
export function isBarcode(code: string): boolean {
  return /^\d{10,32}$/.test(code);
}

/** `alipay` / `wechat` / `unionpay` or the payway number. */
export function parsePayway(text: string): string {
  const word = PAYWAY_WORDS[text.toLowerCase()];
  if (word) return word;
  if (/^[1-9]\d{0,2}$/.test(text)) return text;
  throw invalidInput('--payway', 'must be alipay, wechat, unionpay or the payway number', '必须是 alipay、wechat、unionpay 或支付方式编号');
}

/** Every rule of a payment request; throws INVALID_INPUT before any I/O. */
export function checkPaymentInput(input: PaymentInput): Required<Pick<PaymentInput, 'amountCents' | 'method' | 'subject'>> & PaymentInput {
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0 || input.amountCents > MAX_AMOUNT_CENTS) {
    throw invalidInput('amount', 'must be a positive number of cents of at most 10 digits', '金额必须大于零，以分计不超过 10 位');
  }
  if (input.method === 'barcode') {
    if (input.barcode === undefined || !isBarcode(input.barcode)) throw invalidInput('--barcode', 'must be the customer payment code: 10-32 digits', '必须是顾客的付款码：10-32 位数字');
    if (input.payway !== undefined) parsePayway(input.payway);
  } else if (input.method === 'qr') {
    if (input.payway === undefined) throw invalidInput('--payway', 'is required with --qr', '使用 --qr 时必须提供');
    parsePayway(input.payway);
    if (input.barcode !== undefined) throw invalidInput('--barcode', 'give either --barcode or --qr, not both', '--barcode 与 --qr 只能选一个');
  } else {
    throw invalidInput('method', 'must be barcode or qr', '必须是 barcode 或 qr');
  }
  if (input.clientSn !== undefined && !/^[0-9A-Z]{1,32}$/.test(input.clientSn)) throw invalidInput('clientSn', 'must be 1-32 capital letters or digits', '须为 1-32 位大写字母或数字');
  const subject = input.subject ?? DEFAULT_SUBJECT;
  if (subject.trim() === '' || utf8Bytes(subject) > LIMITS.subjectBytes || !PRINTABLE.test(subject)) throw invalidInput('--subject', 'must be 1-64 bytes of printable text', '须为 1-64 字节的可打印文字');
  if (input.operator !== undefined && (input.operator.trim() === '' || utf8Bytes(input.operator) > LIMITS.payOperatorBytes || !PRINTABLE.test(input.operator))) {
    throw invalidInput('--operator', 'must be 1-32 bytes of printable text', '须为 1-32 字节的可打印文字');
  }
  return { ...input, subject, ...(input.payway !== undefined ? { payway: parsePayway(input.payway) } : {}) };
}

/**
 * A new client_sn for one attempt (never reused): `P`, the time in ms (base 36) and 12 random hex digits,
 * 22 bytes in all (the documents allow 32).
 */
export function newClientSn(now: number): string {
  return `P${now.toString(36).toUpperCase()}${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** The operator sent to the gateway: the name cut to 32 bytes on a character boundary. */
export function gatewayOperator(name: string): string {
  return utf8Prefix(name.trim(), LIMITS.payOperatorBytes) || 'pos';
}
