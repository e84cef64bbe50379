/**
 * The cashier's view: today's orders (searchable by order number prefix or
 * amount) on the left, the chosen order and its revoke on the right.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { call, type ErrorView, type OrderView, type RevokeView } from '../bridge';
import { businessDayOf, formatCny, formatCst, formatCstTime, lookupRef, paywayLabel, readSearch } from '../format';
import { isMessageKey, useI18n } from '../i18n';
import { newerRevoke, useLiveContext } from '../live';
import type { ApprovalInput } from '../../../main/ipc/contract';
import { ApprovalStep } from './Approval';
import { RevokeOutcome } from './Outcome';
import { ConfirmDialog, ErrorNotice, MoneyStatement, Rows, Spinner } from './ui';
import { RefundPanel } from './Refund'; // --- refunds
import { DayReport } from './DayReport'; // --- refunds

const SEARCH_DEBOUNCE_MS = 200;

export function Cashier({ onGoSetup }: { onGoSetup: () => void }) {
  const { t } = useI18n();
  const live = useLiveContext();
  const [text, setText] = useState('');
  const [orders, setOrders] = useState<OrderView[] | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  const [selected, setSelected] = useState<OrderView | null>(null);
  const [lookingUp, setLookingUp] = useState(false);
  const [dayReport, setDayReport] = useState(false); // --- refunds
  const seq = useRef(0);
  const query = readSearch(text);

  const load = useCallback(async (raw: string) => {
    const mine = ++seq.current;
    const q = readSearch(raw);
    const res =
      q.kind === 'all'
        ? await call((p) => p.ordersList({}))
        : await call((p) => p.ordersSearch(q.kind === 'amount' ? { amountCents: q.amountCents } : { text: q.text }));
    if (mine !== seq.current) return;
    if (!res.ok) {
      setError(res.error);
      return;
    }
    setError(null);
    setOrders(res.value.orders);
    // Keep the detail in step with the list (status after a revoke).
    setSelected((cur) => (cur ? (res.value.orders.find((o) => o.sn === cur.sn) ?? cur) : cur));
  }, []);

  useEffect(() => {
    const timer = window.setTimeout(() => void load(text), text ? SEARCH_DEBOUNCE_MS : 0);
    return () => window.clearTimeout(timer);
  }, [text, load, live.revokeTick, live.info?.businessDay]);

  const lookup = async (ref: { sn: string } | { clientSn: string }) => {
    setLookingUp(true);
    const res = await call((p) => p.ordersImport(ref));
    setLookingUp(false);
    if (!res.ok) return setError(res.error);
    setError(null);
    setSelected(res.value);
    void load(text);
  };

  const ref = lookupRef(query);
  const activated = live.terminal?.activated ?? true;

  return (
    <div class="cashier">
      <section class="panel panel--list" aria-labelledby="orders-title">
        <div class="panel__head">
          <h1 id="orders-title" class="panel__title">
            {query.kind === 'all' ? t('orders.title') : t('orders.results')}
          </h1>
          {orders && <span class="panel__meta">{t('orders.count', { n: orders.length })}</span>}
          <button type="button" class="btn btn--secondary" data-action="refresh" onClick={() => void load(text)}>
            {t('orders.refresh')}
          </button>
          {/* --- refunds: the day report */}
          <button type="button" class="btn btn--secondary" data-action="day-report" onClick={() => setDayReport(true)}>
            {t('report.open')}
          </button>
          {dayReport && <DayReport onClose={() => setDayReport(false)} />}
        </div>
        <div class="search">
          <label class="search__label" for="order-search">
            {t('orders.search')}
          </label>
          <div class="search__row">
            <input
              id="order-search"
              class="input search__input"
              type="search"
              inputMode="decimal"
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
          <p class="search__hint">
            {query.kind === 'amount' ? t('orders.searching', { amount: formatCny(query.amountCents) }) : t('orders.searchHint')}
          </p>
        </div>
        {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
        <OrderList
          orders={orders}
          today={live.info?.businessDay ?? businessDayOf(Date.now())}
          selectedSn={selected?.sn ?? null}
          onSelect={setSelected}
          revokes={live.revokes}
          empty={text ? t('orders.noMatch') : t('orders.empty')}
        />
        {orders && orders.length === 0 && ref && (
          <button type="button" class="btn btn--secondary btn--block" disabled={lookingUp} data-action="lookup" onClick={() => void lookup(ref)}>
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
          <OrderDetail key={selected.sn} order={selected} onBack={() => setSelected(null)} onChanged={() => void load(text)} />
        ) : (
          <p class="placeholder">{t('detail.none')}</p>
        )}
      </section>
    </div>
  );
}

function OrderList(props: {
  orders: OrderView[] | null;
  today: string;
  selectedSn: string | null;
  revokes: Record<string, RevokeView>;
  empty: string;
  onSelect: (order: OrderView) => void;
}) {
  const { t, lang } = useI18n();
  if (!props.orders) {
    return (
      <p class="placeholder">
        <Spinner /> {t('app.loading')}
      </p>
    );
  }
  if (props.orders.length === 0) return <p class="placeholder">{props.empty}</p>;
  return (
    <ul class="orders" aria-label={t('orders.title')}>
      {props.orders.map((o) => {
        const revoke = newerRevoke(o.revoke, props.revokes[o.sn]);
        return (
          <li key={o.sn}>
            <button
              type="button"
              class={`order${o.sn === props.selectedSn ? ' order--selected' : ''}`}
              aria-pressed={o.sn === props.selectedSn}
              data-sn={o.sn}
              onClick={() => props.onSelect(o)}
            >
              <span class="order__time">
                {o.businessDay !== props.today && `${o.businessDay.slice(5)} `}
                {formatCstTime(o.finishedAt)}
              </span>
              <span class="order__amount">{formatCny(o.totalCents)}</span>
              <span class="order__payway">{paywayLabel(o.payway, o.paywayName, lang)}</span>
              <span class="order__sn">
                …{o.sn.slice(-6)} <span class="order__client">{o.clientSn}</span>
              </span>
              <span class={`badge badge--${revoke && revoke.state !== 'revoked' ? revoke.state : o.status.toLowerCase()}`}>
                {revoke && revoke.state !== 'revoked' ? t(`state.${revoke.state}` as const) : statusLabel(o.status, t)}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function statusLabel(status: string, t: ReturnType<typeof useI18n>['t']): string {
  const key = `status.${status}`;
  return isMessageKey(key) ? t(key) : status;
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
    <article class="detail" data-order={order.sn}>
      <div class="detail__head">
        <button type="button" class="btn btn--quiet detail__back" onClick={onBack}>
          ← {t('detail.back')}
        </button>
        <span class={`badge badge--${order.status.toLowerCase()}`}>{statusLabel(order.status, t)}</span>
      </div>
      <p class="detail__amount" data-amount-cents={order.totalCents}>
        {formatCny(order.totalCents)}
      </p>
      <p class="detail__payway">{payway}</p>
      {order.status !== 'PAID' && !revoke && <p class="notice notice--info">{t('detail.notPaid')}</p>}
      {order.status === 'PAID' && order.businessDay !== today && !revoke && <p class="notice notice--warn">{t('detail.notToday')}</p>}

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
