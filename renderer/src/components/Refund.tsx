/**
 * Refunds at the counter: a 退款 action on any order (today's, an earlier
 * day's, or one imported by number), the amount (defaulting to what can
 * still be refunded), an optional supervisor approval, progress, and the
 * outcome screens, which follow `refund.updated` events. The revoke screens
 * for "not today", "expired" and "refused" open it with `offerRefund`.
 * Every rule (amount, state, approval) is checked in the main process.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, pos, type ErrorView, type OrderView } from '../bridge';
import type { RefundView } from '../../../main/ipc/contract';
import { formatCny, formatCst } from '../format';
import { parseTypedAmount } from '../../../main/common/money';
import { useI18n } from '../i18n';
import { ErrorNotice, MoneyStatement, Rows, Spinner } from './ui';

const OPEN_EVENT = 'pos:open-refund';

/** Opens the refund panel of the order shown (from a revoke outcome screen). */
export function offerRefund(sn: string): void {
  window.dispatchEvent(new CustomEvent(OPEN_EVENT, { detail: sn }));
}

/** The button a revoke screen shows when a refund is the way to pay the customer back. */
export function RefundOffer({ order }: { order: OrderView }) {
  const { t } = useI18n();
  if (order.status !== 'PAID' && order.status !== 'PARTIAL_REFUNDED') return null;
  return (
    <button type="button" class="btn btn--primary btn--huge refund-offer" data-action="offer-refund" onClick={() => offerRefund(order.sn)}>
      {t('refund.offer')}
    </button>
  );
}

export function RefundPanel({ order, onChanged }: { order: OrderView; onChanged: () => void }) {
  const { t, pick } = useI18n();
  const [open, setOpen] = useState(false);
  const [refundable, setRefundable] = useState<number | null>(null);
  const [refunds, setRefunds] = useState<RefundView[]>([]);
  const [amount, setAmount] = useState('');
  const [approverId, setApproverId] = useState('');
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorView | null>(null);
  const [current, setCurrent] = useState<RefundView | null>(null);
  const inflight = useRef(false);

  const load = async () => {
    const res = await call((p) => p.refundForOrder({ sn: order.sn }));
    if (!res.ok) return setError(res.error);
    setRefundable(res.value.refundableCents);
    setRefunds(res.value.refunds);
    const openOne = res.value.refunds.find((r) => !['refunded', 'rejected'].includes(r.state));
    if (openOne) setCurrent(openOne);
  };

  useEffect(() => {
    setOpen(false);
    setCurrent(null);
    setError(null);
    void load();
    const onOpen = (e: Event) => {
      if ((e as CustomEvent<string>).detail === order.sn) setOpen(true);
    };
    window.addEventListener(OPEN_EVENT, onOpen);
    const off = pos().on('refund.updated', (r) => {
      if (r.orderSn !== order.sn) return;
      setCurrent((cur) => (cur && cur.id === r.id && cur.updatedAt > r.updatedAt ? cur : r));
      void load();
      onChanged();
    });
    return () => {
      window.removeEventListener(OPEN_EVENT, onOpen);
      off();
    };
  }, [order.sn]);

  useEffect(() => {
    if (open && refundable !== null && amount === '') setAmount((refundable / 100).toFixed(2));
  }, [open, refundable]);

  const cents = parseTypedAmount(amount.includes('.') || amount.startsWith('￥') ? amount : `${amount}.00`);
  const start = async () => {
    if (inflight.current || cents === undefined) return;
    inflight.current = true;
    setBusy(true);
    setError(null);
    const approval = approverId && pin ? { approval: { operatorId: Number(approverId), pin } } : {};
    const res = await call((p) => p.refundRequest({ sn: order.sn, amountCents: cents, ...approval }));
    inflight.current = false;
    setBusy(false);
    setPin('');
    if (!res.ok) return setError(res.error);
    setCurrent(res.value);
    setOpen(false);
    setAmount('');
    void load();
    onChanged();
  };

  const queryAgain = async (id: number) => {
    setBusy(true);
    const res = await call((p) => p.refundQueryAgain({ refundId: id }));
    setBusy(false);
    if (res.ok) setCurrent(res.value);
    else setError(res.error);
  };

  // Not while a request is in flight: its answer closes the form and clears the amount.
  const canRefund = !busy && (order.status === 'PAID' || order.status === 'PARTIAL_REFUNDED') && (refundable ?? 0) > 0 && !(current && !['refunded', 'rejected'].includes(current.state));

  return (
    <section class="refund" data-refund-for={order.sn}>
      {canRefund && !open && (
        <button type="button" class="btn btn--secondary btn--huge" data-action="refund" onClick={() => setOpen(true)}>
          {t('refund.action')}
        </button>
      )}
      {open && (
        <form
          class="refund__form"
          data-refund-form
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <h2 class="refund__title">{t('refund.title')}</h2>
          <p class="refund__refundable" data-refundable-cents={refundable ?? 0}>
            {t('refund.refundable', { amount: formatCny(refundable ?? 0) })}
          </p>
          <label class="refund__label" for="refund-amount">
            {t('refund.amount')}
          </label>
          <input id="refund-amount" class="refund__amount" inputMode="decimal" value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
          {cents === undefined && amount !== '' && <p class="notice notice--warn">{t('refund.amountInvalid')}</p>}
          <fieldset class="refund__approval">
            <legend>{t('refund.approval')}</legend>
            <input class="refund__approver" inputMode="numeric" placeholder={t('refund.approverId')} value={approverId} onInput={(e) => setApproverId((e.target as HTMLInputElement).value.replace(/\D/g, ''))} />
            <input class="refund__pin" type="password" inputMode="numeric" placeholder={t('refund.pin')} value={pin} onInput={(e) => setPin((e.target as HTMLInputElement).value.replace(/\D/g, ''))} />
          </fieldset>
          <div class="refund__buttons">
            <button type="submit" class="btn btn--danger btn--huge" data-action="confirm-refund" disabled={busy || cents === undefined}>
              {busy ? <Spinner /> : null} {t('refund.confirm', { amount: cents === undefined ? '-' : formatCny(cents) })}
            </button>
            <button type="button" class="btn btn--quiet" onClick={() => setOpen(false)}>
              {t('confirm.cancel')}
            </button>
          </div>
        </form>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      {busy && !open && (
        <section class="outcome outcome--progress" data-outcome="refund-progress">
          <h2 class="outcome__title">
            <Spinner /> {t('refund.progress')}
          </h2>
          <MoneyStatement state="confirming" />
        </section>
      )}
      {current && <RefundOutcome refund={current} reason={current.error ? pick(current.error.messageZh, current.error.messageEn) : null} onQuery={() => void queryAgain(current.id)} />}
      {refunds.length > 0 && (
        <ul class="refund__history" aria-label={t('refund.history')}>
          {refunds.map((r) => (
            <li key={r.id} data-refund-id={r.id} data-state={r.state}>
              {formatCny(r.amountCents)} · {t(`refund.state.${r.state}` as const)} · {formatCst(r.requestedAt)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RefundOutcome({ refund, reason, onQuery }: { refund: RefundView; reason: string | null; onQuery: () => void }) {
  const { t } = useI18n();
  const [receipt, setReceipt] = useState<string | null>(null);
  useEffect(() => {
    if (refund.state !== 'refunded') return;
    void call((p) => p.refundReceipt({ refundId: refund.id })).then((r) => r.ok && r.value && setReceipt(r.value.html));
  }, [refund.id, refund.state]);
  const money = refund.state === 'refunded' ? 'returned' : refund.state === 'rejected' || refund.state === 'queued' ? 'unchanged' : 'confirming';
  return (
    <section class={`outcome outcome--refund-${refund.state}`} data-outcome={`refund-${refund.state}`} data-refund-id={refund.id}>
      <h2 class="outcome__title">{t(`refund.outcome.${refund.state}` as const)}</h2>
      <MoneyStatement state={money} />
      {reason && refund.state !== 'refunded' && <p class="outcome__reason">{reason}</p>}
      {refund.error?.gatewayCode && (
        <p class="outcome__gateway">
          <code>{refund.error.gatewayCode}</code> {refund.error.gatewayMessage}
        </p>
      )}
      <Rows
        rows={[
          [t('refund.amount'), formatCny(refund.amountCents)],
          [t('refund.requestNo'), <code>{refund.requestNo}</code>],
          [t('refund.operator'), refund.operatorName],
          refund.approverName ? [t('refund.approver'), refund.approverName] : null,
          refund.refundedAt !== null ? [t('refund.refundedAt'), formatCst(refund.refundedAt)] : null,
        ]}
      />
      {(refund.state === 'needs_attention' || refund.state === 'pending') && (
        <button type="button" class="btn btn--primary" data-action="refund-query-again" onClick={onQuery}>
          {t('outcome.queryAgain')}
        </button>
      )}
      {receipt && <div class="receipt-frame" data-refund-receipt dangerouslySetInnerHTML={{ __html: receipt }} />}
      {refund.state === 'refunded' && (
        <button type="button" class="btn btn--quiet" data-action="refund-reprint" onClick={() => void call((p) => p.refundReprint({ refundId: refund.id }))}>
          {t('receipt.reprint')}
        </button>
      )}
    </section>
  );
}
