/**
 * Refunds at the counter: the order's refunds (kept live from
 * `refund.updated`), the refund outcome screens, and the refund's
 * confirmation on the one money sheet (amount on a keypad, the approval
 * when the policy asks). Every rule (amount, state, approval) is checked in
 * the main process.
 */
import { useLayoutEffect, useState } from 'preact/hooks';
import type { ApprovalInput, RefundView } from '../../../main/ipc/contract';
import { call, pos, type ErrorView } from '../bridge';
import { formatCny, formatCst } from '../format';
import { useI18n } from '../i18n';
import { APPROVAL_ERRORS, MoneySheet } from './Approval';
import { ReceiptPanel } from './Outcome';
import { ErrorNotice, Icon, MoneyStatement, Rows, Spinner } from './ui';

/** An order's refunds, oldest first, and the newest one this window knows of. */
export function useRefunds(sn: string): { refunds: RefundView[]; latest: RefundView | null; note: (r: RefundView) => void } {
  const [refunds, setRefunds] = useState<RefundView[]>([]);
  const note = (r: RefundView) =>
    setRefunds((list) => {
      const same = list.find((x) => x.id === r.id);
      if (same && same.updatedAt > r.updatedAt) return list;
      return [...list.filter((x) => x.id !== r.id), r].sort((a, b) => a.id - b.id);
    });
  // A layout effect: the listener is live from the moment the order's screen is drawn (an update arriving
  // between the paint and a plain effect was lost, and the screen showed no outcome for it).
  useLayoutEffect(() => {
    setRefunds([]);
    let stale = false;
    void call((p) => p.refundForOrder({ sn })).then((res) => {
      if (!stale && res.ok) for (const r of res.value.refunds) note(r);
    });
    const off = pos().on('refund.updated', (r) => {
      if (r.orderSn === sn) note(r);
    });
    return () => {
      stale = true;
      off();
    };
  }, [sn]);
  return { refunds, latest: refunds[refunds.length - 1] ?? null, note };
}

/** The refund's confirmation: the amount on a keypad (the refundable amount proposed), then the approval when needed. */
export function RefundSheet(props: {
  orderSn: string;
  payway: string;
  refundableCents: number;
  onDone: (refund: RefundView) => void;
  /** A refusal (not the approval's): the error, the refund ids known before the request and when it started (epoch ms). */
  onError: (error: ErrorView, known: ReadonlySet<number>, since: number) => void;
  /** The order's refunds known before the request (a refusal's row, if any, is a new one). */
  known: readonly RefundView[];
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const confirm = async (amountCents: number, approval: ApprovalInput | null): Promise<ErrorView | null> => {
    const known = new Set(props.known.map((r) => r.id));
    const since = Date.now();
    const res = await call((p) => p.refundRequest({ sn: props.orderSn, amountCents, ...(approval ? { approval } : {}) }));
    if (res.ok) {
      props.onDone(res.value);
      return null;
    }
    if (!APPROVAL_ERRORS.includes(res.error.code)) props.onError(res.error, known, since);
    return res.error;
  };
  return (
    <MoneySheet
      kind="refund"
      title={t('refund.title')}
      okLabel={(amount) => t('refund.confirm', { amount })}
      orderSn={props.orderSn}
      payway={props.payway}
      amountCents={props.refundableCents}
      editable
      onConfirm={confirm}
      onCancel={props.onCancel}
    />
  );
}

type TitleIcon = 'check' | 'cross' | 'pause' | 'alert';
const TITLE_ICON: Partial<Record<RefundView['state'], TitleIcon>> = { refunded: 'check', rejected: 'cross', queued: 'pause', needs_attention: 'alert' };

export function RefundOutcome({ refund, order }: { refund: RefundView; order: { sn: string } }) {
  const { t, pick } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorView | null>(null);
  const [answer, setAnswer] = useState<RefundView | null>(null);
  const shown = answer && answer.id === refund.id && answer.updatedAt > refund.updatedAt ? answer : refund;
  const reason = shown.error ? pick(shown.error.messageZh, shown.error.messageEn) : null;
  const money = shown.state === 'refunded' ? 'returned' : shown.state === 'rejected' || shown.state === 'queued' ? 'unchanged' : 'confirming';
  const icon = TITLE_ICON[shown.state];
  const queryAgain = async () => {
    setBusy(true);
    setError(null);
    const res = await call((p) => p.refundQueryAgain({ refundId: shown.id }));
    setBusy(false);
    if (res.ok) setAnswer(res.value);
    else setError(res.error);
  };
  return (
    <section class={`outcome outcome--refund-${shown.state}`} data-outcome={`refund-${shown.state}`} data-refund-id={shown.id} data-order-sn={order.sn}>
      <h2 class="outcome__title">
        {icon ? (
          <span class="outcome__icon">
            <Icon name={icon} />
          </span>
        ) : (
          <Spinner />
        )}
        {t(`refund.outcome.${shown.state}` as const)}
      </h2>
      <MoneyStatement state={money} amountCents={shown.amountCents} />
      {reason && shown.state !== 'refunded' && <p class="outcome__reason">{reason}</p>}
      {shown.error?.gatewayCode && (
        <p class="outcome__gateway">
          <code>{shown.error.gatewayCode}</code> {shown.error.gatewayMessage}
        </p>
      )}
      <Rows
        rows={[
          [t('refund.amount'), formatCny(shown.amountCents)],
          [t('refund.requestNo'), <code>{shown.requestNo}</code>],
          [t('refund.operator'), shown.operatorName],
          shown.approverName ? [t('refund.approver'), shown.approverName] : null,
          shown.refundedAt !== null ? [t('refund.refundedAt'), formatCst(shown.refundedAt)] : null,
        ]}
      />
      {(shown.state === 'needs_attention' || shown.state === 'pending') && (
        <button type="button" class="btn btn--primary btn--huge" data-action="refund-query-again" disabled={busy} onClick={() => void queryAgain()}>
          {busy ? t('outcome.querying') : t('outcome.queryAgain')}
        </button>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      {shown.state === 'refunded' && <ReceiptPanel kind="refund" id={shown.id} />}
    </section>
  );
}

/** The order's refunds, one line each. */
export function RefundHistory({ refunds }: { refunds: readonly RefundView[] }) {
  const { t } = useI18n();
  if (refunds.length === 0) return null;
  return (
    <ul class="refund__history" aria-label={t('refund.history')}>
      {refunds.map((r) => (
        <li key={r.id} data-refund-id={r.id} data-state={r.state}>
          {formatCny(r.amountCents)} · {t(`refund.state.${r.state}` as const)} · {formatCst(r.requestedAt)}
        </li>
      ))}
    </ul>
  );
}
