/**
 * What happened to a revoke, one screen per outcome. Each says in one line
 * whether money moved, then why, then what to do next. The screen follows
 * `revoke.updated` events, so a queued revoke turns into "revoked" by itself.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { call, type ErrorView, type OrderView, type PosBridge, type PrintJobView, type ReceiptPreview, type Result, type RevokeView } from '../bridge';
import { deadlineParts, formatCst } from '../format';
import { useI18n, type Translate } from '../i18n';
import { newerRevoke, useLiveContext } from '../live';
import { drawQrCodes } from '../qr';
import { ErrorNotice, Icon, MoneyStatement, Rows, Spinner } from './ui';

export function RevokeOutcome({ revoke, order }: { revoke: RevokeView; order: OrderView }) {
  const { t, pick } = useI18n();
  const live = useLiveContext();
  const [querying, setQuerying] = useState(false);
  const [error, setError] = useState<ErrorView | null>(null);
  const reason = revoke.error ? pick(revoke.error.messageZh, revoke.error.messageEn) : null;
  // The screen already says what QUEUED/EXPIRED/PENDING mean; other codes (e.g. GATEWAY_AUTH) add a reason.
  const extraReason = revoke.error && !['QUEUED', 'EXPIRED', 'PENDING', 'NEEDS_ATTENTION'].includes(revoke.error.code) ? reason : null;

  const queryAgain = async () => {
    setQuerying(true);
    setError(null);
    const res = await call((p) => p.revokeQueryAgain({ revokeId: revoke.id }));
    setQuerying(false);
    if (res.ok) live.noteRevoke(res.value);
    else setError(res.error);
  };

  const common = (
    <>
      <Rows
        rows={[
          [t('outcome.requestedAt'), formatCst(revoke.requestedAt)],
          revoke.revokedAt !== null ? [t('outcome.revokedAt'), formatCst(revoke.revokedAt)] : null,
        ]}
      />
      {(revoke.state === 'pending' || revoke.state === 'needs_attention') && (
        <p class="outcome__meta">{t('outcome.attempts', { attempts: revoke.attempts, queries: revoke.queries })}</p>
      )}
    </>
  );

  switch (revoke.state) {
    case 'revoked':
      return (
        <section class="outcome outcome--revoked" data-outcome="revoked" data-revoke-id={revoke.id}>
          <h2 class="outcome__title">
            <span class="outcome__icon">
              <Icon name="check" />
            </span>
            {t('outcome.revoked')}
          </h2>
          <MoneyStatement state="returned" amountCents={order.totalCents} />
          <p>{t('outcome.revokedBody')}</p>
          {common}
          <ReceiptPanel kind="revoke" id={revoke.id} />
        </section>
      );
    case 'rejected':
      // Voided at another till or elsewhere before this revoke (UPAY_CANCEL_ORDER_NOOP on its first send): the money went back.
      if (revoke.error?.code === 'VOIDED_ELSEWHERE')
        return (
          <section class="outcome outcome--revoked" data-outcome="voided-elsewhere" data-revoke-id={revoke.id} data-code="VOIDED_ELSEWHERE">
            <h2 class="outcome__title">
              <span class="outcome__icon">
                <Icon name="check" />
              </span>
              {t('outcome.voidedElsewhere')}
            </h2>
            <MoneyStatement state="returned" amountCents={order.totalCents} />
            <p>{t('outcome.voidedElsewhereBody')}</p>
            <h3 class="outcome__sub">{t('outcome.next')}</h3>
            <p>{t('outcome.nextVoidedElsewhere')}</p>
            {common}
          </section>
        );
      return (
        <section class="outcome outcome--rejected" data-outcome="rejected" data-revoke-id={revoke.id} data-code={revoke.error?.code ?? ''}>
          <h2 class="outcome__title">
            <span class="outcome__icon">
              <Icon name="cross" />
            </span>
            {t('outcome.rejected')}
          </h2>
          <MoneyStatement state="unchanged" />
          <GatewayReason revoke={revoke} reason={reason} />
          <h3 class="outcome__sub">{t('outcome.next')}</h3>
          <p>{t('outcome.nextRejected')}</p>
          {common}
        </section>
      );
    case 'queued':
      return (
        <section class="outcome outcome--queued" data-outcome="queued" data-revoke-id={revoke.id}>
          <h2 class="outcome__title">
            <span class="outcome__icon">
              <Icon name="pause" />
            </span>
            {t('outcome.queued')}
          </h2>
          <MoneyStatement state="unchangedYet" />
          <p>{t('outcome.queuedBody')}</p>
          {extraReason && <p class="outcome__reason">{extraReason}</p>}
          <p class="outcome__deadline">{t('outcome.deadlineAt', { when: deadlineText(revoke.deadlineAt, Date.now(), t) })}</p>
          {common}
        </section>
      );
    case 'expired':
      return (
        <section class="outcome outcome--expired" data-outcome="expired" data-revoke-id={revoke.id}>
          <h2 class="outcome__title">
            <span class="outcome__icon">
              <Icon name="clock" />
            </span>
            {t('outcome.expired')}
          </h2>
          <MoneyStatement state="unchanged" />
          <p>{t('outcome.expiredBody')}</p>
          {extraReason && <p class="outcome__reason">{extraReason}</p>}
          {common}
        </section>
      );
    case 'needs_attention':
      return (
        <section class="outcome outcome--attention" data-outcome="needs_attention" data-revoke-id={revoke.id}>
          <h2 class="outcome__title">
            <span class="outcome__icon">
              <Icon name="alert" />
            </span>
            {t('outcome.needsAttention')}
          </h2>
          <MoneyStatement state="confirming" />
          <p>{t('outcome.needsAttentionBody', { sn: order.sn })}</p>
          {(revoke.error?.gatewayCode || revoke.error?.gatewayMessage) && <GatewayReason revoke={revoke} reason={null} />}
          <button type="button" class="btn btn--primary btn--huge" data-action="query-again" disabled={querying} onClick={() => void queryAgain()}>
            {querying ? (
              <>
                <Spinner /> {t('outcome.querying')}
              </>
            ) : (
              t('outcome.queryAgain')
            )}
          </button>
          {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
          {common}
        </section>
      );
    case 'sending':
    case 'pending':
      return (
        <section class="outcome outcome--pending" data-outcome="pending" data-state={revoke.state} data-revoke-id={revoke.id}>
          <h2 class="outcome__title">
            <Spinner /> {revoke.state === 'pending' ? t('outcome.pending') : t('outcome.progress')}
          </h2>
          <MoneyStatement state="confirming" />
          <p>{revoke.state === 'pending' ? t('outcome.pendingBody') : t('outcome.progressBody')}</p>
          {common}
        </section>
      );
  }
}

/** Our reason (current language) and the gateway's own code and message, verbatim. */
function GatewayReason({ revoke, reason }: { revoke: RevokeView; reason: string | null }) {
  const { t } = useI18n();
  const e = revoke.error;
  return (
    <div class="reason">
      {reason && (
        <p class="reason__ours">
          <strong>{t('outcome.reason')}</strong>
          {t('colon')}
          {reason}
        </p>
      )}
      {e && (e.gatewayCode || e.gatewayMessage) && (
        <p class="reason__gateway" data-gateway-code={e.gatewayCode ?? ''}>
          <strong>{t('outcome.gateway')}</strong>
          {t('colon')}
          <span lang="zh-CN">{e.gatewayMessage ?? ''}</span>
          {e.gatewayCode && (
            <>
              {' '}
              <span class="reason__code">
                ({t('outcome.gatewayCode')} <code>{e.gatewayCode}</code>)
              </span>
            </>
          )}
        </p>
      )}
      {e && (
        <p class="notice__code">
          {t('error.code')}
          {t('colon')}
          <code>{e.code}</code>
        </p>
      )}
    </div>
  );
}

/**
 * The receipt of a finished revoke or refund as it was (or will be) printed,
 * its print state as a badge, and what a cashier can do from here: retry a
 * failed print, reprint a copy.
 */
export function ReceiptPanel({ kind, id }: { kind: 'revoke' | 'refund'; id: number }) {
  const { t } = useI18n();
  const live = useLiveContext();
  const [preview, setPreview] = useState<ReceiptPreview | undefined>(undefined);
  const [error, setError] = useState<ErrorView | null>(null);
  const [working, setWorking] = useState(false);
  const [reprinted, setReprinted] = useState<PrintJobView | null>(null);
  const [open, setOpen] = useState(true);

  useEffect(() => {
    let stale = false;
    void call((p) => (kind === 'revoke' ? p.receiptPreview({ revokeId: id }) : p.refundReceipt({ refundId: id }))).then((res) => {
      if (stale) return;
      if (res.ok) setPreview(res.value);
      else setError(res.error);
    });
    return () => {
      stale = true;
    };
  }, [kind, id, live.printTick]);

  const run = async (action: (p: PosBridge) => Promise<Result<PrintJobView>>, done: (job: PrintJobView) => void) => {
    setWorking(true);
    setError(null);
    const res = await call(action);
    setWorking(false);
    if (res.ok) done(res.value);
    else setError(res.error);
  };
  const reprint = () => run((p) => (kind === 'revoke' ? p.receiptReprint({ revokeId: id }) : p.refundReprint({ refundId: id })), setReprinted);
  const retry = (jobId: number) => run((p) => p.printRetry({ jobId }), () => setPreview((v) => (v ? { ...v, state: 'pending' } : v)));

  return (
    <div class="receipt-panel" data-receipt-state={preview?.state ?? 'none'}>
      <div class="receipt-panel__head">
        <h3 class="outcome__sub">{t(kind === 'revoke' ? 'receipt.title' : 'receipt.refundTitle')}</h3>
        {preview && (
          <span class={`badge badge--print-${preview.state}`} data-print-state={preview.state}>
            {t(`receipt.state.${preview.state}` as const)}
            {preview.copy ? ` · ${t('receipt.copy')}` : ''}
          </span>
        )}
      </div>
      {preview?.state === 'failed' && (
        <div class="notice notice--error receipt-panel__failed" role="alert">
          <p>{t('receipt.failedHelp')}</p>
          <button type="button" class="btn btn--primary" data-action="retry-print" disabled={working} onClick={() => void retry(preview.jobId)}>
            {t('receipt.retry')}
          </button>
        </div>
      )}
      <div class="receipt-panel__actions">
        <button type="button" class="btn btn--secondary" data-action="reprint" disabled={working || !preview} onClick={() => void reprint()}>
          {working ? t('receipt.reprinting') : t('receipt.reprint')}
        </button>
        {preview && (
          <button type="button" class="btn btn--quiet" data-action="toggle-receipt" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? t('receipt.hide') : t('receipt.show')}
          </button>
        )}
      </div>
      {reprinted && (
        <p class="notice notice--info" role="status">
          {t('receipt.reprinted')}
        </p>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      {preview === undefined ? (
        <p class="placeholder">
          <Spinner />
        </p>
      ) : preview === null ? (
        <p class="placeholder">{t('receipt.none')}</p>
      ) : (
        open && <ReceiptFrame html={preview.html} label={t('receipt.title')} />
      )}
    </div>
  );
}

/** Escaped by the main process (main/printer/html.ts): classes only, no scripts, no inline styles; the QR drawn here. */
function ReceiptFrame({ html, label }: { html: string; label: string }) {
  const frame = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (frame.current) drawQrCodes(frame.current);
  }, [html]);
  return <div class="receipt-frame" ref={frame} aria-label={label} dangerouslySetInnerHTML={{ __html: html }} />;
}

/** "今天 23:59 前" / "before 23:59 today": the last minute a queued revoke can still go out. */
export function deadlineText(deadlineAt: number, now: number, t: Translate): string {
  const p = deadlineParts(deadlineAt, now);
  return t(`deadline.${p.day}` as const, { time: p.time, date: p.date });
}

/** "Reprint last receipt": the receipt of the most recent revoke, printed again as a copy. */
export function ReprintLast({ orders }: { orders: readonly OrderView[] }) {
  const { t } = useI18n();
  const live = useLiveContext();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  let last: RevokeView | null = null;
  for (const o of orders) {
    const r = newerRevoke(o.revoke, live.revokes[o.sn]);
    if (r?.state === 'revoked' && r.revokedAt !== null && (!last || r.revokedAt > (last.revokedAt ?? 0))) last = r;
  }
  const reprint = async () => {
    if (!last) return;
    setBusy(true);
    setError(null);
    const sn = last.orderSn;
    const res = await call((p) => p.receiptReprint({ revokeId: last!.id }));
    setBusy(false);
    if (res.ok) setDone(sn);
    else setError(res.error);
  };
  return (
    <>
      <button
        type="button"
        class="btn btn--secondary"
        data-action="reprint-last"
        disabled={!last || busy}
        title={last ? undefined : t('receipt.reprintLastNone')}
        onClick={() => void reprint()}
      >
        {busy ? t('receipt.reprinting') : t('receipt.reprintLast')}
      </button>
      {done && (
        <p class="notice notice--info reprint-last__done" role="status" data-reprinted={done}>
          {t('receipt.reprintedLast', { sn: done })}
        </p>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
    </>
  );
}
