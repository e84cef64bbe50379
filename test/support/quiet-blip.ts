/**
 * A harness whose own runtime stands still (another process on the data dir
 * that does nothing by itself), and a runtime behind a switchable TCP proxy
 * whose retries, polls and re-check are all a minute out: within a test, only
 * what the test does (and the connectivity signal) sends anything.
 */
import type { Runtime, RuntimeOptions } from '../../main/runtime';
import { createChaosProxy, type ChaosProxy } from './chaos-net';
import { createHarness, FAST_TIMING, type Harness } from './harness';

export const MINUTE = 60_000;

export async function quietBehindBlip(options: Partial<RuntimeOptions> = {}): Promise<{ h: Harness; blip: ChaosProxy; rt: Runtime }> {
  const h = await createHarness();
  h.rt.recheck.stop();
  for (const k of [h.rt.revokes, h.rt.refunds, h.rt.payments]) k.stop();
  const blip = await createChaosProxy(h.sandbox.gateway.port);
  const rt = h.runtime({
    apiDomain: blip.url,
    timeoutMs: 2_000,
    timing: { ...FAST_TIMING, firstQueryMs: MINUTE, queryEveryMs: MINUTE, pendingWindowMs: 2 * MINUTE, backoffBaseMs: MINUTE, backoffCapMs: MINUTE },
    recheck: { everyMs: MINUTE, probeEveryMs: MINUTE },
    ...options,
  });
  return { h, blip, rt };
}
