/**
 * Signing in for handler tests: operators made the way store IT makes them
 * (the runtime's service, trusted), then a real `session.signIn` through the
 * handlers from one window. The handlers come back bound to that window, so
 * a test calls `h['orders.list']({})` as the signed-in operator; the policy
 * itself is untouched.
 */
import type { Result } from '../../main/ipc/contract';
import { createHandlerSet, type HandlerOptions, type Handlers, type HandlerSet } from '../../main/ipc/handlers';
import type { Caller } from '../../main/operators/sessions';
import type { Role } from '../../main/operators/service';
import type { Runtime } from '../../main/runtime';
import type { Clock } from '../../main/common/time';
import { createHarness, type Harness } from './harness';

/** A clock a test moves forward (sessions idle out or reach their lifetime, lockouts lapse); the sandbox may share it. */
export class ShiftClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

/** The same PINs as the sandbox's operators (main/electron/boot.ts), so a test signs in as either. */
export const TEST_PINS: Record<Role, string> = { cashier: '1111', supervisor: '2222', store_it: '9999' };

let windows = 100;
/** A fresh window id (a webContents id in the app). */
export const newWindow = (): Caller => ({ windowId: windows++ });

/** The operator named `name` with that role (made once per data dir), with the role's test PIN. */
export async function ensureOperator(rt: Runtime, role: Role, name = `test-${role}`): Promise<number> {
  const found = rt.operators.list().find((o) => o.name === name && o.active);
  if (found) return found.id;
  return (await rt.operators.add({ name, role, pin: TEST_PINS[role] }, 'test')).id;
}

/** Handlers bound to one window; `caller` is that window. */
export type BoundHandlers = Handlers & { readonly caller: Caller; readonly set: HandlerSet };

export function bind(set: HandlerSet, caller: Caller): BoundHandlers {
  const bound = Object.fromEntries(Object.entries(set.handlers).map(([c, h]) => [c, (input: unknown) => (h as (i: unknown, c?: Caller) => unknown)(input, caller)]));
  return Object.assign(bound, { caller, set }) as unknown as BoundHandlers;
}

/** Signs `role` in at a new window of `set` (or of new handlers for `rt`) and returns the handlers bound to it. */
export async function signIn(rt: Runtime, setOrOptions: HandlerSet | HandlerOptions, role: Role = 'store_it', name?: string): Promise<BoundHandlers> {
  const set = 'handlers' in setOrOptions ? setOrOptions : createHandlerSet(rt, setOrOptions);
  const operatorId = await ensureOperator(rt, role, name);
  const caller = newWindow();
  const r = await set.handlers['session.signIn']({ operatorId, pin: TEST_PINS[role] }, caller);
  if (!r.ok) throw new Error(`sign-in failed: ${r.error.code} ${r.error.message}`);
  return bind(set, caller);
}

/** `createHandlers` for a test that acts as store IT (every channel allowed). */
export const signedInHandlers = (rt: Runtime, options: HandlerOptions, role: Role = 'store_it'): Promise<BoundHandlers> => signIn(rt, options, role);

/** The handler options every handler test uses (sandbox mode, no vendor key). */
export const TEST_HANDLER_OPTIONS: HandlerOptions = { mode: 'sandbox', version: 'test', vendor: null, actor: 'test' };

/** A fresh harness (runtime, sandbox gateway, printer) and its handler set, on `clock` when a test moves time. */
export async function harnessWithHandlers(clock?: Clock): Promise<{ h: Harness; set: HandlerSet }> {
  const h = await createHarness(clock ? { clock } : {});
  return { h, set: createHandlerSet(h.rt, TEST_HANDLER_OPTIONS) };
}

/** A handler's value; a refused call throws `expected <what>, got <code> <message>`. */
export function okValue<T>(r: Result<T>, what: string): T {
  if (!r.ok) throw new Error(`expected ${what}, got ${r.error.code} ${r.error.message}`);
  return r.value;
}
