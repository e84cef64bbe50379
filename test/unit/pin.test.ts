/**
 * PIN hashes keep their own cost: a hash made under the earlier default
 * (N=2^15, r=8, p=1) still verifies after the default moved to N=2^14, r=8,
 * p=2 (the same work in half the memory) and then p=3 (the check had dropped
 * under 50 ms on a faster machine), and new hashes carry the new cost.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIN_COST, hashPin, verifyPin } from '../../main/operators/pin';

/** PIN 482913 under the earlier default, with a fixed salt. */
const OLD_DEFAULT_HASH = 'scrypt$32768$8$1$ABEiM0RVZneImaq7zN3u/w==$SRa8iIEzEh/RWFsliVO9TkbPatg/ahbJVSen9Vum3CE=';

describe('PIN hashes', () => {
  it('a PIN hashed under the earlier default (2^15, 8, 1) still verifies; a wrong one does not', async () => {
    expect(await verifyPin('482913', OLD_DEFAULT_HASH)).toBe(true);
    // And one under the 2026-12 default (2^14, 8, 2).
    expect(await verifyPin('482913', await hashPin('482913', { N: 2 ** 14, r: 8, p: 2 }))).toBe(true);
    expect(await verifyPin('482914', OLD_DEFAULT_HASH)).toBe(false);
  });

  it('new hashes carry the default cost: 2^14 × 8 × 3, 16 MiB per check', async () => {
    expect(DEFAULT_PIN_COST).toEqual({ N: 2 ** 14, r: 8, p: 3 });
    const stored = await hashPin('482913');
    expect(stored.split('$').slice(0, 4)).toEqual(['scrypt', '16384', '8', '3']);
    expect(await verifyPin('482913', stored)).toBe(true);
  });

  it('a malformed stored hash never verifies', async () => {
    for (const bad of ['', 'scrypt$0$8$1$AA==$AA==', 'bcrypt$16384$8$2$AA==$AA==', OLD_DEFAULT_HASH.replace('$8$1$', '$8$x$'), OLD_DEFAULT_HASH.slice(0, -4)]) {
      expect(await verifyPin('482913', bad), bad).toBe(false);
    }
  });
});
