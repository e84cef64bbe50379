/**
 * Always on screen: network, gateway mode (sandbox flagged loudly), printer,
 * open revokes, business day; the view tabs and the language switch. Below
 * it, deadline warnings as a banner.
 */
import { formatCst } from '../format';
import { useI18n } from '../i18n';
import { useLiveContext } from '../live';
import { OperatorBadge } from './Operators';

export type Tab = 'cashier' | 'setup';

export function StatusBar({ tab, onTab, onToggleLanguage }: { tab: Tab; onTab: (tab: Tab) => void; onToggleLanguage: () => void }) {
  const { t, lang } = useI18n();
  const live = useLiveContext();
  const online = live.queue?.online ?? true;
  const q = live.queue;
  const open = q ? q.queued + q.pending + q.needsAttention : 0;
  const printerState = live.printer?.state ?? 'unknown';
  const sandbox = live.info?.mode !== 'production';
  const day = live.info?.businessDay ?? live.terminal?.businessDay ?? '—';
  return (
    <header class={`statusbar${live.info?.mode === 'sandbox' ? ' statusbar--sandbox' : ''}`}>
      <nav class="tabs" aria-label={t('app.title')}>
        {(['cashier', 'setup'] as const).map((name) => (
          <button
            type="button"
            key={name}
            class={`tab${tab === name ? ' tab--active' : ''}`}
            aria-current={tab === name ? 'page' : undefined}
            data-tab={name}
            onClick={() => onTab(name)}
          >
            {t(`tab.${name}` as const)}
          </button>
        ))}
      </nav>
      <ul class="status" aria-live="polite">
        <li class={`pill ${online ? 'pill--ok' : 'pill--bad'}`} data-status="network" data-online={String(online)} title={t('status.networkLabel')}>
          <span class="pill__dot" aria-hidden="true" />
          {online ? t('status.online') : t('status.offline')}
        </li>
        {live.info && (
          <li class={`pill ${sandbox ? 'pill--sandbox' : 'pill--prod'}`} data-status="mode" data-mode={live.info.mode} title={t('status.modeLabel')}>
            {sandbox ? t('status.sandbox') : t('status.production')}
          </li>
        )}
        <li class={`pill ${printerState === 'ok' ? 'pill--ok' : printerState === 'none' || printerState === 'unknown' ? 'pill--muted' : 'pill--bad'}`} data-status="printer" data-printer={printerState}>
          {t('status.printer')} <strong>{t(`printer.${printerState}` as const)}</strong>
        </li>
        <li class={`pill ${open > 0 ? (q && q.needsAttention > 0 ? 'pill--bad' : 'pill--warn') : 'pill--muted'}`} data-status="queue" data-count={open}>
          {t('status.queue')} <strong>{open}</strong>
        </li>
        <li class="pill pill--muted" data-status="day">
          {t('status.day')} <strong>{day}</strong>
        </li>
      </ul>
      {/* --- operators: who is signed in, and the one tap to switch user */}
      <OperatorBadge />
      <button type="button" class="btn btn--quiet lang-switch" lang={lang === 'zh-CN' ? 'en' : 'zh-CN'} aria-label={t('app.switchLanguageLabel')} onClick={onToggleLanguage} data-action="language">
        {t('app.switchLanguage')}
      </button>
    </header>
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
            <span class="banner__meta">{t('warning.order', { sn: w.revoke.orderSn, time: formatCst(w.deadlineAt) })}</span>
            <button type="button" class="btn btn--quiet" onClick={() => live.dismissWarning(w.revoke.id)}>
              {t('warning.dismiss')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
