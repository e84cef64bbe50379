/**
 * Who may call each channel, decided in the main process before the
 * handler runs (the renderer's own checks are only for the screen):
 * - `anyone`: the sign-in screen's needs (who am I, sign in, the roster, first-run setup);
 * - `signed-in`: every operator (lists, search, receipts; revoke.request adds the money policy);
 * - `store_it`: activation, check-in now, printer and settings changes, queue drain, operator management.
 */
import type { Channel } from './channels';

export type Access = 'anyone' | 'signed-in' | 'store_it';

export const CHANNEL_ACCESS: { readonly [C in Channel]: Access } = {
  'app.info': 'anyone',
  'terminal.status': 'anyone',
  'terminal.activate': 'store_it',
  'terminal.checkin': 'store_it',
  'orders.list': 'signed-in',
  'orders.search': 'signed-in',
  'orders.import': 'signed-in',
  'revoke.request': 'signed-in',
  'revoke.queryAgain': 'signed-in',
  'revoke.listOpen': 'signed-in',
  'revoke.forOrder': 'signed-in',
  'queue.status': 'signed-in',
  'queue.drain': 'store_it',
  'receipt.preview': 'signed-in',
  'receipt.reprint': 'signed-in',
  'printer.status': 'signed-in',
  'printer.test': 'store_it',
  'print.jobs': 'signed-in',
  'print.retry': 'signed-in',
  'settings.get': 'signed-in',
  'settings.set': 'store_it',
  // --- operators
  'session.current': 'anyone',
  'session.signIn': 'anyone',
  'session.signOut': 'anyone',
  'session.setLanguage': 'signed-in',
  'operators.roster': 'anyone',
  'operators.bootstrap': 'anyone',
  'operators.list': 'store_it',
  'operators.add': 'store_it',
  'operators.setActive': 'store_it',
  'operators.resetPin': 'store_it',
  // --- refunds
  'refund.request': 'signed-in',
  'refund.queryAgain': 'signed-in',
  'refund.forOrder': 'signed-in',
  'refund.receipt': 'signed-in',
  'refund.reprint': 'signed-in',
  'report.day': 'signed-in',
  'report.print': 'signed-in',
  'operations.open': 'signed-in',
  // --- payments
  'pay.request': 'signed-in',
  'pay.queryAgain': 'signed-in',
  'pay.listOpen': 'signed-in',
  'pay.receipt': 'signed-in',
};

/**
 * Calls a screen makes by itself (polls, refreshes after an event): they are
 * answered, but do not count as the operator's activity, so an unattended
 * counter still signs out after its idle time.
 */
export const PASSIVE_CHANNELS: ReadonlySet<Channel> = new Set<Channel>([
  'app.info',
  'terminal.status',
  'orders.list',
  'revoke.listOpen',
  'queue.status',
  'printer.status',
  'print.jobs',
  'settings.get',
  'session.current',
  'operators.roster',
  // --- refunds: the order's refunds and a refund's receipt, re-read after refund.updated events
  'refund.forOrder',
  'refund.receipt',
  'operations.open',
  // --- payments: the open payments and a payment's receipt, re-read after payment.updated events
  'pay.listOpen',
  'pay.receipt',
]);

/** The channels only store IT may call. */
export const STORE_IT_CHANNELS: readonly Channel[] = (Object.keys(CHANNEL_ACCESS) as Channel[]).filter((c) => CHANNEL_ACCESS[c] === 'store_it');
