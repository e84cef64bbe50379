/**
 * Money is integer cents end to end (`Cents`); formatting happens only at the
 * edge (screens, receipts).
 */

export type Cents = number & { readonly __cents?: never };

/** Parse the gateway's cent string ("10000"); undefined when not a non-negative integer. */
export function parseCents(value: string | undefined | null): Cents | undefined {
  if (value === undefined || value === null || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** 10000 -> "100.00", 123450 -> "1,234.50": thousands grouped, so screen and paper read alike. */
export function formatYuan(cents: Cents): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  const yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+$)/g, ',');
  return `${sign}${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

/** 10000 -> "￥100.00", 123450 -> "￥1,234.50", -1250 -> "-￥12.50" (fullwidth yen sign, as Chinese receipts print it). */
export function formatCny(cents: Cents): string {
  const yuan = formatYuan(cents);
  return yuan.startsWith('-') ? `-￥${yuan.slice(1)}` : `￥${yuan}`;
}

/** "100.00" / "100" / "100.5" -> 10050; undefined when not a plain amount with at most 2 decimals. */
export function parseYuan(text: string): Cents | undefined {
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/**
 * What a cashier types as an amount: "12.50" / "12.5" / "￥12" -> 1250;
 * undefined when the text has neither a decimal point nor a yen sign, or is not positive.
 */
export function parseTypedAmount(text: string): Cents | undefined {
  const trimmed = text.trim();
  const m = /^([￥¥]?)\s*(\d{1,10}(?:\.\d{1,2})?)$/.exec(trimmed);
  if (!m) return undefined;
  if (!m[1] && !m[2]!.includes('.')) return undefined;
  const cents = parseYuan(m[2]!);
  return cents !== undefined && cents > 0 ? cents : undefined;
}
