/** `upay-pos report day [--day YYYY-MM-DD] [--json | --csv] [--print]`: the day report (日结). */
import { formatCny } from '../common/money';
import { receiptLines } from '../common/receipt-text';
import { businessDay, isDay } from '../common/time';
import { invalidInput } from '../errors';
import { dayReportCsv } from '../report/day';
import { actor, str, withRuntime, type CliContext } from './context';

export async function reportDay(ctx: CliContext): Promise<number> {
  const day = str(ctx, 'day');
  if (day !== undefined && !isDay(day)) throw invalidInput('--day', 'must be a date YYYY-MM-DD', '必须是日期 YYYY-MM-DD');
  const csv = ctx.values.csv === true;
  if (csv && ctx.global.json) throw invalidInput('--json/--csv', 'give at most one of --json and --csv', '--json 与 --csv 只能选一个');
  const print = ctx.values.print === true;
  return withRuntime(
    ctx,
    async ({ rt }) => {
      const report = rt.dayReport(day ?? businessDay(rt.clock.now()));
      if (print) {
        const jobId = rt.refundPrinting.printDayReport(report, actor(ctx));
        await rt.printing.waitForJob(jobId, 10_000);
      }
      if (csv) {
        ctx.out(report, dayReportCsv(report).trimEnd());
        return report.reconciled ? 0 : 1;
      }
      const text = [
        `day ${report.day}: payments ${report.payments.count} ${formatCny(report.payments.cents)}, revokes ${report.revokes.count} ${formatCny(report.revokes.cents)}, refunds ${report.refunds.count} ${formatCny(report.refunds.cents)}, net ${formatCny(report.netCents)}`,
        `open: revokes ${report.open.revokes.count}, refunds ${report.open.refunds.count}, payments ${report.counterPayments?.open.length ?? 0}${report.reconciled ? '' : '  NOT RECONCILED'}`,
        ...receiptLines(rt.refundPrinting.dayReportModel(report).items),
      ].join('\n');
      ctx.out(report, text);
      return report.reconciled ? 0 : 1;
    },
    { workers: print },
  );
}
