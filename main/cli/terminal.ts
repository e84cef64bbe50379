/** Terminal and order commands: activate, checkin, status, orders list/import. */
import { invalidInput } from '../errors';
import { formatCny } from '../common/money';
import { businessDay, formatCst, isDay } from '../common/time';
import { actor, orderRef, required, str, withRuntime, type CliContext } from './context';
import { describeOrder } from './format';
import { vendorKey } from './vendor-key';

export async function checkin(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt }) => {
    const t = await rt.terminal.checkin(actor(ctx));
    ctx.out({ terminal: t }, `checked in: terminal ${t.terminalSn}, new key stored ${formatCst(t.keyUpdatedAt)} (UTC+8)`);
    return 0;
  });
}

export async function ordersImport(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const order = await rt.orders.import(ref, actor(ctx));
    ctx.out({ order }, describeOrder(order));
    return 0;
  });
}

/** A vendor value from its flag, else the variable the app reads too. */
function vendorValue(ctx: CliContext, flag: string, env: string): string {
  const v = ctx.env[env]?.trim();
  return str(ctx, flag) === undefined && v ? v : required(ctx, flag);
}

export async function activate(ctx: CliContext): Promise<number> {
  const input = {
    appId: vendorValue(ctx, 'app-id', 'UPAY_VENDOR_APP_ID'),
    code: required(ctx, 'code'),
    deviceId: required(ctx, 'device-id'),
    vendorSn: vendorValue(ctx, 'vendor-sn', 'UPAY_VENDOR_SN'),
    vendorKey: await vendorKey(ctx),
    name: str(ctx, 'name'),
    force: ctx.values.force === true,
    allowOpenOperations: ctx.values['allow-open-operations'] === true,
  };
  if (input.deviceId.length > 128) throw invalidInput('--device-id', 'must be at most 128 characters');
  if (input.allowOpenOperations && !input.force) throw invalidInput('--allow-open-operations', 'only together with --force', '只能与 --force 一起使用');
  return withRuntime(ctx, async ({ rt }) => {
    const t = await rt.terminal.activate(input, actor(ctx));
    ctx.out(
      { terminal: t },
      `activated: terminal ${t.terminalSn}\n  merchant ${t.merchantName ?? '-'} (${t.merchantSn ?? '-'})\n  store ${t.storeName ?? '-'} (${t.storeSn ?? '-'})`,
    );
    return 0;
  });
}

export async function status(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt }) => {
    const t = rt.terminal.info();
    const now = rt.clock.now();
    const queue = rt.revokes.queueStatus();
    const printer = { uri: rt.printing.printerUri, ...(await rt.printing.status()) };
    const failedJobs = rt.printing.jobs({ state: 'failed' }).length;
    const doc = {
      dataDir: rt.dataDir,
      apiDomain: rt.apiDomain,
      schemaVersion: rt.schemaVersion(),
      vault: rt.vault.kind,
      businessDay: businessDay(now),
      terminal: t,
      keyAgeMs: t ? now - t.keyUpdatedAt : null,
      checkedInToday: t ? t.lastCheckinDay === businessDay(now) : false,
      queue,
      counterQueue: rt.queueStatus(),
      printer,
      failedPrintJobs: failedJobs,
    };
    const lines = [
      `data dir     ${rt.dataDir} (schema v${doc.schemaVersion}, key vault ${rt.vault.kind})`,
      `gateway      ${rt.apiDomain}`,
      t
        ? `terminal     ${t.terminalSn}  store ${t.storeName ?? '-'}  merchant ${t.merchantName ?? '-'}`
        : 'terminal     not activated (run: upay-pos activate ...)',
      t ? `key          ${Math.round((now - t.keyUpdatedAt) / 3_600_000)} h old; last check-in ${t.lastCheckinDay ?? 'never'}${doc.checkedInToday ? ' (today)' : ''}` : '',
      `queue        queued ${queue.queued}, pending ${queue.pending}, needs attention ${queue.needsAttention}${queue.oldestAgeMs !== null ? `, oldest ${Math.round(queue.oldestAgeMs / 1000)} s` : ''}`,
      `printer      ${printer.uri}: ${printer.state}${printer.detail ? ` (${printer.detail})` : ''}; failed jobs ${failedJobs}`,
    ].filter(Boolean);
    ctx.out(doc, lines.join('\n'));
    return 0;
  });
}

export async function ordersList(ctx: CliContext): Promise<number> {
  const day = str(ctx, 'day');
  if (day !== undefined && !isDay(day)) throw invalidInput('--day', 'must be a date written YYYY-MM-DD');
  return withRuntime(ctx, async ({ rt }) => {
    const d = day ?? businessDay(rt.clock.now());
    const orders = rt.orders.listDay(d);
    const total = orders.reduce((s, o) => s + (o.status === 'PAID' ? o.totalCents : 0), 0);
    ctx.out({ day: d, orders }, [`${d}: ${orders.length} orders, paid ${formatCny(total)}`, ...orders.map(describeOrder)].join('\n'));
    return 0;
  });
}
