/**
 * Who may call each channel, decided in the main process before the
 * handler runs (the renderer's own checks are only for the screen):
 * - `anyone`: the sign-in screen's needs (who am I, sign in, the roster, first-run setup);
 * - `signed-in`: every operator (lists, search, receipts; revoke.request adds the money policy);
 * - `store_it`: activation, check-in now, printer and settings changes, queue drain, operator management.
 *
 * And who receives each event (EVENT_ACCESS): the same rule as the channel
 * that serves its data, checked per window at the moment it is sent
 * (register.ts): a window whose session has not begun, or has ended, gets none.
 */
import type { Channel, EventName } from './channels';

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

/**
 * Who receives each event: the access of the channel that serves the same data,
 * so an event never tells a window what a call would refuse it. Every event
 * carries data a signed-in channel serves; none is `anyone`, and the sign-in
 * screen needs none: after sign-in the screen reads what it shows again
 * (renderer/src/live.ts `refresh`, payments.ts on sign-in, each screen as it mounts).
 */
export const EVENT_ACCESS: { readonly [E in EventName]: Access } = {
  // A RevokeView (order, operator, approver, error): revoke.listOpen / revoke.forOrder.
  'revoke.updated': 'signed-in',
  // The same RevokeView and its deadline.
  'revoke.warning': 'signed-in',
  // The counter's queue counts and online flag: queue.status.
  'queue.changed': 'signed-in',
  // The online flag: queue.status (terminal.status, open to anyone, does not carry it).
  'connectivity.changed': 'signed-in',
  // The printer's state and its detail: printer.status.
  'printer.changed': 'signed-in',
  // A print job's state and error: print.jobs.
  'print.updated': 'signed-in',
  // A RefundView (order, amount, operator, approver): refund.forOrder.
  'refund.updated': 'signed-in',
  // OrderView rows (amount, payway, operator, operations): orders.list.
  'orders.changed': 'signed-in',
  // A PaymentView (client_sn, amount, operator, QR code): pay.listOpen.
  'payment.updated': 'signed-in',
};

/** Whether `access` admits a window where `who` is signed in (null: nobody, or the session ended). */
export function admits(access: Access, who: { readonly role: string } | null): boolean {
  if (access === 'anyone') return true;
  if (!who) return false;
  return access === 'signed-in' || who.role === access;
}

/** The channels only store IT may call. */
export const STORE_IT_CHANNELS: readonly Channel[] = (Object.keys(CHANNEL_ACCESS) as Channel[]).filter((c) => CHANNEL_ACCESS[c] === 'store_it');
