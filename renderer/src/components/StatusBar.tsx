/**
 * Always on screen, in one row: the view tabs; network, gateway mode
 * (sandbox flagged loudly), printer, open revokes and business day as small
 * icon pills whose details (and printer recovery steps) open on tap; the
 * open-revokes pill opens the queue. Language and colours live behind the
 * "more" button. Below the bar, deadline warnings as a banner.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, type RevokeView } from '../bridge';
import { formatCny, formatCst } from '../format';
import { stateTerm } from '../../../main/common/glossary';
import type { OpenOperationView } from '../../../main/ipc/contract';
import { useI18n, type MessageKey } from '../i18n';
import { useLiveContext } from '../live';
import { deadlineText } from './Outcome';
import { Icon, Modal } from './ui';
import { OperatorBadge } from './Operators';

export type Tab = 'cashier' | 'pay' | 'setup';
export type Theme = 'auto' | 'light' | 'dark';

type Sheet = 'details' | 'queue' | 'more' | null;

export function StatusBar(props: {
  tab: Tab;
  onTab: (tab: Tab) => void;
  onToggleLanguage: () => void;
  theme: Theme;
  onTheme: (theme: Theme) => void;
  onOpenOrder: (sn: string) => void;
  /** A payment's entry in the 待处理 list: the 收款 screen on that payment (a payment has no order to show yet). */
  onOpenPayment: (paymentId: number) => void;
}) {
  const { t } = useI18n();
  const live = useLiveContext();
  const [sheet, setSheet] = useState<Sheet>(null);
  const online = live.queue?.online ?? true;
  const open = openOrders(live.openOperations);
  const attention = live.openOperations.some((o) => o.state === 'needs_attention');
  const printerState = live.printer?.state ?? 'unknown';
  const sandbox = live.info?.mode !== 'production';
  const day = live.info?.businessDay ?? live.terminal?.businessDay ?? '—';
  // A printer that does not answer (状态未知) is trouble too: red, with what to do in its details.
  const printerBad = printerState !== 'ok' && printerState !== 'none';
  return (
    <header class={`statusbar${live.info?.mode === 'sandbox' ? ' statusbar--sandbox' : ''}`}>
      <nav class="tabs" aria-label={t('app.title')}>
        {(['cashier', 'pay', 'setup'] as const).map((name) => (
          <button
            type="button"
            key={name}
            class={`tab${props.tab === name ? ' tab--active' : ''}`}
            aria-current={props.tab === name ? 'page' : undefined}
            data-tab={name}
            onClick={() => props.onTab(name)}
          >
            {t(`tab.${name}` as const)}
          </button>
        ))}
      </nav>
      <ul class="status" aria-live="polite">
        <li>
          <button
            type="button"
            class={`pill ${online ? 'pill--ok' : 'pill--bad'}`}
            data-status="network"
            data-online={String(online)}
            title={online ? t('status.online') : t('status.offline')}
            onClick={() => setSheet('details')}
          >
            <span class="pill__dot" aria-hidden="true" />
            {online ? t('status.onlineShort') : t('status.offlineShort')}
          </button>
        </li>
        {live.info && (
          <li>
            <button
              type="button"
              class={`pill ${sandbox ? 'pill--sandbox' : 'pill--prod'}`}
              data-status="mode"
              data-mode={live.info.mode}
              title={sandbox ? t('status.sandbox') : t('status.production')}
              onClick={() => setSheet('details')}
            >
              {sandbox ? t('status.sandboxShort') : t('status.productionShort')}
            </button>
          </li>
        )}
        <li>
          <button
            type="button"
            class={`pill ${printerState === 'ok' ? 'pill--ok' : printerBad ? 'pill--bad' : 'pill--muted'}`}
            data-status="printer"
            data-printer={printerState}
            title={`${t('status.printer')}: ${t(`printer.${printerState}` as const)}`}
            onClick={() => setSheet('details')}
          >
            <Icon name="printer" />
            <span class="pill__text">{t(`printer.${printerState}` as const)}</span>
          </button>
        </li>
        <li>
          <button
            type="button"
            class={`pill ${open > 0 ? (attention ? 'pill--bad' : 'pill--warn') : 'pill--muted'}`}
            data-status="queue"
            data-count={open}
            title={t('status.queue')}
            onClick={() => setSheet('queue')}
          >
            <span class="pill__text">{t('status.queueShort')}</span> <strong>{open}</strong>
          </button>
        </li>
        <li class="status__day">
          <button type="button" class="pill pill--muted" data-status="day" title={t('status.day')} onClick={() => setSheet('details')}>
            {day.slice(5)}
          </button>
        </li>
      </ul>
      {/* --- operators: who is signed in, and the one tap to switch user */}
      <OperatorBadge />
      <button type="button" class="btn btn--quiet statusbar__more" data-action="menu" aria-label={t('settings.more')} onClick={() => setSheet('more')}>
        <Icon name="more" />
      </button>
      {sheet === 'details' && (
        <SheetDialog title={t('status.details')} onClose={() => setSheet(null)}>
          <StatusDetails />
        </SheetDialog>
      )}
      {sheet === 'queue' && (
        <SheetDialog title={t('queue.title')} onClose={() => setSheet(null)}>
          <QueueList
            onOpen={(sn) => {
              setSheet(null);
              props.onOpenOrder(sn);
            }}
            onOpenPayment={(id) => {
              setSheet(null);
              props.onOpenPayment(id);
            }}
          />
        </SheetDialog>
      )}
      {sheet === 'more' && (
        <SheetDialog title={t('settings.more')} onClose={() => setSheet(null)}>
          <MoreSettings theme={props.theme} onTheme={props.onTheme} onToggleLanguage={props.onToggleLanguage} />
        </SheetDialog>
      )}
    </header>
  );
}

/** A modal sheet on the native <dialog> (Escape closes it). */
function SheetDialog({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  const { t } = useI18n();
  return (
    <Modal class="dialog sheet" labelledBy="sheet-title" onCancel={onClose}>
      <div class="sheet__head">
        <h2 id="sheet-title" class="dialog__title">
          {title}
        </h2>
        <button type="button" class="btn btn--secondary" data-action="close-sheet" onClick={onClose}>
          {t('status.close')}
        </button>
      </div>
      <div class="sheet__body">{children}</div>
    </Modal>
  );
}

const PRINTER_DETAILS: Record<string, MessageKey> = {
  ready: 'printer.detail.ready',
  'ready (paper near end)': 'printer.detail.nearEnd',
  'no printer configured': 'printer.detail.none',
};

/** Every status in full words, with the printer's recovery steps when it needs them. */
function StatusDetails() {
  const { t } = useI18n();
  const live = useLiveContext();
  const q = live.queue;
  const printerState = live.printer?.state ?? 'unknown';
  const detail = live.printer?.detail ?? null;
  const detailKey = detail ? PRINTER_DETAILS[detail] : undefined;
  return (
    <div class="details" data-sheet="details">
      <dl class="rows">
        <div class="rows__row">
          <dt>{t('status.networkLabel')}</dt>
          <dd>{(q?.online ?? true) ? t('status.online') : t('status.offline')}</dd>
        </div>
        <div class="rows__row">
          <dt>{t('status.modeLabel')}</dt>
          <dd>{live.info?.mode === 'production' ? t('status.production') : t('status.sandbox')}</dd>
        </div>
        <div class="rows__row">
          <dt>{t('status.printer')}</dt>
          <dd data-printer-detail={printerState}>
            {t(`printer.${printerState}` as const)}
            {detailKey ? ` · ${t(detailKey)}` : ''}
          </dd>
        </div>
        <div class="rows__row">
          <dt>{t('status.queue')}</dt>
          <dd>{openOrders(live.openOperations)}</dd>
        </div>
        <div class="rows__row">
          <dt>{t('status.day')}</dt>
          <dd>{live.info?.businessDay ?? '—'}</dd>
        </div>
      </dl>
      {printerState !== 'ok' && printerState !== 'none' && <PrinterHelp state={printerState} />}
      {printerState !== 'none' && <RetryFailedPrints />}
    </div>
  );
}

/** What to do when the printer is not printing: paper, cover, cable or network. */
export function PrinterHelp({ state }: { state: string }) {
  const { t } = useI18n();
  const steps: MessageKey[] =
    state === 'paper_out'
      ? ['printer.help.paper', 'printer.help.retry']
      : state === 'cover_open'
        ? ['printer.help.cover', 'printer.help.retry']
        : state === 'unknown'
          ? ['printer.help.unknown', 'printer.help.cable', 'printer.help.retry']
          : ['printer.help.cable', 'printer.help.paper', 'printer.help.cover', 'printer.help.retry'];
  return (
    <section class="notice notice--error printer-help" data-printer-help={state}>
      <h3 class="outcome__sub">{t('printer.help.title')}</h3>
      <ol class="steps">
        {steps.map((k) => (
          <li key={k}>{t(k)}</li>
        ))}
      </ol>
    </section>
  );
}

/** How many orders have an operation open (of any kind): what the 待处理 pill counts. */
function openOrders(ops: readonly OpenOperationView[]): number {
  return new Set(ops.map((o) => o.orderSn)).size;
}

/** Receipts that failed to print, sent again from here: a cashier's own recovery step. */
function RetryFailedPrints() {
  const { t } = useI18n();
  const live = useLiveContext();
  const [failed, setFailed] = useState<number[]>([]);
  const [done, setDone] = useState(false);
  useEffect(() => {
    void call((p) => p.printJobs({ state: 'failed' })).then((r) => r.ok && setFailed(r.value.map((j) => j.id)));
  }, [live.printTick]);
  if (failed.length === 0) return done ? <p class="notice notice--info">{t('printer.retried')}</p> : null;
  const retry = async () => {
    for (const jobId of failed) await call((p) => p.printRetry({ jobId }));
    setDone(true);
    setFailed([]);
  };
  return (
    <div class="notice notice--error" data-failed-prints={failed.length}>
      <p>{t('printer.failedJobs', { n: failed.length })}</p>
      <button type="button" class="btn btn--primary" data-action="retry-failed-prints" onClick={() => void retry()}>
        {t('receipt.retry')}
      </button>
    </div>
  );
}

/** The open operations of every kind, newest first; each opens its order on the cashier screen (a payment: the 收款 screen on it). */
function QueueList({ onOpen, onOpenPayment }: { onOpen: (sn: string) => void; onOpenPayment: (paymentId: number) => void }) {
  const { t, pick } = useI18n();
  const live = useLiveContext();
  const [deadlines, setDeadlines] = useState<Record<number, number>>({});
  useEffect(() => {
    void call((p) => p.revokeListOpen()).then((r) => r.ok && setDeadlines(Object.fromEntries(r.value.map((x: RevokeView) => [x.id, x.deadlineAt]))));
  }, [live.revokeTick]);
  const open = live.openOperations;
  if (open.length === 0) return <p class="placeholder">{t('queue.empty')}</p>;
  return (
    <ul class="queue-list" data-sheet="queue">
      {open.map((o) => {
        const label = stateTerm(o.kind, o.state);
        const deadline = o.kind === 'revoke' && o.state === 'queued' ? deadlines[o.id] : undefined;
        return (
          <li key={`${o.kind}-${o.id}`} class="queue-list__item" data-kind={o.kind}>
            <span class={`badge badge--${o.state === 'needs_attention' ? 'danger' : 'warn'}`}>{pick(label.zh, label.en)}</span>
            <code>
              {o.orderSn} · {formatCny(o.amountCents)}
            </code>
            <span class="queue-list__meta">{deadline !== undefined ? deadlineText(deadline, Date.now(), t) : formatCst(o.updatedAt).slice(11)}</span>
            {o.kind === 'pay' ? (
              <button type="button" class="btn btn--primary" data-action="open-payment" data-payment-id={o.id} data-sn={o.orderSn} onClick={() => onOpenPayment(o.id)}>
                {t('queue.open')}
              </button>
            ) : (
              <button type="button" class="btn btn--primary" data-action="open-order" data-sn={o.orderSn} onClick={() => onOpen(o.orderSn)}>
                {t('queue.open')}
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function MoreSettings({ theme, onTheme, onToggleLanguage }: { theme: Theme; onTheme: (theme: Theme) => void; onToggleLanguage: () => void }) {
  const { t, lang } = useI18n();
  return (
    <div class="more" data-sheet="more">
      <button type="button" class="btn btn--secondary btn--large" lang={lang === 'zh-CN' ? 'en' : 'zh-CN'} aria-label={t('app.switchLanguageLabel')} onClick={onToggleLanguage} data-action="language">
        {t('app.switchLanguage')}
      </button>
      {/* Insertion point: the signed-in operator's own settings. */}
      <fieldset class="choice" data-setting="theme">
        <legend>{t('theme.label')}</legend>
        {(['auto', 'light', 'dark'] as const).map((name) => (
          <button type="button" key={name} class={`btn ${theme === name ? 'btn--primary' : 'btn--secondary'}`} aria-pressed={theme === name} data-theme-choice={name} onClick={() => onTheme(name)}>
            {t(`theme.${name}` as const)}
          </button>
        ))}
      </fieldset>
    </div>
  );
}

export function WarningBanner() {
  const { t, pick } = useI18n();
  const live = useLiveContext();
  if (live.warnings.length === 0) return null;
  return (
    <section class="banner" role="alert" data-banner="deadline">
      <strong class="banner__title">{t('warning.title')}</strong>
      <ul class="banner__list">
        {live.warnings.map((w) => (
          <li key={w.revoke.id} class="banner__item">
            <span>{pick(w.messageZh, w.messageEn)}</span>
            <span class="banner__meta">{t('warning.order', { sn: w.revoke.orderSn, time: deadlineText(w.deadlineAt, Date.now(), t) })}</span>
            <button type="button" class="btn btn--quiet" onClick={() => live.dismissWarning(w.revoke.id)}>
              {t('warning.dismiss')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
