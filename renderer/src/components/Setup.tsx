/**
 * Store IT's view: activate the terminal and check in, printer settings with
 * a test print and failed jobs to retry, the revoke queue, and what this
 * machine runs. Vendor credentials never appear here: they stay in main.
 */
import { OperatorsCard } from './Operators';
import { useEffect, useState } from 'preact/hooks';
import { call, type ErrorView, type PrintJobView, type RevokeView, type SettingsView } from '../bridge';
import { formatCst, printErrorKey } from '../format';
import { PolicyCard } from './Policy';
import { useI18n } from '../i18n';
import { useLiveContext } from '../live';
import { ErrorNotice, Rows } from './ui';

const SECTIONS = ['terminal', 'printer', 'policy', 'operators', 'queue', 'about'] as const;
type Section = (typeof SECTIONS)[number];

/** One section at a time behind tabs, so each fits an 800×600 window; it opens on the terminal until that is activated. */
export function Setup() {
  const { t } = useI18n();
  const [section, setSection] = useState<Section>('terminal');
  return (
    <div class="setup">
      <h1 class="setup__title">{t('setup.title')}</h1>
      <nav class="setup__tabs" aria-label={t('setup.title')}>
        {SECTIONS.map((name) => (
          <button
            type="button"
            key={name}
            class={`btn ${section === name ? 'btn--primary' : 'btn--secondary'}`}
            aria-current={section === name ? 'page' : undefined}
            data-setup-tab={name}
            onClick={() => setSection(name)}
          >
            {t(`setup.section.${name}` as const)}
          </button>
        ))}
      </nav>
      <div class="setup__grid" data-section={section}>
        {section === 'terminal' && <TerminalCard />}
        {section === 'printer' && <PrinterCard />}
        {section === 'policy' && <PolicyCard />}
        {section === 'operators' && <OperatorsCard />}
        {section === 'queue' && <QueueCard />}
        {section === 'about' && <AboutCard />}
      </div>
    </div>
  );
}

function TerminalCard() {
  const { t } = useI18n();
  const live = useLiveContext();
  const status = live.terminal;
  const term = status?.terminal ?? null;
  const [code, setCode] = useState('');
  const [deviceId, setDeviceId] = useState('');
  const [name, setName] = useState('');
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState<'activate' | 'checkin' | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const activate = async (e: Event) => {
    e.preventDefault();
    if (busy || !code.trim()) return;
    setBusy('activate');
    setError(null);
    setDone(null);
    const res = await call((p) =>
      p.terminalActivate({
        code: code.trim(),
        ...(deviceId.trim() ? { deviceId: deviceId.trim() } : {}),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(force ? { force: true } : {}),
      }),
    );
    setBusy(null);
    if (!res.ok) return setError(res.error);
    live.setTerminal(res.value);
    setCode('');
    setForce(false);
    setDone(t('setup.activatedOk', { sn: res.value.terminal?.terminalSn ?? '-' }));
  };

  const checkin = async () => {
    setBusy('checkin');
    setError(null);
    setDone(null);
    const res = await call((p) => p.terminalCheckin());
    setBusy(null);
    if (!res.ok) return setError(res.error);
    live.setTerminal(res.value);
    setDone(t('setup.checkedIn'));
  };

  const form = (
    <form class="form" onSubmit={(e) => void activate(e)} data-form="activate">
      <label class="field">
        <span class="field__label">{t('setup.code')}</span>
        <input class="input" name="code" required maxLength={64} autoComplete="off" inputMode="numeric" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span class="field__label">{t('setup.deviceIdOptional')}</span>
        <input class="input" name="deviceId" maxLength={128} autoComplete="off" value={deviceId} onInput={(e) => setDeviceId(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span class="field__label">{t('setup.nameOptional')}</span>
        <input class="input" name="name" maxLength={64} autoComplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      {term && (
        <label class="check">
          <input type="checkbox" name="force" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} />
          <span>{t('setup.force')}</span>
        </label>
      )}
      <p class="field__hint">{t('setup.vendorNote')}</p>
      {/* Replacing a working terminal identity takes the explicit "force" tick. */}
      <button type="submit" class="btn btn--primary btn--large" data-action="activate" disabled={busy !== null || !code.trim() || (!!term && !force)}>
        {busy === 'activate' ? t('setup.activating') : t('setup.activateButton')}
      </button>
    </form>
  );

  return (
    <section class="card" aria-labelledby="terminal-title" data-card="terminal">
      <h2 id="terminal-title" class="card__title">
        {t('setup.terminal')}
      </h2>
      {status && !status.activated && <p class="notice notice--warn">{t('setup.notActivated')}</p>}
      {term && (
        <>
          <p class="card__ok" data-terminal-sn={term.terminalSn}>
            {t('setup.activated')}
          </p>
          <Rows
            rows={[
              [t('setup.terminalSn'), <code>{term.terminalSn}</code>],
              [t('setup.deviceId'), <code>{term.deviceId}</code>],
              [t('setup.merchant'), `${term.merchantName ?? '-'} (${term.merchantSn ?? '-'})`],
              [t('setup.store'), `${term.storeName ?? '-'} (${term.storeSn ?? '-'})`],
              [t('setup.activatedAt'), formatCst(term.activatedAt)],
              [t('setup.keyUpdatedAt'), formatCst(term.keyUpdatedAt)],
              [t('setup.lastCheckin'), `${term.lastCheckinDay ?? '-'} · ${status?.checkedInToday ? t('setup.checkedInToday') : t('setup.notCheckedIn')}`],
              [t('setup.vault'), status?.vault ?? '-'],
            ]}
          />
          <button type="button" class="btn btn--secondary btn--large" data-action="checkin" disabled={busy !== null} onClick={() => void checkin()}>
            {busy === 'checkin' ? t('setup.checkingIn') : t('setup.checkin')}
          </button>
        </>
      )}
      {term ? (
        <details class="disclosure" data-disclosure="reactivate">
          <summary class="disclosure__summary">{t('setup.reactivate')}</summary>
          {form}
        </details>
      ) : (
        <>
          <h3 class="card__sub">{t('setup.activate')}</h3>
          {form}
        </>
      )}
      {done && (
        <p class="notice notice--ok" role="status" data-done="terminal">
          {done}
        </p>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
    </section>
  );
}

type PrinterForm = Pick<SettingsView, 'printer' | 'printerType' | 'paperWidth' | 'receiptChinese' | 'storeName'>;

function PrinterCard() {
  const { t } = useI18n();
  const live = useLiveContext();
  const [form, setForm] = useState<PrinterForm | null>(null);
  const [busy, setBusy] = useState<'save' | 'test' | 'status' | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [jobs, setJobs] = useState<PrintJobView[] | null>(null);

  useEffect(() => {
    void call((p) => p.settingsGet()).then((res) => {
      if (res.ok) setForm({ printer: res.value.printer, printerType: res.value.printerType, paperWidth: res.value.paperWidth, receiptChinese: res.value.receiptChinese, storeName: res.value.storeName });
      else setError(res.error);
    });
  }, []);

  useEffect(() => {
    void call((p) => p.printJobs({ state: 'failed' })).then((res) => res.ok && setJobs(res.value));
  }, [live.printTick]);

  const save = async (e: Event) => {
    e.preventDefault();
    if (!form || busy) return;
    setBusy('save');
    setError(null);
    setDone(null);
    const res = await call((p) =>
      p.settingsSet({
        printer: form.printer?.trim() ? form.printer.trim() : null,
        printerType: form.printerType,
        paperWidth: form.paperWidth,
        receiptChinese: form.receiptChinese,
        storeName: form.storeName?.trim() ? form.storeName.trim() : null,
      }),
    );
    setBusy(null);
    if (!res.ok) return setError(res.error);
    setDone(t('setup.saved'));
    await refreshStatus();
  };

  const refreshStatus = async () => {
    setBusy('status');
    const res = await call((p) => p.printerStatus());
    setBusy(null);
    if (res.ok) live.setPrinter(res.value);
    else setError(res.error);
  };

  const test = async () => {
    setBusy('test');
    setError(null);
    setDone(null);
    const res = await call((p) => p.printerTest());
    setBusy(null);
    if (!res.ok) return setError(res.error);
    setDone(t('setup.testQueued', { id: res.value.id }));
  };

  const retry = async (jobId: number) => {
    setError(null);
    setDone(null);
    const res = await call((p) => p.printRetry({ jobId }));
    if (!res.ok) return setError(res.error);
    setDone(t('setup.retried'));
    const list = await call((p) => p.printJobs({ state: 'failed' }));
    if (list.ok) setJobs(list.value);
  };

  const printer = live.printer;
  return (
    <section class="card" aria-labelledby="printer-title" data-card="printer">
      <h2 id="printer-title" class="card__title">
        {t('setup.printer')}
      </h2>
      <Rows
        rows={[
          [t('setup.printerStatus'), <span data-printer-state={printer?.state ?? 'unknown'}>{t(`printer.${printer?.state ?? 'unknown'}` as const)}</span>],
          printer?.uri ? [t('setup.printerUri'), <code>{printer.uri}</code>] : null,
          printer?.detail && printer.state !== 'ok' ? ['', <span title={printer.detail}>{t(printErrorKey(printer.detail))}</span>] : null,
        ]}
      />
      <div class="actions">
        <button type="button" class="btn btn--secondary btn--large" data-action="printer-status" disabled={busy !== null} onClick={() => void refreshStatus()}>
          {t('setup.refresh')}
        </button>
        <button type="button" class="btn btn--secondary btn--large" data-action="test-print" disabled={busy !== null} onClick={() => void test()}>
          {busy === 'test' ? t('setup.testPrinting') : t('setup.testPrint')}
        </button>
      </div>
      {form && (
        <form class="form" onSubmit={(e) => void save(e)} data-form="printer">
          <label class="field">
            <span class="field__label">{t('setup.printerUri')}</span>
            <input
              class="input"
              name="printer"
              maxLength={200}
              autoComplete="off"
              spellcheck={false}
              placeholder={printer?.uri ?? ''}
              value={form.printer ?? ''}
              onInput={(e) => setForm({ ...form, printer: e.currentTarget.value })}
            />
            <span class="field__hint">{t('setup.printerUriHint')}</span>
          </label>
          <label class="field">
            <span class="field__label">{t('setup.storeName')}</span>
            <input class="input" name="storeName" maxLength={40} autoComplete="off" value={form.storeName ?? ''} onInput={(e) => setForm({ ...form, storeName: e.currentTarget.value })} />
            <span class="field__hint">{t('setup.storeNameHint')}</span>
          </label>
          <fieldset class="choice">
            <legend class="field__label">{t('setup.printerType')}</legend>
            {(['EPSON', 'STAR'] as const).map((type) => (
              <label class="choice__option" key={type}>
                <input type="radio" name="printerType" value={type} checked={form.printerType === type} onChange={() => setForm({ ...form, printerType: type })} />
                <span>{type}</span>
              </label>
            ))}
          </fieldset>
          <fieldset class="choice">
            <legend class="field__label">{t('setup.paper')}</legend>
            {([58, 80] as const).map((width) => (
              <label class="choice__option" key={width}>
                <input type="radio" name="paperWidth" value={width} checked={form.paperWidth === width} onChange={() => setForm({ ...form, paperWidth: width })} />
                <span>{t(`setup.paper${width}` as const)}</span>
              </label>
            ))}
          </fieldset>
          <label class="check">
            <input type="checkbox" name="receiptChinese" checked={form.receiptChinese} onChange={(e) => setForm({ ...form, receiptChinese: e.currentTarget.checked })} />
            <span>{t('setup.chinese')}</span>
          </label>
          <button type="submit" class="btn btn--primary btn--large" data-action="save-printer" disabled={busy !== null}>
            {busy === 'save' ? t('setup.saving') : t('setup.save')}
          </button>
        </form>
      )}
      <h3 class="card__sub">{t('setup.jobs')}</h3>
      {jobs && jobs.length === 0 && <p class="placeholder">{t('setup.noFailedJobs')}</p>}
      {jobs && jobs.length > 0 && (
        <ul class="jobs">
          {jobs.map((job) => (
            <li class="job" key={job.id} data-job={job.id}>
              <span class="job__what">
                {t('setup.job', { id: job.id })} · {t(`setup.jobKind.${job.kind}` as const)}
                {job.orderSn ? ` · ${job.orderSn}` : ''}
              </span>
              <span class="job__error" title={job.lastError ?? undefined}>
                {t(printErrorKey(job.lastError))}
              </span>
              <button type="button" class="btn btn--secondary" data-action="retry-job" onClick={() => void retry(job.id)}>
                {t('setup.retry')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {done && (
        <p class="notice notice--ok" role="status" data-done="printer">
          {done}
        </p>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
    </section>
  );
}

function QueueCard() {
  const { t } = useI18n();
  const live = useLiveContext();
  const [open, setOpen] = useState<RevokeView[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorView | null>(null);
  const q = live.queue;

  useEffect(() => {
    void call((p) => p.revokeListOpen()).then((res) => res.ok && setOpen(res.value));
  }, [live.revokeTick]);

  const drain = async () => {
    setBusy(true);
    setError(null);
    const res = await call((p) => p.queueDrain());
    setBusy(false);
    if (res.ok) live.setQueue(res.value);
    else setError(res.error);
  };

  return (
    <section class="card" aria-labelledby="queue-title" data-card="queue">
      <h2 id="queue-title" class="card__title">
        {t('setup.queue')}
      </h2>
      {q && <p>{t('setup.queueCounts', { queued: q.queued, pending: q.pending, sending: q.sending, attention: q.needsAttention })}</p>}
      <button type="button" class="btn btn--secondary btn--large" data-action="drain" disabled={busy} onClick={() => void drain()}>
        {busy ? t('setup.draining') : t('setup.drain')}
      </button>
      <h3 class="card__sub">{t('setup.openRevokes')}</h3>
      {open && open.length === 0 && <p class="placeholder">{t('setup.noOpenRevokes')}</p>}
      {open && open.length > 0 && (
        <ul class="jobs">
          {open.map((r) => (
            <li class="job" key={r.id}>
              <span class="job__what">
                <code>{r.orderSn}</code> · {t(`state.${r.state}` as const)}
              </span>
              <span class="job__error">{formatCst(r.requestedAt)}</span>
            </li>
          ))}
        </ul>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
    </section>
  );
}

function AboutCard() {
  const { t } = useI18n();
  const live = useLiveContext();
  const info = live.info;
  if (!info) return null;
  return (
    <section class="card" aria-labelledby="about-title" data-card="about">
      <h2 id="about-title" class="card__title">
        {t('setup.about')}
      </h2>
      <Rows
        rows={[
          [t('setup.version'), info.version],
          [t('setup.mode'), info.mode === 'production' ? t('status.production') : t('status.sandbox')],
          [t('setup.gateway'), <code>{info.apiDomain}</code>],
          [t('setup.dataDir'), <code>{info.dataDir}</code>],
        ]}
      />
    </section>
  );
}
