/**
 * Reliability, light part (runs in `npm test`): a few dozen randomised
 * network-fault sequences against the sandbox (the chaos suite runs 200+).
 * Seed: RELIABILITY_SEED, else a fixed one so `npm test` is reproducible.
 */
import { describe, expect, it } from 'vitest';
import { runNetworkChaos } from '../support/chaos-network';

const SEED = Number(process.env.RELIABILITY_SEED ?? 20260522);

describe('reliability: network faults (light)', () => {
  it('after 30 random fault sequences over 50 orders, local state equals the gateway and nothing was voided twice', async () => {
    const r = await runNetworkChaos({ sequences: 30, seed: SEED, settleMs: 10_000 });
    console.log(
      `reliability-network: seed=${r.seed} sequences=${r.sequences} steps=${r.steps} requests=${r.requests} orders=${r.orders} ` +
        `mismatches=${r.mismatches.length} double_effects=${r.doubleEffects.length} thrown=${r.thrown.length} unsettled=${r.unsettled} ` +
        `needs_attention_paid=${r.needsAttentionPaid} connect_hang=${r.connectHangAchieved} elapsed_ms=${r.elapsedMs}`,
    );
    console.log(`reliability-network: gateway saw ${JSON.stringify(r.gatewaySaw)}; outcomes ${JSON.stringify(r.outcomes)}`);
    expect(r.thrown).toEqual([]);
    expect(r.doubleEffects).toEqual([]);
    expect(r.doubleRefunds).toEqual([]);
    expect(r.refundSequences).toBeGreaterThan(0);
    expect(r.mismatches).toEqual([]);
    expect(r.final.mismatches).toEqual([]);
    expect(r.unsettled).toBe(0);
    expect(r.sequences).toBe(30);
  }, 60_000);
});
