/**
 * Shared setup of the whole-app (Chromium) payment suites: the terminal
 * activated and checked in, the sandbox gateway's HTTP control endpoints, a
 * scanner, customers' payment codes, and the 800×600 layout checks.
 */
import { expect } from 'vitest';
import type { PayTiming } from '../../main/operations/pay/timing';
import type { RuntimeOptions } from '../../main/runtime';
import { startApp, type AppEnv } from '../e2e/harness';
import { LAYOUT_PROBE, type LayoutProbe } from '../e2e/layout';

/** The payment suites' window: the smallest a counter screen is. */
export const SMALL = { width: 800, height: 600 };

/** Short clocks for a suite: QR polled every 0.3 s for 3 s then every 0.5 s; cancels retried at 0.1-0.2 s; leases of 5 s. */
const E2E_PAY_TIMING = { qrFastMs: 300, qrFastForMs: 3000, qrSlowMs: 500, cancelRetryMs: 100, cancelRetryCapMs: 200, attentionEveryMs: 600_000, leaseMs: 5000 };

/**
 * The whole app at 800×600 signed in as a cashier, its terminal activated as `deviceId`, on the 收款 tab's
 * screen: `payTiming` completes the suite's clocks; `runtime` adds options (a checkpoint hook); `before`
 * runs before activation (an operator created).
 */
export async function startPayApp(
  deviceId: string,
  payTiming: Pick<PayTiming, 'payWindowMs' | 'payQueryEveryMs' | 'qrLifetimeMs' | 'maxCancels'>,
  options: { runtime?: Partial<RuntimeOptions>; before?: (env: AppEnv) => Promise<void> } = {},
): Promise<AppEnv> {
  const env = await startApp({ viewport: SMALL, deviceId, role: 'cashier', runtime: { ...options.runtime, payTiming: { ...E2E_PAY_TIMING, ...payTiming } } });
  await options.before?.(env);
  await activateTerminal(env, deviceId);
  await env.page.goto(env.server.url);
  await env.page.waitForSelector('[data-tab="pay"]');
  return env;
}

/** Activates the terminal as `deviceId` with the sandbox's first activation code, then checks in. */
export async function activateTerminal(env: AppEnv, deviceId: string): Promise<void> {
  const v = env.sandbox.gateway.vendor;
  await env.rt.terminal.activate({ appId: v.appId, code: env.sandbox.gateway.activationCodes()[0]!, deviceId, vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'e2e');
  await env.rt.terminal.checkin('e2e');
}

/** The sandbox's controls and a scanner for the app `env()` (read when called: it is started in beforeAll). */
export function payDesk(env: () => AppEnv, firstCode: number) {
  let code = firstCode;
  return {
    /** POST /sandbox/<what> (a fault, the customer's payment), answered 200. */
    control: async (what: string, body: unknown): Promise<void> => {
      const res = await fetch(`${env().sandbox.gateway.url}/sandbox/${what}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, what).toBe(200);
    },
    /** Pay and precreate requests the gateway has seen. */
    payCalls: (): number => env().sandbox.gateway.log().filter((e) => e.endpoint === 'pay' || e.endpoint === 'precreate').length,
    /** A WeChat payment code: 18 digits from 13. */
    customerCode: (): string => String(code++),
    /** A scanner: the code's keys and Enter in one burst (counter.test.ts's way). */
    scan: async (value: string): Promise<void> => {
      await env().page.evaluate(`(() => {
      for (const key of [...${JSON.stringify(value)}, 'Enter']) {
        const target = document.activeElement || document.body;
        target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
      }
    })()`);
    },
  };
}

/** After two frames: nothing outside the window, clipped or too small to tap, and `.main` not scrolling (`fits` names that check). */
export async function expectFitsWindow(page: AppEnv['page'], name: string, fits: string): Promise<void> {
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  const layout = (await page.evaluate(LAYOUT_PROBE)) as LayoutProbe;
  expect(layout.scrollWidth, name).toBeLessThanOrEqual(layout.innerWidth);
  expect(layout.outside, name).toEqual([]);
  expect(layout.clipped, name).toEqual([]);
  expect(layout.small, name).toEqual([]);
  const overflowY = (await page.evaluate('document.querySelector(".main").scrollHeight - document.querySelector(".main").clientHeight')) as number;
  expect(overflowY, fits).toBeLessThanOrEqual(1);
}
