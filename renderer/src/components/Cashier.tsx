/**
 * The cashier's view: today's orders (a windowed list with filters, sort and
 * search as you type) and the chosen order with its revoke. A scan anywhere
 * on this screen (an order number, a merchant order number, or the QR on
 * our receipts) opens that order. Side by side on wide screens; on narrow
 * ones the order replaces the list until "back".
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isClientSnLike, isFullOrderSn } from '../../../main/common/order-sn';
import { call, pos, type ErrorView, type OrderView } from '../bridge';
import { businessDayOf, formatCny, formatCst, lookupRef, paywayLabel, readSearch } from '../format';
import { translator, useI18n } from '../i18n';
import { newerRevoke, useLiveContext } from '../live';
import { useScanner } from '../scanner';
import { refundedLine } from '../../../main/common/order-status';
import { orderStatus, STATUS_FILTERS, type OrderStatusView, type StatusFilter } from '../status';
import { OrderList, applyView, type Sort } from './OrderList';
import { ReprintLast, RevokeOutcome } from './Outcome';
import { ErrorNotice, Icon, MoneyStatement, Rows, Spinner } from './ui';
import { refusedBeforeRecord } from '../refusals';
import type { ApprovalInput } from '../../../main/ipc/contract';
import { APPROVAL_ERRORS, MoneySheet } from './Approval';
import { RefundHistory, RefundOutcome, RefundSheet, useRefunds } from './Refund';
import { DayReport } from './DayReport';

const SEARCH_DEBOUNCE_MS = 200;

/** A request from elsewhere in the window (the open-revokes queue) to show an order. */
export interface OpenRequest {
  sn: string;
  n: number;
}

export function Cashier({ onGoSetup, openRequest }: { onGoSetup: () => void; openRequest?: OpenRequest | null }) {
  const { t, lang } = useI18n();
  const live = useLiveContext();
  const [text, setText] = useState('');
  const [status, setStatus] = useState<StatusFilter>('all');
  const [payway, setPayway] = useState('all');
  const [sort, setSort] = useState<Sort>('newest');
  const [day, setDay] = useState<OrderView[] | null>(null);
  /** Orders of other days found by the gateway-side search or a lookup, shown with the day's matches. */
  const [found, setFound] = useState<OrderView[]>([]);
  const [error, setError] = useState<ErrorView | null>(null);
  const [selectedSn, setSelectedSn] = useState<string | null>(null);
  const [extra, setExtra] = useState<OrderView | null>(null);
  const [lookingUp, setLookingUp] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const [dayReport, setDayReport] = useState(false); // --- refunds
  const query = readSearch(text);
  const today = live.info?.businessDay ?? businessDayOf(Date.now());

  const loadDay = useCallback(async () => {
    const res = await call((p) => p.ordersList({}));
    // Performance marks (read by `npm run bench`): the day's answer here, the rows shown in OrderList.
    performance.mark('orders:day-answer');
    if (!res.ok) return setError(res.error);
    setDay(res.value.orders);
  }, []);

  useEffect(() => {
    void loadDay();
  }, [loadDay, live.info?.businessDay]);

  // A changed order's row comes with the event: it replaces that row in place (no reload of the day).
  useEffect(
    () =>
      pos().on('orders.changed', ({ orders }) => {
        const bySn = new Map(orders.map((o) => [o.sn, o]));
        const swap = (list: OrderView[]) => (list.some((o) => bySn.has(o.sn)) ? list.map((o) => bySn.get(o.sn) ?? o) : list);
        // A row of the day's that the list did not have yet (recorded since it was read) joins it in its place.
        const join = (list: OrderView[]) => {
          const have = new Set(list.map((o) => o.sn));
          const day = list[0]?.businessDay ?? businessDayOf(Date.now());
          const added = orders.filter((o) => !have.has(o.sn) && o.businessDay === day);
          return added.length === 0 ? swap(list) : [...swap(list), ...added].sort((a, b) => b.finishedAt - a.finishedAt);
        };
        setDay((d) => (d ? join(d) : d));
        setFound(swap);
        setExtra((x) => (x ? (bySn.get(x.sn) ?? x) : x));
        performance.mark('orders:row-changed');
      }),
    [],
  );

  useEffect(() => {
    searchRef.current?.focus();
  }, []);

  // The day's list answers every keystroke at once; the gateway-side search adds other days' orders after a pause.
  useEffect(() => {
    if (query.kind === 'all') return setFound([]);
    let stale = false;
    const timer = window.setTimeout(() => {
      void call((p) => p.ordersSearch(query.kind === 'amount' ? { amountCents: query.amountCents } : { text: query.text })).then((res) => {
        if (!stale && res.ok) setFound(res.value.orders);
      });
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      stale = true;
      window.clearTimeout(timer);
    };
    // The query is derived from text.
  }, [text]);

  const all = useMemo(() => {
    if (!day) return null;
    if (found.length === 0) return day;
    const seen = new Set(day.map((o) => o.sn));
    return [...day, ...found.filter((o) => !seen.has(o.sn))];
  }, [day, found]);

  const shown = useMemo(
    () => (all ? applyView(all, { query, status, payway, sort }, live.revokes, today) : null),
    // The query is derived from text.
    [all, text, status, payway, sort, live.revokes, today],
  );
  const payways = useMemo(() => {
    const m = new Map<string, string>();
    for (const o of day ?? []) if (o.payway && !m.has(o.payway)) m.set(o.payway, paywayLabel(o.payway, o.paywayName, lang));
    return [...m.entries()];
  }, [day, lang]);

  const selected = (selectedSn && (all?.find((o) => o.sn === selectedSn) ?? (extra?.sn === selectedSn ? extra : null))) || null;

  const importOrder = async (ref: { sn: string } | { clientSn: string }): Promise<OrderView | null> => {
    setLookingUp(true);
    const res = await call((p) => p.ordersImport(ref));
    setLookingUp(false);
    if (!res.ok) {
      setError(res.error);
      return null;
    }
    setError(null);
    setExtra(res.value);
    void loadDay();
    return res.value;
  };

  const select = (order: OrderView) => {
    setExtra(order);
    setSelectedSn(order.sn);
  };

  /** Opens an order by sn or client_sn: from the loaded list at once, else from the gateway. */
  const openCode = async (code: string) => {
    const list = all ?? [];
    const hit = list.find((o) => o.sn === code) ?? list.find((o) => o.clientSn === code);
    if (hit) return select(hit);
    const ref = isFullOrderSn(code) ? { sn: code } : isClientSnLike(code) ? { clientSn: code } : null;
    if (!ref) return setError(scanNotFound(code));
    const order = await importOrder(ref);
    if (order) select(order);
  };

  const activated = live.terminal?.activated ?? true;
  useScanner((code) => void openCode(code), activated);

  useEffect(() => {
    if (openRequest) void openCode(openRequest.sn);
    // Only a new request opens an order.
  }, [openRequest?.n]);

  const ref = lookupRef(query);

  return (
    <div class={`cashier${selected ? ' cashier--detail' : ''}`}>
      <section class="panel panel--list" aria-labelledby="orders-title">
        <div class="panel__head">
          <h1 id="orders-title" class="panel__title">
            {query.kind === 'all' ? t('orders.title') : t('orders.results')}
          </h1>
          {shown && <span class="panel__meta">{t('orders.count', { n: shown.length })}</span>}
          <div class="panel__actions">
            <ReprintLast orders={day ?? []} />
            <button type="button" class="btn btn--secondary" data-action="refresh" onClick={() => void loadDay()}>
              {t('orders.refresh')}
            </button>
            {/* --- refunds: the day report */}
            <button type="button" class="btn btn--secondary" data-action="day-report" onClick={() => setDayReport(true)}>
              {t('report.open')}
            </button>
          </div>
          {dayReport && <DayReport onClose={() => setDayReport(false)} />}
        </div>
        <div class="search">
          <div class="search__row">
            <label class="visually-hidden" for="order-search">
              {t('orders.search')}
            </label>
            <input
              id="order-search"
              ref={searchRef}
              class="input search__input"
              type="search"
              autoComplete="off"
              maxLength={32}
              value={text}
              placeholder={t('orders.searchHint')}
              onInput={(e) => setText(e.currentTarget.value)}
            />
            {text && (
              <button type="button" class="btn btn--secondary" onClick={() => setText('')}>
                {t('orders.clear')}
              </button>
            )}
          </div>
          <div class="filters">
            <select class="input filters__select" aria-label={t('filter.status')} data-filter="status" value={status} onChange={(e) => setStatus(e.currentTarget.value as StatusFilter)}>
              {STATUS_FILTERS.map((s) => (
                <option key={s} value={s}>
                  {s === 'all' ? `${t('col.status')}: ${t('filter.all')}` : t(`filter.${s}` as const)}
                </option>
              ))}
            </select>
            <select class="input filters__select" aria-label={t('filter.payway')} data-filter="payway" value={payway} onChange={(e) => setPayway(e.currentTarget.value)}>
              <option value="all">{`${t('col.payway')}: ${t('filter.all')}`}</option>
              {payways.map(([code, label]) => (
                <option key={code} value={code}>
                  {label}
                </option>
              ))}
            </select>
            <select class="input filters__select" aria-label={t('filter.sort')} data-filter="sort" value={sort} onChange={(e) => setSort(e.currentTarget.value as Sort)}>
              {(['newest', 'oldest', 'amountDesc', 'amountAsc'] as const).map((s) => (
                <option key={s} value={s}>
                  {t(`sort.${s}` as const)}
                </option>
              ))}
            </select>
          </div>
          {query.kind === 'amount' && <p class="search__hint">{t('orders.searching', { amount: formatCny(query.amountCents) })}</p>}
        </div>
        {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
        {lookingUp && (
          <p class="placeholder">
            <Spinner /> {t('scan.looking')}
          </p>
        )}
        <OrderList
          orders={shown}
          today={today}
          selectedSn={selectedSn}
          revokes={live.revokes}
          empty={text || status !== 'all' || payway !== 'all' ? t('orders.noMatch') : t('orders.empty')}
          onSelect={select}
        />
        {shown && shown.length === 0 && ref && (
          <button type="button" class="btn btn--secondary btn--block" disabled={lookingUp} data-action="lookup" onClick={() => void importOrder(ref).then((o) => o && select(o))}>
            {lookingUp ? t('orders.lookingUp') : t('orders.lookup', { ref: 'sn' in ref ? ref.sn : ref.clientSn })}
          </button>
        )}
      </section>
      <section class="panel panel--detail" aria-live="polite">
        {!activated && (
          <div class="notice notice--warn">
            <p>{t('setup.needActivation')}</p>
            <button type="button" class="btn btn--primary" onClick={onGoSetup}>
              {t('setup.goSetup')}
            </button>
          </div>
        )}
        {selected ? (
          <OrderDetail key={selected.sn} order={selected} onBack={() => setSelectedSn(null)} />
        ) : (
          <p class="placeholder">{t('detail.none')}</p>
        )}
      </section>
    </div>
  );
}

/** A scanned code that is no order number of ours (another shop's receipt, a product barcode). */
function scanNotFound(code: string): ErrorView {
  const params = { code: code.slice(0, 40) };
  return { code: 'SCAN_NOT_FOUND', messageZh: translator('zh-CN')('scan.notFound', params), message: translator('en')('scan.notFound', params) };
}

function OrderDetail({ order, onBack }: { order: OrderView; onBack: () => void }) {
  const { t, lang, pick } = useI18n();
  const live = useLiveContext();
  const [sheet, setSheet] = useState<'revoke' | 'refund' | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const { refunds, latest: refund, note: noteRefund } = useRefunds(order.sn);
  const revoke = newerRevoke(order.revoke, live.revokes[order.sn]);
  const today = live.info?.businessDay ?? businessDayOf(Date.now());
  const payway = paywayLabel(order.payway, order.paywayName, lang);
  const status = orderStatus(order, revoke, today, refund);
  // The newest operation's outcome is the one on screen (a refund after a refused revoke replaces it).
  const showRefund = refund !== null && (!revoke || refund.updatedAt >= revoke.updatedAt);

  /** The revoke's request, from the money sheet: null when it was accepted (the outcome follows by events). */
  const revokeNow = async (_amount: number, approval: ApprovalInput | null): Promise<ErrorView | null> => {
    setBusy(true);
    setFailure(null);
    const had = revoke?.id ?? null;
    const res = await call((p) => p.revokeRequest({ sn: order.sn, ...(approval ? { approval } : {}) }));
    performance.mark('revoke:answer');
    setBusy(false);
    if (res.ok) {
      live.noteRevoke(res.value);
      setSheet(null);
      return null;
    }
    if (APPROVAL_ERRORS.includes(res.error.code)) return res.error;
    // The envelope alone cannot say whether a request left: the order's revoke can (a new one is this request's).
    setSheet(null);
    if (REFUSED_BEFORE_RECORD.has(res.error.code)) {
      setFailure({ kind: 'revoke', error: res.error, record: 'none' });
      return res.error;
    }
    setFailure({ kind: 'revoke', error: res.error, record: 'checking' });
    const found = await call((p) => p.revokeForOrder({ sn: order.sn }));
    if (found.ok && found.value) live.noteRevoke(found.value);
    const record = !found.ok ? 'unknown' : found.value && found.value.id !== had ? 'found' : 'none';
    setFailure((f) => (f?.error === res.error ? { ...f, record } : f));
    return res.error;
  };

  /**
   * A refund the runtime refused: what the order's refunds say about it. A refusal before anything was
   * written (the session, another operation open, the amount) moved no money; otherwise a refund of this
   * order newer than those known is this request's (shown below), none means nothing was recorded.
   */
  const refundFailed = async (error: ErrorView, known: ReadonlySet<number>, since: number) => {
    setFailure({ kind: 'refund', error, record: REFUSED_BEFORE_RECORD.has(error.code) ? 'none' : 'checking' });
    const res = await call((p) => p.refundForOrder({ sn: order.sn }));
    if (res.ok) for (const r of res.value.refunds) noteRefund(r);
    if (REFUSED_BEFORE_RECORD.has(error.code)) return;
    const mine = res.ok ? res.value.refunds.some((r) => !known.has(r.id) && r.requestedAt >= since - CLOCK_SLACK_MS) : false;
    const record = !res.ok ? 'unknown' : mine ? 'found' : 'none';
    setFailure((f) => (f?.error === error ? { ...f, record } : f));
  };

  const showProgress = busy && (!revoke || revoke.state === 'sending');
  // The approval passed once the revoke exists: the sheet gives way to its progress and outcome.
  useEffect(() => {
    if (busy && revoke && sheet === 'revoke') setSheet(null);
  }, [busy, revoke?.id]);
  const refundFirst = status.actions.refund && !status.actions.revoke;

  return (
    <article class="detail" data-order={order.sn} data-status={status.key}>
      <div class="detail__head">
        <button type="button" class="btn btn--quiet detail__back" data-action="back" aria-label={t('detail.back')} onClick={onBack}>
          <Icon name="back" /> <span class="detail__backText">{t('detail.back')}</span>
        </button>
        <p class="detail__amount" data-amount-cents={order.totalCents}>
          {formatCny(order.totalCents)}
        </p>
        <span class="detail__payway">{payway}</span>
        <span class={`badge badge--${status.tone}`} data-badge="status" data-status={status.key}>
          {pick(status.label.zh, status.label.en)}
        </span>
      </div>

      {/* A refused request stands above the order's earlier outcome until the cashier dismisses it. */}
      {failure && <FailureOutcome failure={failure} onDismiss={() => setFailure(null)} />}
      {showProgress ? (
        <section class="outcome outcome--progress" data-outcome="progress">
          <h2 class="outcome__title">
            <Spinner /> {t('outcome.progress')}
          </h2>
          <MoneyStatement state="confirming" />
          <p>{t('outcome.progressBody')}</p>
        </section>
      ) : showRefund ? (
        <RefundOutcome refund={refund} order={order} />
      ) : (
        revoke && <RevokeOutcome revoke={revoke} order={order} />
      )}

      {status.refundedCents > 0 && (
        <p class="detail__refunded" data-refunded-cents={status.refundedCents} data-refundable-cents={status.refundableCents}>
          {pick(...refundedWords(status))}
        </p>
      )}
      {order.status === 'PAID' && order.businessDay !== today && status.actions.refund && <p class="notice notice--info">{t('detail.notToday')}</p>}
      {!status.actions.revoke && !status.actions.refund && status.open && <p class="notice notice--info" data-open-kind={status.open.kind}>{t(`detail.open.${status.open.kind}` as const)}</p>}

      {(status.actions.revoke || status.actions.refund) && (
        <div class="detail__actions" data-actions="order">
          {status.actions.revoke && (
            <button type="button" class="btn btn--danger btn--huge" data-action="revoke" disabled={busy || sheet !== null} onClick={() => setSheet('revoke')}>
              {busy ? t('outcome.progress') : t('detail.revoke')}
            </button>
          )}
          {status.actions.refund && (
            <button
              type="button"
              class={`btn ${refundFirst ? 'btn--primary' : 'btn--secondary'} btn--huge`}
              data-action="refund"
              disabled={busy || sheet !== null}
              onClick={() => setSheet('refund')}
            >
              {t('refund.action')}
            </button>
          )}
        </div>
      )}

      <RefundHistory refunds={refunds} />
      <Rows
        rows={[
          [t('detail.sn'), <code>{order.sn}</code>],
          [t('detail.clientSn'), <code>{order.clientSn}</code>],
          order.tradeNo ? [t('detail.tradeNo'), <code>{order.tradeNo}</code>] : null,
          [t('detail.paidAt'), formatCst(order.finishedAt)],
          order.netCents !== order.totalCents ? [t('detail.net'), formatCny(order.netCents)] : null,
          order.subject ? [t('detail.subject'), order.subject] : null,
          order.operator ? [t('detail.operator'), order.operator] : null,
        ]}
      />
      {sheet === 'revoke' && (
        <MoneySheet
          kind="revoke"
          title={t('confirm.title')}
          okLabel={() => t('confirm.ok')}
          orderSn={order.sn}
          payway={payway}
          amountCents={order.totalCents}
          onConfirm={revokeNow}
          onCancel={() => setSheet(null)}
        >
          <p>{t('confirm.body')}</p>
          <p class="dialog__hint">{t('confirm.keys')}</p>
        </MoneySheet>
      )}
      {sheet === 'refund' && (
        <RefundSheet
          orderSn={order.sn}
          payway={payway}
          refundableCents={status.refundableCents}
          known={refunds}
          onDone={(r) => {
            noteRefund(r);
            setFailure(null);
            setSheet(null);
          }}
          onError={(error, known, since) => {
            setSheet(null);
            void refundFailed(error, known, since);
          }}
          onCancel={() => setSheet(null)}
        />
      )}
    </article>
  );
}

/** The main process's clock against this page's (one machine): a refund requested this long before the page's request counts as its own. */
const CLOCK_SLACK_MS = 5_000;

/** Refusals that come before a revoke's or refund's row is written: nothing was recorded or sent, no money moved. */
const REFUSED_BEFORE_RECORD = refusedBeforeRecord('OPERATION_OPEN', 'REFUND_AMOUNT_TOO_HIGH');

/** A refused revoke or refund request: none (nothing recorded, no money moved), checking, found (its outcome shows below) or unknown. */
interface Failure {
  kind: 'revoke' | 'refund';
  error: ErrorView;
  record: 'none' | 'checking' | 'found' | 'unknown';
}

/** The refused request in its own kind's words: whether money moved first, then the error, until dismissed. */
function FailureOutcome({ failure, onDismiss }: { failure: Failure; onDismiss: () => void }) {
  const { t } = useI18n();
  const { kind, record } = failure;
  const ref = useRef<HTMLElement>(null);
  // The sheet's closing gives the focus back to the button that opened it, further down a long order: the refusal is brought into view after that.
  useEffect(() => {
    const frame = requestAnimationFrame(() => ref.current?.scrollIntoView({ block: 'nearest' }));
    return () => cancelAnimationFrame(frame);
  }, [failure.error]);
  return (
    <section ref={ref} class="outcome outcome--failed" data-outcome="failed" data-kind={kind} data-record={record} role="alert">
      <h2 class="outcome__title">
        <span class="outcome__icon">
          <Icon name="cross" />
        </span>
        {t(`failure.title.${kind}` as const)}
      </h2>
      {record === 'none' && <MoneyStatement state="unchanged" />}
      {(record === 'checking' || record === 'unknown') && <MoneyStatement state="confirming" />}
      <p data-failure-words>{t(`failure.${record}.${kind}` as const)}</p>
      <ErrorNotice error={failure.error} />
      <button type="button" class="btn btn--secondary" data-action="dismiss-failure" onClick={onDismiss}>
        {t('failure.dismiss')}
      </button>
    </section>
  );
}

/** "已退 ￥12.34，剩余可退 ￥37.66" in both languages. */
function refundedWords(status: OrderStatusView): [string, string] {
  const words = refundedLine(status, formatCny);
  return [words.zh, words.en];
}
