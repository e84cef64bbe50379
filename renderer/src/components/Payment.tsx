/**
 * The counter's payment screen: the amount typed on the keypad; a customer's
 * payment code scanned here (told from an order scan by its prefix and
 * length) takes a barcode payment; 收款码 shows our QR, big enough to scan,
 * with a countdown. The cashier reads one of three states that never leave
 * doubt (收款成功 / 未收款（钱款未扣） / 正在确认（请勿重复收款）), or
 * needs_attention with its next step: the headline comes from the main
 * process. Charging an amount already open asks for a confirmation first
 * (main refuses it otherwise).
 */
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { isCustomerPaymentCode } from '../../../main/common/payment-code';
import type { PaymentView } from '../../../main/ipc/contract';
import { call, pos } from '../bridge';
import { I18nContext } from '../i18n';
import { qrSvg } from '../qr';
import { useScanner } from '../scanner';

const W = {
  amount: ['金额（元）', 'Amount (yuan)'],
  scanHint: ['扫描顾客付款码即可收款', 'Scan the customer payment code to charge'],
  qr: ['收款码', 'Show QR'],
  query: ['再次查询', 'Query again'],
  badAmount: ['请输入大于零、最多两位小数的金额', 'Type an amount above zero with at most two decimals'],
  notPaymentCode: ['这不是顾客付款码（订单号请在收银页扫描）', 'Not a customer payment code (scan order numbers on the cashier tab)'],
  sameAmount: ['已有同金额的收款正在确认。确认顾客要再付一次吗？', 'A payment of this amount is still being confirmed. Charge the customer again?'],
  left: ['剩余', 'left'],
} as const;

const WAYS: Array<['1' | '3' | '17', string, string]> = [
  ['3', '微信', 'WeChat'],
  ['1', '支付宝', 'Alipay'],
  ['17', '云闪付', 'UnionPay'],
];

function cents(text: string): number | null {
  const m = /^(\d{1,8})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  const v = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return v > 0 ? v : null;
}

export function PaymentScreen() {
  const { lang } = useContext(I18nContext);
  const w = (k: keyof typeof W) => W[k][lang === 'zh-CN' ? 0 : 1];
  const [amount, setAmount] = useState('');
  const [payment, setPayment] = useState<PaymentView | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const qrBox = useRef<HTMLDivElement>(null);

  useEffect(() => pos().on('payment.updated', (p) => setPayment((cur) => (cur && cur.id === p.id ? p : cur))), []);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    const box = qrBox.current;
    if (!box) return;
    box.replaceChildren();
    if (payment?.outcome === 'awaiting_customer' && payment.qrCode) box.append(qrSvg(payment.qrCode));
  }, [payment?.qrCode, payment?.outcome]);

  const charge = async (input: { method: 'barcode'; barcode: string } | { method: 'qr'; payway: '1' | '3' | '17' }, confirmDuplicate = false) => {
    const amountCents = cents(amount);
    if (amountCents === null) return setMessage(w('badAmount'));
    setMessage(null);
    const res = await call((p) => p.payRequest({ ...input, amountCents, ...(confirmDuplicate ? { confirmDuplicate } : {}) }));
    if (res.ok) return setPayment(res.value);
    if (res.error.code === 'PAYMENT_SAME_AMOUNT_OPEN' && !confirmDuplicate && window.confirm(w('sameAmount'))) return charge(input, true);
    setMessage(lang === 'zh-CN' ? res.error.messageZh : res.error.message);
  };

  useScanner((code) => {
    if (isCustomerPaymentCode(code)) void charge({ method: 'barcode', barcode: code });
    else setMessage(w('notPaymentCode'));
  }, true);

  const queryAgain = async () => {
    if (!payment) return;
    const res = await call((p) => p.payQueryAgain({ paymentId: payment.id }));
    if (res.ok) setPayment(res.value);
  };

  const secondsLeft = payment ? Math.max(0, Math.ceil((payment.windowUntil - now) / 1000)) : 0;
  return (
    <section class="payment" data-outcome={payment?.outcome ?? 'none'}>
      <label class="payment__amount">
        {w('amount')}
        <input inputMode="decimal" value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} autoFocus />
      </label>
      <p class="payment__hint">{w('scanHint')}</p>
      <div class="payment__ways">
        {WAYS.map(([payway, zh, en]) => (
          <button type="button" key={payway} data-payway={payway} onClick={() => void charge({ method: 'qr', payway })}>
            {w('qr')} · {lang === 'zh-CN' ? zh : en}
          </button>
        ))}
      </div>
      {message ? <p class="payment__message" role="alert">{message}</p> : null}
      {payment ? (
        <div class="payment__state" aria-live="polite">
          <p class="payment__headline">{lang === 'zh-CN' ? payment.headlineZh : payment.headlineEn}</p>
          <p class="payment__detail">
            ￥{(payment.amountCents / 100).toFixed(2)} · {payment.clientSn}
            {payment.outcome === 'awaiting_customer' ? ` · ${w('left')} ${secondsLeft}s` : ''}
          </p>
          <div class="payment__qr" ref={qrBox} />
          {payment.outcome === 'pending' || payment.outcome === 'needs_attention' || payment.outcome === 'awaiting_customer' ? (
            <button type="button" onClick={() => void queryAgain()}>
              {w('query')}
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
