/**
 * The cashier's view: today's orders (a windowed list with filters, sort and
 * search as you type) and the chosen order with its revoke. A scan anywhere
 * on this screen (an order number, a merchant order number, or the QR on
 * our receipts) opens that order. Side by side on wide screens; on narrow
 * ones the order replaces the list until "back".
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isClientSnLike, isFullOrderSn } from '../../../main/common/order-sn';
import { call, type ErrorView, type OrderView } from '../bridge';
import { businessDayOf, formatCny, formatCst, lookupRef, paywayLabel, readSearch } from '../format';
import { translator, useI18n } from '../i18n';
import { newerRevoke, useLiveContext } from '../live';
import { useScanner } from '../scanner';
import { orderStatus, type StatusFilter } from '../status';
import { OrderList, applyView, type Sort } from './OrderList';
import { ReprintLast, RevokeOutcome } from './Outcome';
import { ConfirmDialog, ErrorNotice, Icon, MoneyStatement, Rows, Spinner } from './ui';
import type { ApprovalInput } from '../../../main/ipc/contract';
import { ApprovalStep } from './Approval';
import { RefundPanel } from './Refund'; // --- refunds
import { DayReport } from './DayReport'; // --- refunds

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

  const loadDay = useCallback(async () => {
    const res = await call((p) => p.ordersList({}));
    // Performance marks (read by `npm run bench`): the day's answer here, the rows shown in OrderList.
    performance.mark('orders:day-answer');
    if (!res.ok) return setError(res.error);
    setDay(res.value.orders);
  }, []);

  useEffect(() => {
    void loadDay();
  }, [loadDay, live.revokeTick, live.info?.businessDay]);

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
  }, [text, live.revokeTick]);

  const all = useMemo(() => {
    if (!day) return null;
    if (found.length === 0) return day;
    const seen = new Set(day.map((o) => o.sn));
    return [...day, ...found.filter((o) => !seen.has(o.sn))];
  }, [day, found]);

  const shown = useMemo(
    () => (all ? applyView(all, { query, status, payway, sort }, live.revokes, t) : null),
    // The query is derived from text.
    [all, text, status, payway, sort, live.revokes, t],
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
              {(['all', 'paid', 'open', 'revoked', 'failed'] as const).map((s) => (
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
          today={live.info?.businessDay ?? businessDayOf(Date.now())}
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
          <OrderDetail key={selected.sn} order={selected} onBack={() => setSelectedSn(null)} onChanged={() => void loadDay()} />
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

function OrderDetail({ order, onBack, onChanged }: { order: OrderView; onBack: () => void; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const live = useLiveContext();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ error: ErrorView; recorded: boolean | null } | null>(null);
  // A ref, not state: a second tap in the same frame must see the first one at once.
  const inflight = useRef(false);
  const revokeBtn = useRef<HTMLButtonElement>(null);
  // --- operators: the supervisor's approval typed into the confirmation (main checks it).
  const approval = useRef<ApprovalInput | null>(null);
  const onApproval = useCallback((a: ApprovalInput | null) => (approval.current = a), []);
  const revoke = newerRevoke(order.revoke, live.revokes[order.sn]);
  const today = live.info?.businessDay ?? businessDayOf(Date.now());
  const payway = paywayLabel(order.payway, order.paywayName, lang);
  const status = orderStatus(order, revoke, t);
  // Kept (disabled) while a request runs, so the cashier sees that the tap registered.
  const showButton = order.status === 'PAID' && (!revoke || busy);

  const start = async () => {
    if (inflight.current) return;
    inflight.current = true;
    setConfirming(false);
    setBusy(true);
    setFailure(null);
    const withApproval = approval.current ? { approval: approval.current } : {};
    approval.current = null;
    const res = await call((p) => p.revokeRequest({ sn: order.sn, ...withApproval }));
    performance.mark('revoke:answer');
    if (res.ok) {
      live.noteRevoke(res.value);
    } else {
      // The envelope alone cannot say whether a request left: the revoke row can.
      setFailure({ error: res.error, recorded: null });
      const found = await call((p) => p.revokeForOrder({ sn: order.sn }));
      if (found.ok && found.value) live.noteRevoke(found.value);
      setFailure({ error: res.error, recorded: found.ok ? found.value !== null : null });
    }
    inflight.current = false;
    setBusy(false);
    onChanged();
  };

  const showProgress = busy && (!revoke || revoke.state === 'sending');

  return (
    <article class="detail" data-order={order.sn} data-status={status.key}>
      <div class="detail__head">
        <button type="button" class="btn btn--quiet detail__back" data-action="back" onClick={onBack}>
          <Icon name="back" /> {t('detail.back')}
        </button>
        <p class="detail__amount" data-amount-cents={order.totalCents}>
          {formatCny(order.totalCents)}
        </p>
        <span class="detail__payway">{payway}</span>
        <span class={`badge badge--${status.key}`} data-badge="status">
          {status.label}
        </span>
      </div>
      {order.status !== 'PAID' && !revoke && <p class="notice notice--info">{t('detail.notPaid')}</p>}
      {order.status === 'PAID' && order.businessDay !== today && !revoke && <p class="notice notice--warn">{t('detail.notToday')}</p>}

      <div class="detail__actions" data-actions="order">
        {showButton && (
          <button
            type="button"
            ref={revokeBtn}
            class="btn btn--danger btn--huge"
            data-action="revoke"
            disabled={busy || confirming}
            onClick={() => setConfirming(true)}
          >
            {busy ? t('outcome.progress') : t('detail.revoke')}
          </button>
        )}
        {/* Insertion point: further order actions (refund, approval) go here. */}
      </div>

      {showProgress ? (
        <section class="outcome outcome--progress" data-outcome="progress">
          <h2 class="outcome__title">
            <Spinner /> {t('outcome.progress')}
          </h2>
          <MoneyStatement state="confirming" />
          <p>{t('outcome.progressBody')}</p>
        </section>
      ) : revoke ? (
        <RevokeOutcome revoke={revoke} order={order} />
      ) : (
        failure && (
          <section class="outcome outcome--failed" data-outcome="failed">
            <ErrorNotice error={failure.error} />
            {failure.recorded === false && (
              <>
                <MoneyStatement state="unchanged" />
                <p>{t('outcome.failedToStart')}</p>
              </>
            )}
            {failure.recorded === null && (
              <>
                <MoneyStatement state="confirming" />
                <p>{t('outcome.checking')}</p>
              </>
            )}
          </section>
        )
      )}

      {/* --- refunds */}
      <RefundPanel order={order} onChanged={onChanged} />

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
      {confirming && (
        <ConfirmDialog
          title={t('confirm.title')}
          okLabel={t('confirm.ok')}
          cancelLabel={t('confirm.cancel')}
          hint={t('confirm.keys')}
          onOk={() => void start()}
          onCancel={() => {
            setConfirming(false);
            revokeBtn.current?.focus();
          }}
        >
          <p class="dialog__amount" data-amount-cents={order.totalCents}>
            {formatCny(order.totalCents)}
          </p>
          <p class="dialog__payway">{payway}</p>
          <p class="dialog__sn">
            {t('detail.sn')}
            {t('colon')}
            <code>{order.sn}</code>
          </p>
          <p>{t('confirm.body')}</p>
          {/* --- operators */}
          <ApprovalStep amountCents={order.totalCents} onChange={onApproval} />
        </ConfirmDialog>
      )}
    </article>
  );
}
