/**
 * The `upay-pos` commands. Each validates its arguments before any runtime
 * or gateway is touched, prints one JSON document with --json (human text
 * otherwise) and returns its exit code. One file per command family.
 */
import { PosError } from '../errors';
import type { CliContext } from './context';
import { FLEET_COMMANDS } from './fleet';
import { printerStatus, printerTest, receiptJobs, receiptReprint, receiptRetry, receiptShow } from './receipts';
import { operatorsAdd, operatorsList, operatorsResetPin, operatorsSetActive, operatorsUnlock } from './operators';
import { queueDrain, queueList, revoke, revokeQuery } from './revoke';
import { refund, refundQuery } from './refund';
import { pay, payQuery } from './pay';
import { reportDay } from './day-report';
import { demo, sandboxCommand } from './sandbox';
import { settingsGet, settingsSet } from './settings';
import { activate, checkin, ordersImport, ordersList, status } from './terminal';

export type { CliContext } from './context';
export { USAGE } from './usage';

const COMMANDS: Record<string, (ctx: CliContext) => Promise<number> | number> = {
  activate,
  checkin,
  status,
  'orders list': ordersList,
  'orders import': ordersImport,
  revoke,
  'revoke query': revokeQuery,
  'queue list': queueList,
  'queue drain': queueDrain,
  'receipt reprint': receiptReprint,
  'receipt show': receiptShow,
  'receipt jobs': receiptJobs,
  'receipt retry': receiptRetry,
  'printer status': printerStatus,
  'printer test': printerTest,
  'settings get': settingsGet,
  'settings set': (ctx) => settingsSet(ctx, 'set'),
  'settings unset': (ctx) => settingsSet(ctx, 'unset'),
  sandbox: sandboxCommand,
  demo,
  // --- operators
  'operators list': operatorsList,
  'operators add': operatorsAdd,
  'operators disable': operatorsSetActive(false),
  'operators enable': operatorsSetActive(true),
  'operators reset-pin': operatorsResetPin,
  'operators unlock': operatorsUnlock,
  // --- refunds
  refund,
  'refund query': refundQuery,
  'report day': reportDay,
  // --- payments
  pay,
  'pay query': payQuery,
  ...FLEET_COMMANDS,
};

export async function runCommand(ctx: CliContext): Promise<number> {
  const run = COMMANDS[ctx.command];
  if (!run) throw new PosError('USAGE', `未知命令 ${ctx.command}`, `unknown command ${ctx.command}`);
  return run(ctx);
}
