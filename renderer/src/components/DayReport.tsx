/** The day report (日结): totals, per payment method, per operator, what is still open; printed from the same receipt model. */
import { useEffect, useState } from 'preact/hooks';
import { call, type ErrorView } from '../bridge';
import type { DayReportView } from '../../../main/ipc/contract';
import { formatCny } from '../format';
import { useI18n } from '../i18n';
import { ErrorNotice, Rows } from './ui';

export function DayReport({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const [report, setReport] = useState<DayReportView | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  const [printed, setPrinted] = useState(false);

  useEffect(() => {
    void call((p) => p.reportDay({})).then((r) => (r.ok ? setReport(r.value) : setError(r.error)));
  }, []);

  const tally = (x: { count: number; cents: number }) => `${x.count} · ${formatCny(x.cents)}`;
  const actions = (
    <div class="dialog__buttons day-report__actions">
      <button
        type="button"
        class="btn btn--primary"
        data-action="print-day-report"
        disabled={!report}
        onClick={() => void call((p) => p.reportPrint({ day: report!.day })).then((r) => (r.ok ? setPrinted(true) : setError(r.error)))}
      >
        {printed ? t('report.printed') : t('report.print')}
      </button>
      <button type="button" class="btn btn--quiet" data-action="close-day-report" onClick={onClose}>
        {t('report.close')}
      </button>
    </div>
  );
  // The title and the print button stay at the top; the figures and the paper preview scroll under them.
  return (
    <div class="dialog-backdrop day-report" role="dialog" aria-modal="true" aria-labelledby="day-report-title" data-day-report>
      <div class="dialog day-report__dialog">
        <div class="day-report__head">
          <h2 id="day-report-title" class="dialog__title">
            {t('report.title')} {report?.day ?? ''}
          </h2>
          {actions}
        </div>
        <div class="day-report__body">
          {error && <ErrorNotice error={error} />}
          {report && (
            <>
              <p class={report.reconciled ? 'notice notice--info' : 'notice notice--warn'} data-reconciled={String(report.reconciled)}>
                {report.reconciled ? t('report.reconciled') : t('report.notReconciled')}
              </p>
              <Rows
                rows={[
                  [t('report.payments'), tally(report.payments)],
                  [t('report.revokes'), tally(report.revokes)],
                  [t('report.refunds'), tally(report.refunds)],
                  [t('report.returnedElsewhere'), <span data-returned-elsewhere-cents={report.returnedElsewhere.cents}>{tally(report.returnedElsewhere)}</span>],
                  [t('report.net'), <strong data-net-cents={report.netCents}>{formatCny(report.netCents)}</strong>],
                  [t('report.openRevokes'), tally(report.open.revokes)],
                  [t('report.openRefunds'), tally(report.open.refunds)],
                ]}
              />
              <div class="receipt-frame day-report__paper" dangerouslySetInnerHTML={{ __html: report.html }} />
            </>
          )}
        </div>
      </div>
    </div>
  );
}
