/** Chaos: ≥ 100 SIGKILLs of a worker revoking, refunding and taking payments on a shared data dir (see test/support/chaos-crash.ts). */
import { describe, expect, it } from 'vitest';
import { runCrashLoop } from '../support/chaos-crash';
import { payTruthLine } from '../support/chaos-pay';

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const KILLS = Number(process.env.CHAOS_KILLS ?? 120);

describe('chaos: SIGKILL at random moments', () => {
  it(`every order is voided exactly once and every payment is settled with the gateway after ${KILLS} kills`, async () => {
    const r = await runCrashLoop({ kills: KILLS, seed: SEED, log: (l) => console.log(l) });
    console.log(
      `chaos-crash: seed=${r.seed} crashes=${r.kills} killed_before_ready=${r.killedBeforeReady} killed_with_fault=${r.killedWithFault} ` +
        `orders=${r.orders} eligible=${r.eligible} revoked_rows=${r.revokedRows} duplicate_revoked_rows=${r.duplicateRevokedRows} ` +
        `double_effects=${r.final.doubleEffects.length} missing_effects=${r.missingEffects.length} effects_on_refused=${r.effectsOnRefused.length} ` +
        `print_job_problems=${r.printJobProblems.length} lost=${r.lost.length} needs_attention=${r.needsAttention.length} mismatches=${r.final.mismatches.length} ` +
        `refund_orders=${r.refundOrders} refunded_rows=${r.refundedRows} double_refunds=${r.doubleRefunds.length} refund_mismatches=${r.refundMismatches.length} elapsed_ms=${r.elapsedMs}`,
    );
    console.log(`chaos-crash: seed=${r.seed} killed_after_ready=${r.killedWithPayments} ${payTruthLine(r.pay)} pay_order_contradictions=${r.payOrderContradictions.length}`);
    console.log(`chaos-crash: final worker: ${r.finalLine}`);
    if (r.needsAttention.length) console.log(`chaos-crash: needs_attention (gateway untouched, re-sends used up): ${r.needsAttention.join(', ')}`);
    expect(r.kills).toBeGreaterThanOrEqual(100);
    expect(r.final.doubleEffects).toEqual([]);
    expect(r.missingEffects).toEqual([]);
    expect(r.effectsOnRefused).toEqual([]);
    expect(r.duplicateRevokedRows).toBe(0);
    expect(r.printJobProblems).toEqual([]);
    expect(r.lost).toEqual([]);
    expect(r.final.mismatches).toEqual([]);
    expect(r.refundOrders).toBeGreaterThan(0);
    expect(r.doubleRefunds).toEqual([]);
    expect(r.refundMismatches).toEqual([]);
    // Payments in the same loop: never one-sided, never charged twice, never recorded paid without PAID at the gateway.
    expect(r.pay.attempts).toBeGreaterThan(0);
    expect(r.pay.oneSided).toEqual([]);
    expect(r.pay.doubleCharges).toEqual([]);
    expect(r.pay.recordedPaidNotPaid).toEqual([]);
    expect(r.pay.contradictions).toEqual([]);
    expect(r.pay.open).toBe(0);
    expect(r.payOrderContradictions).toEqual([]);
  });
});
