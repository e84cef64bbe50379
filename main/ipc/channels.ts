/**
 * The IPC channel and event names, written once. Plain data with no imports,
 * so the sandboxed preload bundles it without zod; the contract (contract.ts)
 * keys its schemas by these names and the compiler holds the two together.
 */

const CHANNELS_LISTED = [
  'app.info',
  'terminal.status',
  'terminal.activate',
  'terminal.checkin',
  'orders.list',
  'orders.search',
  'orders.import',
  'revoke.request',
  'revoke.queryAgain',
  'revoke.listOpen',
  'revoke.forOrder',
  'queue.status',
  'queue.drain',
  'receipt.preview',
  'receipt.reprint',
  'printer.status',
  'printer.test',
  'print.jobs',
  'print.retry',
  'settings.get',
  'settings.set',
  // --- operators
  'session.current',
  'session.signIn',
  'session.signOut',
  'session.setLanguage',
  'operators.roster',
  'operators.bootstrap',
  'operators.list',
  'operators.add',
  'operators.setActive',
  'operators.resetPin',
  // --- refunds
  'refund.request',
  'refund.queryAgain',
  'refund.forOrder',
  'refund.receipt',
  'refund.reprint',
  'report.day',
  'report.print',
  'operations.open',
  // --- payments
  'pay.request',
  'pay.queryAgain',
  'pay.listOpen',
  'pay.receipt',
] as const;
export type Channel = (typeof CHANNELS_LISTED)[number];
export const CHANNEL_NAMES: Channel[] = [...CHANNELS_LISTED];

const EVENTS_LISTED = [
  'revoke.updated',
  'revoke.warning',
  'queue.changed',
  'connectivity.changed',
  'printer.changed',
  'print.updated',
  // --- refunds
  'refund.updated',
  'orders.changed',
  // --- payments
  'payment.updated',
] as const;
export type EventName = (typeof EVENTS_LISTED)[number];
export const EVENT_NAMES: EventName[] = [...EVENTS_LISTED];

/** `terminal.status` -> `terminalStatus`, `revoke.queryAgain` -> `revokeQueryAgain`. */
export type BridgeName<C extends string> = C extends `${infer A}.${infer B}` ? `${A}${Capitalize<BridgeName<B>>}` : C;

export function bridgeName<C extends string>(channel: C): BridgeName<C> {
  return channel.replace(/\.(.)/g, (_, c: string) => c.toUpperCase()) as BridgeName<C>;
}

/** The `window.pos` function of each channel. */
export const BRIDGE_FUNCTIONS = Object.freeze(Object.fromEntries(CHANNEL_NAMES.map((c) => [c, bridgeName(c)]))) as { readonly [C in Channel]: BridgeName<C> };

export const isChannel = (name: unknown): name is Channel => typeof name === 'string' && (CHANNEL_NAMES as readonly string[]).includes(name);
export const isEventName = (name: unknown): name is EventName => typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);
