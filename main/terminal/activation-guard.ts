/**
 * Re-activation while money operations are open would have them queried or
 * canceled under the new terminal: refused (with the count by kind and the
 * way out) unless store IT says --allow-open-operations.
 */
import { MONEY_KIND_EN, MONEY_KIND_ZH } from '../common/states';
import { PosError } from '../errors';
import type { Db } from '../store/db';
import { openOperationCounts } from '../store/open-operations';

/** OPERATIONS_OPEN for terminal `terminalSn` when any money operation is open, else undefined. */
export function operationsOpen(db: Db, terminalSn: string): PosError | undefined {
  const open = openOperationCounts(db);
  const total = open.reduce((n, o) => n + o.count, 0);
  if (total === 0) return undefined;
  const zh = open.map((o) => `${MONEY_KIND_ZH[o.kind] ?? o.kind} ${o.count} 笔`).join('，');
  const en = open.map((o) => `${o.count} ${MONEY_KIND_EN[o.kind] ?? o.kind}(s)`).join(', ');
  return new PosError(
    'OPERATIONS_OPEN',
    `终端 ${terminalSn} 还有 ${total} 笔未完成的资金操作（${zh}）：重新激活后它们会以新终端查询或撤销。请先运行 "upay-pos queue drain" 处理完毕，再重新激活；确需立即重新激活（例如旧终端已无法使用），请同时加 --allow-open-operations。`,
    `Terminal ${terminalSn} still has ${total} open money operation(s) (${en}); after re-activation they would be queried or canceled under the new terminal. Settle them first with "upay-pos queue drain", then re-activate; if you must re-activate now (e.g. the old terminal no longer works), add --allow-open-operations as well.`,
    { terminalSn, open: total, byKind: Object.fromEntries(open.map((o) => [o.kind, o.count])) },
  );
}
