/**
 * Attack: a burst of PIN checks starves the gateway. Node's async scrypt
 * runs on libuv's thread pool, which DNS lookups and file I/O share; 60
 * checks there queued a dns.lookup behind all of them. PIN hashing runs on
 * its own lane (worker threads), so a lookup or a file read issued during a
 * burst is answered before the burst is through. (The timing, a revoke's
 * gateway call with 60 concurrent sign-ins, is a bench row: `BENCH_ONLY=pinload`.)
 */
import dns from 'node:dns';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashPin, verifyPin } from '../../main/operators/pin';

const CHECKS = 60;

describe('PIN checks leave the thread pool free', () => {
  it('60 PIN checks in flight: a dns.lookup and a file read issued after them are answered before most of the checks end', async () => {
    const stored = await hashPin('482913', { N: 2 ** 14, r: 8, p: 1 });
    let ended = 0;
    const checks = Array.from({ length: CHECKS }, () => verifyPin('000000', stored).then(() => ended++));
    const atLookup = await new Promise<number>((resolve, reject) => dns.lookup('localhost', (err) => (err ? reject(err) : resolve(ended))));
    const atRead = await fs.promises.readFile(__filename).then(() => ended);
    await Promise.all(checks);
    expect(ended).toBe(CHECKS);
    expect(atLookup).toBeLessThan(CHECKS / 4);
    expect(atRead).toBeLessThan(CHECKS / 4);
  });
});
