/** Chaos: ≥ 200 randomised network-fault sequences over rounds of 50 orders, with payments (see test/support/chaos-network.ts). */
import { describe, expect, it } from 'vitest';
import { runNetworkChaos } from '../support/chaos-network';
import { payTruthLine } from '../support/chaos-pay';

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const SEQUENCES = Number(process.env.CHAOS_SEQUENCES ?? 200);

describe('chaos: network faults', () => {
  it(`${SEQUENCES} sequences: local state equals the gateway, nothing voided or refunded twice, revokes and refunds of one order never both, payments never one-sided or charged twice`, async () => {
    const r = await runNetworkChaos({ sequences: SEQUENCES, seed: SEED, log: (l) => console.log(l) });
    console.log(
      `chaos-network: seed=${r.seed} sequences=${r.sequences} steps=${r.steps} requests=${r.requests} orders=${r.orders} ` +
        `mismatches=${r.mismatches.length + r.final.mismatches.length} double_effects=${r.doubleEffects.length} thrown=${r.thrown.length} ` +
        `unsettled=${r.unsettled} revoked=${r.final.revoked} not_revoked=${r.final.notRevoked} needs_attention_paid=${r.needsAttentionPaid} ` +
        `connect_hang=${r.connectHangAchieved} refund_sequences=${r.refundSequences} refunds_applied=${r.refundsApplied} double_refunds=${r.doubleRefunds.length} ` +
        `mixed_sequences=${r.mixedSequences} refused_by_lock=${r.refusedByLock} refused_by_state=${r.refusedByState} contradictions=${r.contradictions.length} elapsed_ms=${r.elapsedMs}`,
    );
    console.log(
      `chaos-network: seed=${r.seed} pay_sequences=${r.paySequences} sales=${r.sales} charged_again=${r.salesChargedAgain} voids_of_paid_orders=${r.voidsOfPaidOrders} ` +
        `${payTruthLine(r.pay)} pay_findings=${r.payFindings.length}`,
    );
    console.log(`chaos-network: steps ${JSON.stringify(r.stepCounts)}`);
    console.log(`chaos-network: outcomes ${JSON.stringify(r.outcomes)}`);
    console.log(`chaos-network: gateway saw ${JSON.stringify(r.gatewaySaw)}`);
    expect(r.sequences).toBeGreaterThanOrEqual(200);
    expect(r.thrown).toEqual([]);
    expect(r.doubleEffects).toEqual([]);
    expect(r.refundSequences).toBeGreaterThan(0);
    expect(r.doubleRefunds).toEqual([]);
    // Revokes and refunds of the same orders under the order lock: no double effect, no contradictory state.
    expect(r.mixedSequences).toBeGreaterThan(0);
    expect(r.contradictions).toEqual([]);
    expect(r.mismatches).toEqual([]);
    expect(r.final.mismatches).toEqual([]);
    expect(r.unsettled).toBe(0);
    // Payments in the mix: every one settled with the gateway's truth, after each sequence and at the end.
    expect(r.pay.attempts).toBeGreaterThan(0);
    expect(r.voidsOfPaidOrders).toBeGreaterThan(0);
    expect(r.payFindings).toEqual([]);
    expect(r.pay.oneSided).toEqual([]);
    expect(r.pay.doubleCharges).toEqual([]);
    expect(r.pay.recordedPaidNotPaid).toEqual([]);
    expect(r.pay.contradictions).toEqual([]);
    expect(r.pay.open).toBe(0);
  });
});
