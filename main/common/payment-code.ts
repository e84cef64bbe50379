/**
 * A customer's payment code (付款码) as wallets issue them, told from our
 * order numbers (16 digits, 789…) and merchant order numbers by prefix and
 * length: WeChat 18 digits from 10-15, Alipay 16-24 digits from 25-30,
 * UnionPay 19 digits from 62. Pure: the renderer's payment screen and main
 * both use it.
 */
const PAYMENT_CODE = /^(?:1[0-5]\d{16}|(?:2[5-9]|30)\d{14,22}|62\d{17})$/;

export function isCustomerPaymentCode(code: string): boolean {
  return PAYMENT_CODE.test(code);
}
