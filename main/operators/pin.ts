/**
 * PIN hashes: scrypt (node:crypto) with a per-operator random salt, the cost
 * stored with the hash. The default cost makes one verification take about
 * 50-150 ms on a counter PC (the bench's "PIN verify" row measures it): a PIN
 * has at most 10^8 values, so the cost and the lockout are what stand between
 * a stolen database file and every PIN. Hashing runs on the scrypt lane
 * (scrypt-lane.ts: dedicated worker threads), so the main process keeps
 * answering and libuv's thread pool stays free for DNS and file I/O.
 */
import crypto from 'node:crypto';
import { scryptOnLane } from './scrypt-lane';

export interface ScryptCost {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/**
 * 2^14 × 8 × 3, 16 MiB per check: about 50-150 ms per verification on the
 * machines we target (68 ms on the 2026-12-07 machine, where p=2 had dropped
 * to 45 ms, under the bench's 50 ms; p=2 measured 65-77 ms on slower ones,
 * so p=3 lands near 100-115 ms there). p (sequential passes) rather than N=2^15:
 * a 32 MiB block is above glibc's largest mmap threshold, so every check mapped
 * and faulted in fresh pages and took 3-8x longer than its work (190-290 ms
 * measured here, against 35-100 ms for 16 MiB). Hashes keep their own cost,
 * so PINs set under the old default still verify.
 */
export const DEFAULT_PIN_COST: ScryptCost = { N: 2 ** 14, r: 8, p: 3 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PIN_PATTERN = /^\d{4,8}$/;

export const isPinShaped = (pin: unknown): pin is string => typeof pin === 'string' && PIN_PATTERN.test(pin);

function derive(pin: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  // maxmem: scrypt needs 128·N·r bytes; Node's default (32 MiB) is just short of the default cost.
  return scryptOnLane({ password: pin, salt, keylen: KEY_BYTES, options: { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 } });
}

/** `scrypt$N$r$p$salt$hash`, base64 parts. */
export async function hashPin(pin: string, cost: ScryptCost = DEFAULT_PIN_COST): Promise<string> {
  if (!isPinShaped(pin)) throw new RangeError('a PIN is 4-8 digits');
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await derive(pin, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `pin` matches `stored` (constant-time compare); false for a malformed stored hash. */
export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(typeof pin === 'string' ? pin : '', salt, { N, r, p });
  return crypto.timingSafeEqual(key, expected);
}
