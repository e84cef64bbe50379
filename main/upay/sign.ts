/**
 * Upay v2 request signing: sign = md5(body_bytes + key), lowercase hex, over
 * exactly the bytes sent; header `Authorization: <sn> <sign>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export function sign(body: string | Buffer, key: string): string {
  return createHash('md5').update(body).update(key, 'utf8').digest('hex');
}

export function authorization(sn: string, body: string | Buffer, key: string): string {
  return `${sn} ${sign(body, key)}`;
}

/** Case-insensitive constant-time check of a received signature. */
export function verify(body: string | Buffer, key: string, signature: string): boolean {
  const expected = Buffer.from(sign(body, key), 'ascii');
  const got = Buffer.from(signature.toLowerCase(), 'ascii');
  return got.length === expected.length && timingSafeEqual(got, expected);
}
