/** Chaos: SIGKILLs of a worker taking payments under random faults (see test/support/chaos-pay.ts). */
import { describe, expect, it } from 'vitest';
import { runPayCrashLoop } from '../support/chaos-pay';

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const KILLS = Number(process.env.CHAOS_PAY_KILLS ?? 60);

describe('chaos: payments under SIGKILL and network faults', () => {
  it(`${KILLS} kills: 0 one-sided transactions, 0 double charges, 0 paid records the gateway does not show PAID`, async () => {
    const r = await runPayCrashLoop({ kills: KILLS, seed: SEED, log: (l) => console.log(l) });
    console.log(
      `chaos-pay: seed=${r.seed} kills=${r.kills} attempts=${r.attempts} paid=${r.paid} canceled=${r.canceled} returned=${r.returned} failed=${r.failed} ` +
        `one_sided=${r.oneSided.length} double_charges=${r.doubleCharges.length} mismatches=${r.mismatches.length} open=${r.open} elapsed_ms=${r.elapsedMs}`,
    );
    expect(r.kills).toBeGreaterThanOrEqual(KILLS);
    expect(r.attempts).toBeGreaterThan(0);
    expect(r.oneSided).toEqual([]);
    expect(r.doubleCharges).toEqual([]);
    expect(r.mismatches).toEqual([]);
    expect(r.open).toBe(0);
  });
});
