/**
 * Upay payway codes and their names (the protocol's table), one copy for the
 * receipt and the screen. The gateway's own `payway_name` wins when it sent one.
 */

export interface PaywayName {
  zh: string;
  en: string;
}

export const PAYWAYS: Readonly<Record<string, PaywayName>> = {
  '1': { zh: '支付宝', en: 'Alipay' },
  '2': { zh: '支付宝', en: 'Alipay' },
  '3': { zh: '微信', en: 'WeChat Pay' },
  '4': { zh: '百度钱包', en: 'Baidu Wallet' },
  '5': { zh: '京东钱包', en: 'JD Wallet' },
  '6': { zh: 'QQ钱包', en: 'QQ Wallet' },
  '7': { zh: 'NFC支付', en: 'NFC' },
  '8': { zh: '拉卡拉钱包', en: 'Lakala Wallet' },
  '9': { zh: '和包支付', en: 'China Mobile HeBao' },
  '15': { zh: '拉卡拉微信', en: 'Lakala WeChat' },
  '16': { zh: '招商银行', en: 'China Merchants Bank' },
  '17': { zh: '银联云闪付', en: 'UnionPay QR' },
  '18': { zh: '翼支付', en: 'Bestpay' },
  '19': { zh: '微信境外', en: 'WeChat overseas' },
  '20': { zh: '支付宝国际', en: 'Alipay global' },
  '22': { zh: '索迪斯卡', en: 'Sodexo card' },
  '100': { zh: '储值', en: 'Stored value' },
  '101': { zh: '礼品卡', en: 'Gift card' },
};

export type PaywayLang = 'zh' | 'en';

/** The payway's known name in `lang`, or undefined for a code not in the table. */
export function knownPayway(code: string | null, lang: PaywayLang): string | undefined {
  return code ? PAYWAYS[code]?.[lang] : undefined;
}
