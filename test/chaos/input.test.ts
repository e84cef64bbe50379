/** Chaos: ≥ 10,000 generated bad payloads over every IPC channel and every CLI flag (see test/support/chaos-fuzz.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClean, fuzzFixture, runCliFuzz, runIpcFuzz, runPolicyFuzz, type FuzzFixture, type FuzzResult } from '../support/chaos-fuzz';

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
let fx: FuzzFixture;
const results: FuzzResult[] = [];
beforeAll(async () => {
  fx = await fuzzFixture();
});
afterAll(async () => {
  await fx?.close();
  const payloads = results.reduce((s, r) => s + r.payloads, 0);
  const bad = (k: 'crashes' | 'untyped' | 'stateChanges') => results.reduce((s, r) => s + r[k].length, 0);
  console.log(`chaos-input: seed=${SEED} payloads=${payloads} crashes=${bad('crashes')} untyped=${bad('untyped')} state_changes=${bad('stateChanges')} unhandled=${results.reduce((s, r) => s + r.unhandled, 0)}`);
});

describe('chaos: bad input', () => {
  it('IPC: 10,000 payloads over every channel (the operators\' channels among them), as signed-in store IT', async () => {
    const r = await runIpcFuzz(fx, { runs: 10_000, seed: SEED });
    results.push(r);
    console.log(`chaos-input ipc: payloads=${r.payloads} refused=${r.refused} accepted=${r.accepted} crashes=${r.crashes.length} untyped=${r.untyped.length} state_changes=${r.stateChanges.length} elapsed_ms=${r.elapsedMs}`);
    expectClean(r);
  });
  it('IPC policy: 3,000 payloads from no session and from a cashier, all refused, zero state changes', async () => {
    const r = await runPolicyFuzz(fx, { runs: 3_000, seed: SEED });
    results.push(r);
    console.log(`chaos-input policy: payloads=${r.payloads} refused=${r.refused} crashes=${r.crashes.length} untyped=${r.untyped.length} state_changes=${r.stateChanges.length} elapsed_ms=${r.elapsedMs}`);
    expectClean(r);
  });
  it('CLI: 2,500 argv over every command and flag', async () => {
    const r = await runCliFuzz(fx, { runs: 2_500, seed: SEED });
    results.push(r);
    console.log(`chaos-input cli: payloads=${r.payloads} refused=${r.refused} loose=${r.accepted} crashes=${r.crashes.length} untyped=${r.untyped.length} state_changes=${r.stateChanges.length} elapsed_ms=${r.elapsedMs}`);
    expectClean(r);
    expect(results.reduce((s, x) => s + x.payloads, 0)).toBeGreaterThanOrEqual(10_000);
  });
});
