/**
 * The day's orders as a windowed table: every order is a fixed-height row,
 * and only the rows in (or near) the viewport exist in the DOM, so a day of
 * thousands of orders costs what a screenful costs. Filtering and sorting
 * are plain functions over the loaded list (search as you type).
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { OrderView, RevokeView } from '../bridge';
import { formatCny, formatCstTime, matchesSearch, paywayLabel, type SearchQuery } from '../format';
import { useI18n } from '../i18n';
import { newerRevoke } from '../live';
import { orderStatus, type StatusFilter } from '../status';
import { Spinner } from './ui';

export type Sort = 'newest' | 'oldest' | 'amountDesc' | 'amountAsc';

export interface ListView {
  query: SearchQuery;
  status: StatusFilter;
  payway: string;
  sort: Sort;
}

const COMPARE: Record<Sort, (a: OrderView, b: OrderView) => number> = {
  newest: (a, b) => b.finishedAt - a.finishedAt,
  oldest: (a, b) => a.finishedAt - b.finishedAt,
  amountDesc: (a, b) => b.totalCents - a.totalCents || b.finishedAt - a.finishedAt,
  amountAsc: (a, b) => a.totalCents - b.totalCents || b.finishedAt - a.finishedAt,
};

/** The orders the list shows: matching the search and filters, in the chosen order. */
export function applyView(orders: readonly OrderView[], view: ListView, revokes: Record<string, RevokeView>, today: string): OrderView[] {
  const out = orders.filter((o) => {
    if (!matchesSearch(o, view.query)) return false;
    if (view.payway !== 'all' && o.payway !== view.payway) return false;
    if (view.status !== 'all' && orderStatus(o, newerRevoke(o.revoke, revokes[o.sn]), today).group !== view.status) return false;
    return true;
  });
  return out.sort(COMPARE[view.sort]);
}

/** Rows drawn beyond the viewport on each side, so a quick scroll shows no gap. */
const OVERSCAN = 6;
/** A row's height: the CSS's `--row-rem` (3, less in short windows) in rem; rows are laid out by arithmetic, not measured. */
function rowPx(): number {
  const root = getComputedStyle(document.documentElement);
  return (parseFloat(root.getPropertyValue('--row-rem')) || 3) * (parseFloat(root.fontSize) || 20);
}

export function OrderList(props: {
  orders: OrderView[] | null;
  today: string;
  selectedSn: string | null;
  revokes: Record<string, RevokeView>;
  empty: string;
  onSelect: (order: OrderView) => void;
}) {
  const { t, lang, pick } = useI18n();
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(800);
  const [row, setRow] = useState(60);

  useLayoutEffect(() => {
    const el = viewport.current;
    if (!el) return;
    setRow(rowPx());
    setHeight(el.clientHeight || 800);
    // The first rows are laid out (clientHeight above forced the layout): `npm run bench` reads this mark.
    if (performance.getEntriesByName('orders:day-shown').length === 0) performance.mark('orders:day-shown');
    const observer = new ResizeObserver(() => {
      setRow(rowPx());
      setHeight(el.clientHeight || 800);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [props.orders === null]);

  // A new search or filter starts at the top.
  const count = props.orders?.length ?? 0;
  useEffect(() => {
    if (viewport.current && viewport.current.scrollTop > count * row) viewport.current.scrollTop = 0;
  }, [count, row]);

  if (!props.orders) {
    return (
      <p class="placeholder">
        <Spinner /> {t('app.loading')}
      </p>
    );
  }
  if (props.orders.length === 0) return <p class="placeholder">{props.empty}</p>;

  const first = Math.max(0, Math.floor(scrollTop / row) - OVERSCAN);
  const last = Math.min(count, Math.ceil((scrollTop + height) / row) + OVERSCAN);
  const rows = props.orders.slice(first, last);

  return (
    <div class="orders-table" aria-label={t('orders.title')}>
      <div class="orders-head" aria-hidden="true">
        <span class="order__time">{t('col.time')}</span>
        <span class="order__amount">{t('col.amount')}</span>
        <span class="order__payway">{t('col.payway')}</span>
        <span class="order__subject">{t('col.subject')}</span>
        <span class="order__operator">{t('col.operator')}</span>
        <span class="order__sn">{t('col.sn')}</span>
        <span class="order__status">{t('col.status')}</span>
      </div>
      <div class="orders-viewport" ref={viewport} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <div class="orders" style={{ height: `${count * row}px` }}>
          <div class="orders__window" style={{ transform: `translateY(${first * row}px)` }}>
            {rows.map((o, i) => {
              const status = orderStatus(o, newerRevoke(o.revoke, props.revokes[o.sn]), props.today);
              const selected = o.sn === props.selectedSn;
              return (
                <button
                  type="button"
                  key={o.sn}
                  aria-setsize={count}
                  aria-posinset={first + i + 1}
                  class={`order${selected ? ' order--selected' : ''}`}
                  aria-pressed={selected}
                  data-sn={o.sn}
                  data-status={status.key}
                  onClick={() => props.onSelect(o)}
                >
                  <span class="order__time">
                    {o.businessDay !== props.today && `${o.businessDay.slice(5)} `}
                    {formatCstTime(o.finishedAt)}
                  </span>
                  <span class="order__amount">{formatCny(o.totalCents)}</span>
                  <span class="order__payway">{paywayLabel(o.payway, o.paywayName, lang)}</span>
                  <span class="order__subject">{o.subject ?? ''}</span>
                  <span class="order__operator">{o.operator ?? ''}</span>
                  <span class="order__sn">…{o.sn.slice(-6)}</span>
                  <span class="order__status">
                    <span class={`badge badge--${status.tone} order__badge`} data-badge={status.key}>
                      {pick(status.label.zh, status.label.en)}
                    </span>
                  </span>
                </button>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
