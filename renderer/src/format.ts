/**
 * Formatting at the edge: cents to ￥, Unix ms to China Standard Time (the
 * gateway's zone, whatever the machine's zone is), and reading what a
 * cashier types into the search box. Money stays integer cents until here.
 */
import type { Lang } from './i18n';

const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/** 1250 -> "￥12.50" (fullwidth yen sign, as Chinese receipts print it). */
export function formatCny(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}￥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `YYYY-MM-DD HH:mm:ss` in UTC+8. */
export function formatCst(ms: number): string {
  const iso = new Date(ms + CST_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `HH:mm` in UTC+8. */
export function formatCstTime(ms: number): string {
  return new Date(ms + CST_OFFSET_MS).toISOString().slice(11, 16);
}

/** The business day (`YYYY-MM-DD`, UTC+8) that contains `ms`. */
export function businessDayOf(ms: number): string {
  return new Date(ms + CST_OFFSET_MS).toISOString().slice(0, 10);
}

/** "12.50" / "12.5" / "￥12" -> 1250; undefined when the text is not an amount with a decimal point or a yen sign. */
export function parseAmount(text: string): number | undefined {
  const m = /^[￥¥]?\s*(\d{1,10})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return undefined;
  if (m[2] === undefined && !/^[￥¥]/.test(text.trim())) return undefined;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return cents > 0 ? cents : undefined;
}

export type SearchQuery = { kind: 'all' } | { kind: 'amount'; amountCents: number } | { kind: 'text'; text: string };

/**
 * What the search box means: an amount when it has a decimal point or a yen
 * sign ("12.50", "￥12"), otherwise the start of an order number or merchant
 * order number. Plain digits are order numbers: sn are all digits.
 */
export function readSearch(raw: string): SearchQuery {
  const text = raw.trim();
  if (!text) return { kind: 'all' };
  const amountCents = parseAmount(text);
  if (amountCents !== undefined) return { kind: 'amount', amountCents };
  return { kind: 'text', text: text.slice(0, 32) };
}

/** What the "look up on Upay" button may ask for: a full sn (digits) or a client_sn. */
export function lookupRef(query: SearchQuery): { sn: string } | { clientSn: string } | null {
  if (query.kind !== 'text') return null;
  if (/^\d{16}$/.test(query.text)) return { sn: query.text };
  if (/^[\x21-\x7e]{4,32}$/.test(query.text) && !/^\d+$/.test(query.text)) return { clientSn: query.text };
  return null;
}

const PAYWAYS: Record<string, { zh: string; en: string }> = {
  '1': { zh: '支付宝', en: 'Alipay' },
  '2': { zh: '支付宝', en: 'Alipay' },
  '3': { zh: '微信', en: 'WeChat Pay' },
  '4': { zh: '百度钱包', en: 'Baidu Wallet' },
  '5': { zh: '京东钱包', en: 'JD Pay' },
  '6': { zh: 'QQ 钱包', en: 'QQ Wallet' },
  '17': { zh: '银联云闪付', en: 'UnionPay QuickPass' },
};

/**
 * The payway's name for the screen: in Chinese the gateway's own name when
 * it sent one; in English a known translation, else the gateway's name.
 */
export function paywayLabel(payway: string | null, paywayName: string | null, lang: Lang): string {
  const known = payway ? PAYWAYS[payway] : undefined;
  if (lang === 'zh-CN') return paywayName ?? known?.zh ?? payway ?? '-';
  return known?.en ?? paywayName ?? payway ?? '-';
}
