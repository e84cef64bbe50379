/**
 * The counter's payment screen (收款): the amount typed on the on-screen
 * keypad (or the keyboard's digits); a customer's payment code scanned here
 * (told from an order scan by its prefix and length) takes a barcode
 * payment; 收款码 shows our QR, big enough to scan, with a countdown. The
 * cashier reads one of three states that never leave doubt (收款成功 /
 * 未收款（钱款未扣） / 正在确认（请勿重复收款）), or needs_attention with its
 * next step: the headline comes from the main process. Charging an amount
 * already open asks for a confirmation first, and a payment above store
 * IT's threshold (off by default) goes through the one approval sheet; main
 * refuses both otherwise.
 *
 * The payments live at the window's level (../payments.ts), not here: leaving
 * this screen (Escape, a tab, 新收款) or a reload loses none. When the screen
 * opens it reads the open payments and, with none on screen, shows the newest
 * open one; the others (and each ended one the cashier has not seen) are
 * listed on the start screen with their headline, each one tap away.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { refusedBeforeRecord } from '../refusals';
import { isCustomerPaymentCode } from '../../../main/common/payment-code';
import type { ApprovalInput, PAY_NOT_RECORDED, PaymentView, PayNotRecordedDetails } from '../../../main/ipc/contract';
import { call, type ErrorView } from '../bridge';
import { formatCny, paywayLabel } from '../format';
import { useI18n } from '../i18n';
import { qrSvg } from '../qr';
import { isOpenPayment, type Payments } from '../payments';
import { useScanner } from '../scanner';
import { needsApproval, useSessionContext } from '../session';
import { AmountPad, APPROVAL_ERRORS, MoneySheet, withDigit } from './Approval';
import { ConfirmDialog, ErrorNotice } from './ui';

/** The badge's colour for a listed payment's outcome. */
const TONE: Record<PaymentView['outcome'], string> = {
  paid: 'ok',
  failed: 'muted',
  canceled: 'muted',
  pending: 'warn',
  awaiting_customer: 'warn',
  needs_attention: 'danger',
};

type Charge = { method: 'barcode'; barcode: string } | { method: 'qr'; payway: '1' | '3' | '17' };

const WAYS = ['3', '1', '17'] as const;
/** At most this many other payments listed on the start screen (the 待处理 list has them all). */
const LISTED = 3;
/** Main looked the failed attempt up and found no row: nothing was recorded or sent (contract.ts PAY_NOT_RECORDED). */
const NOT_RECORDED: typeof PAY_NOT_RECORDED = 'PAYMENT_NOT_RECORDED';
/** Refusals that come before the payment's row is written, and main's "no row": nothing was recorded or sent, no money taken. */
const REFUSED_BEFORE_RECORD = refusedBeforeRecord('PAYMENT_SAME_AMOUNT_OPEN', 'PAYMENT_TOO_MANY_OPEN', NOT_RECORDED);

/** The open payment a PAYMENT_SAME_AMOUNT_OPEN refusal names (details.paymentId): what the confirmation shows and names back. */
function namedOpen(error: ErrorView): number | null {
  const id = (error.details as { paymentId?: unknown } | undefined)?.paymentId;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** A refused pay.request and what is known of its payment: not recorded (no money taken), being checked, found (shown), or not known. */
type Failure = { error: ErrorView; record: 'none' | 'checking' | 'found' | 'unknown' };

/** The error to show under the answer: for PAYMENT_NOT_RECORDED, its cause (the answer, 未收款（钱款未扣）, is said once, above it). */
function failureCause(error: ErrorView): ErrorView {
  const d = error.details as Partial<PayNotRecordedDetails> | undefined;
  if (error.code !== NOT_RECORDED || typeof d?.cause !== 'string' || typeof d.causeMessage !== 'string' || typeof d.causeMessageZh !== 'string') return error;
  return { code: d.cause, message: d.causeMessage, messageZh: d.causeMessageZh };
}

export function PaymentScreen({ payments }: { payments: Payments }) {
  const { t, lang } = useI18n();
  const session = useSessionContext();
  /** The amount as cash-register digits in cents ('1234' is ￥12.34). */
  const [digits, setDigits] = useState('');
  /** The same digits, current between renders (a scanner's burst comes faster than renders). */
  const digitsNow = useRef('');
  const setAmount = (d: string) => {
    digitsNow.current = d;
    setDigits(d);
  };
  const payment = payments.current;
  /** A refused payment request, with what is known of its payment. */
  const [failure, setFailure] = useState<Failure | null>(null);
  /** Any other refusal (再次查询). */
  const [error, setError] = useState<ErrorView | null>(null);
  const [listFailed, setListFailed] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  /** The same amount is open: the confirmation shows the open payment main named (`openId`) and, confirmed, names it back. */
  const [duplicate, setDuplicate] = useState<{ charge: Charge; error: ErrorView; openId: number } | null>(null);
  const [approval, setApproval] = useState<{ charge: Charge; confirmDuplicateOf: number | null; amountCents: number } | null>(null);
  const [now, setNow] = useState(Date.now());
  const qrBox = useRef<HTMLDivElement>(null);
  const inflight = useRef(false);
  const cents = Number(digits || '0');

  // Opening the screen (and after a reload): the open payments; with none on screen, the newest open one is shown.
  useEffect(() => {
    let stale = false;
    void payments.refresh().then((open) => {
      if (stale) return;
      setListFailed(open === null);
      if (!open || open.length === 0 || inflight.current || payments.currentNow() !== null) return;
      payments.show(Math.max(...open.map((p) => p.id)));
    });
    return () => {
      stale = true;
    };
  }, []);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 500);
    return () => window.clearInterval(timer);
  }, []);
  useEffect(() => {
    const box = qrBox.current;
    if (!box) return;
    box.replaceChildren();
    if (payment?.outcome === 'awaiting_customer' && payment.qrCode) box.append(qrSvg(payment.qrCode));
  }, [payment?.qrCode, payment?.outcome]);

  /**
   * Sends the payment; the same amount open → the confirmation, showing the open payment main named; confirmed, the
   * request names that payment (`confirmDuplicateOf`), so main charges again only while it is the one open of that
   * amount. One opened since is named in a new refusal: the confirmation asks again about it. Approval errors stay on the sheet.
   */
  const send = async (charge: Charge, amountCents: number, confirmDuplicateOf: number | null, approvalInput: ApprovalInput | null): Promise<ErrorView | null> => {
    const known = new Set(payments.seen());
    const res = await call((p) => p.payRequest({ ...charge, amountCents, ...(confirmDuplicateOf !== null ? { confirmDuplicateOf } : {}), ...(approvalInput ? { approval: approvalInput } : {}) }));
    // The bench's "QR visible after 收款码" starts here (the gateway's answer, as the page receives it).
    performance.mark('pay:answer');
    if (res.ok) {
      payments.note(res.value);
      payments.show(res.value.id);
      setFailure(null);
      return null;
    }
    const openId = res.error.code === 'PAYMENT_SAME_AMOUNT_OPEN' ? namedOpen(res.error) : null;
    if (openId !== null && openId !== confirmDuplicateOf) setDuplicate({ charge, error: res.error, openId });
    else if (!approvalInput || !APPROVAL_ERRORS.includes(res.error.code)) void afterFailure(res.error, amountCents, known);
    return res.error;
  };

  /**
   * A refused request: refused before its row was written, or main found no row of the attempt after a failure
   * (PAYMENT_NOT_RECORDED) → nothing recorded or sent, no money taken: 未收款（钱款未扣）, charge again. (When main
   * finds the row, pay.request answers with its view: it is shown like any payment.) Otherwise main could not tell
   * (its own lookup failed, the answer was lost): a new open payment of that amount (or one an event brought) is
   * this one, shown with its state; none found → the cashier is told not to charge again.
   */
  const afterFailure = async (error: ErrorView, amountCents: number, known: ReadonlySet<number>) => {
    if (REFUSED_BEFORE_RECORD.has(error.code)) return setFailure({ error, record: 'none' });
    setFailure({ error, record: 'checking' });
    const open = await payments.refresh();
    const left = [...(open ?? []), ...payments.now()].filter((p) => !known.has(p.id) && p.amountCents === amountCents).sort((a, b) => b.id - a.id)[0];
    if (left) {
      payments.note(left);
      payments.show(left.id);
    }
    setFailure((f) => (f && f.error === error ? { error, record: left ? 'found' : 'unknown' } : f));
  };

  const charge = async (c: Charge, confirmDuplicateOf: number | null = null) => {
    const amountCents = Number(digitsNow.current || '0');
    setError(null);
    setFailure(null);
    setNotice(null);
    if (amountCents <= 0) return setNotice(t('pay.enterAmount'));
    if (needsApproval(session.state, amountCents, 'pay')) return setApproval({ charge: c, confirmDuplicateOf, amountCents });
    if (inflight.current) return;
    inflight.current = true;
    try {
      await send(c, amountCents, confirmDuplicateOf, null);
    } finally {
      inflight.current = false;
    }
  };

  // Keyboard digits add to the amount; a scan's burst is taken back out (the scanner tells it from typing only at its Enter).
  // Listening from the moment the screen is drawn (a layout effect): digits typed right after F2 or the tab are not lost.
  const before = useRef<string[]>([]);
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || document.querySelector('dialog[open]')) return;
      if (/^\d$/.test(e.key) || e.key === 'Backspace') {
        const d = digitsNow.current;
        before.current = [...before.current.slice(-40), d];
        const next = e.key === 'Backspace' ? d.slice(0, -1) : withDigit(d, e.key);
        if (next !== undefined) setAmount(next);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Always listening (no gap while a sheet closes); a scan while a sheet is open is not a new payment.
  useScanner((code) => {
    if (approval || duplicate) return;
    const typed = code.replace(/\D/g, '').length;
    if (typed > 0 && before.current.length >= typed) {
      setAmount(before.current[before.current.length - typed]!);
      before.current = before.current.slice(0, -typed);
    }
    if (isCustomerPaymentCode(code)) void charge({ method: 'barcode', barcode: code });
    else setNotice(t('pay.notPaymentCode'));
  }, true);

  const queryAgain = async () => {
    if (!payment) return;
    const res = await call((p) => p.payQueryAgain({ paymentId: payment.id }));
    if (res.ok) payments.note(res.value);
    else setError(res.error);
  };

  /** 新收款: an ended payment is done with (it leaves the list); an open one stays listed, one tap away. */
  const startOver = () => {
    if (payment && !isOpenPayment(payment)) payments.dismiss(payment.id);
    else payments.show(null);
    setAmount('');
    setError(null);
    setFailure(null);
    setNotice(null);
  };

  // Date.now() at this render: `now` (ticking every 0.5 s) only makes the countdown render again.
  const left = (p: PaymentView) => (now > 0 ? Math.max(0, Math.ceil((p.windowUntil - Date.now()) / 1000)) : 0);
  const secondsLeft = payment ? left(payment) : 0;
  const others = payments.list.filter((p) => p.id !== payment?.id);
  // A refused request: the answer first (was money taken?), then what failed. On the start screen it comes first;
  // under a payment (one found after the refusal) it follows that payment's state.
  const failed = failure && (
    <div class="payment__failure">
      <p class={`notice payment__record ${failure.record === 'none' ? 'notice--ok' : 'notice--warn'}`} role="status" data-pay-record={failure.record}>
        {t(`pay.record.${failure.record}` as const)}
      </p>
      <ErrorNotice error={failureCause(failure.error)} onDismiss={() => setFailure(null)} />
    </div>
  );
  const wayName = (c: Charge) => (c.method === 'qr' ? `${t('pay.qr')} · ${paywayLabel(c.payway, null, lang)}` : `${t('pay.code')} ···${c.barcode.slice(-4)}`);
  return (
    <section class="payment" data-view="pay">
      <div class="payment__main">
        {payment ? (
          <div class="payment__state" data-outcome={payment.outcome} data-payment={payment.id} aria-live="polite">
            <h2 class="payment__headline">{lang === 'zh-CN' ? payment.headlineZh : payment.headlineEn}</h2>
            <p class="payment__money" data-amount-cents={payment.amountCents}>
              {formatCny(payment.amountCents)}
              <span class="payment__way">{payment.method === 'qr' ? `${t('pay.qr')} · ${paywayLabel(payment.payway, payment.paywayName, lang)}` : paywayLabel(payment.payway, payment.paywayName, lang)}</span>
            </p>
            <div class="payment__line">
              <p class="payment__detail">
                {t('detail.clientSn')} <code>{payment.clientSn}</code>
              </p>
              {payment.outcome === 'awaiting_customer' && (
                <p class="payment__countdown" data-seconds-left={secondsLeft}>
                  {t('pay.left', { s: secondsLeft })}
                </p>
              )}
            </div>
            <div class="payment__qr" ref={qrBox} data-qr={payment.outcome === 'awaiting_customer' ? 'shown' : 'none'} />
            <div class="payment__actions">
              {isOpenPayment(payment) && (
                <button type="button" class="btn btn--secondary btn--large" data-action="pay-query" onClick={() => void queryAgain()}>
                  {t('pay.query')}
                </button>
              )}
              <button type="button" class="btn btn--primary btn--large" data-action="pay-new" onClick={startOver}>
                {t('pay.new')}
              </button>
            </div>
            {others.length > 0 && (
              <button type="button" class="btn btn--quiet" data-action="pay-others" data-count={others.length} onClick={() => payments.show(null)}>
                {t('pay.others', { n: others.length })}
              </button>
            )}
          </div>
        ) : (
          <div class={`payment__start${failure ? ' payment__start--failed' : ''}`}>
            {failed}
            {others.length > 0 && (
              <section class="payment__open" aria-labelledby="pay-open-title" data-pay-list={others.length}>
                <p id="pay-open-title" class="payment__label">
                  {t('pay.list.title')}
                </p>
                <ul class="queue-list">
                  {others.slice(0, LISTED).map((p) => (
                    <li key={p.id} class="queue-list__item" data-payment-item={p.id} data-outcome={p.outcome}>
                      <span class={`badge badge--${TONE[p.outcome]}`}>{formatCny(p.amountCents)}</span>
                      <strong class="payment__itemHeadline">{p.outcome === 'needs_attention' ? t('pay.item.attention') : lang === 'zh-CN' ? p.headlineZh : p.headlineEn}</strong>
                      <span class="queue-list__meta">{p.outcome === 'awaiting_customer' ? t('pay.left', { s: left(p) }) : `···${p.clientSn.slice(-4)}`}</span>
                      <button type="button" class="btn btn--primary" data-action="pay-show" data-payment-id={p.id} onClick={() => payments.show(p.id)}>
                        {t('pay.show')}
                      </button>
                    </li>
                  ))}
                </ul>
                {others.length > LISTED && <p class="payment__detail">{t('pay.more', { n: others.length - LISTED })}</p>}
              </section>
            )}
            {!payments.loaded && (
              <p class="payment__detail" data-pay-loading>
                {listFailed ? t('pay.listFailed') : t('pay.loading')}
              </p>
            )}
            <p class="payment__hint">{t('pay.scanHint')}</p>
            <div class="payment__ways">
              {WAYS.map((payway) => (
                <button type="button" key={payway} class="btn btn--secondary btn--large" data-payway={payway} onClick={() => void charge({ method: 'qr', payway })}>
                  <span class="payment__wayPart">{t('pay.qr')}</span>
                  <span class="payment__waySep">{'\u00a0·\u00a0'}</span>
                  <span class="payment__wayPart">{paywayLabel(payway, null, lang)}</span>
                </button>
              ))}
            </div>
          </div>
        )}
        {notice && (
          <p class="notice notice--warn" role="alert" data-pay-notice>
            {notice}
          </p>
        )}
        {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
        {payment && failed}
      </div>
      <div class="payment__pad">
        <p class="payment__amount" data-money-line data-amount-cents={cents}>
          <span class="payment__label">{t('pay.amount')}</span>
          <strong>{formatCny(cents)}</strong>
        </p>
        <AmountPad value={digits} onChange={setAmount} />
      </div>
      {duplicate && (
        <ConfirmDialog
          title={t('pay.sameAmount.title')}
          okLabel={t('pay.sameAmount.ok')}
          cancelLabel={t('confirm.cancel')}
          onCancel={() => setDuplicate(null)}
          onOk={() => {
            const { charge: c, openId } = duplicate;
            setDuplicate(null);
            void charge(c, openId);
          }}
        >
          <p data-same-amount>{lang === 'zh-CN' ? duplicate.error.messageZh : duplicate.error.message}</p>
        </ConfirmDialog>
      )}
      {approval && (
        <MoneySheet
          kind="pay"
          title={t('pay.approvalTitle')}
          okLabel={(amount) => t('pay.ok', { amount })}
          payway={wayName(approval.charge)}
          amountCents={approval.amountCents}
          onConfirm={async (amountCents, a) => {
            const err = await send(approval.charge, amountCents, approval.confirmDuplicateOf, a);
            if (!err) setApproval(null);
            return err;
          }}
          onCancel={() => setApproval(null)}
        />
      )}
    </section>
  );
}
