/** Upay order numbers: `sn` is the gateway's (digits only), `client_sn` the merchant's. */

/** An order sn as the gateway's schema allows it: 1-16 digits. */
export const ORDER_SN_PATTERN = /^\d{1,16}$/;
export const ORDER_SN_MESSAGE = 'sn must be 1-16 digits';

/** A complete sn, as the gateway issues it (16 digits). */
export function isFullOrderSn(text: string): boolean {
  return /^\d{16}$/.test(text);
}

/** Something that can only be a merchant's client_sn: printable ASCII, 4-32 long, not all digits. */
export function isClientSnLike(text: string): boolean {
  return /^[\x21-\x7e]{4,32}$/.test(text) && !/^\d+$/.test(text);
}

/** The documents count a client_sn in bytes: at most 32 in UTF-8 (a Chinese character takes 3). */
export const CLIENT_SN_MAX_BYTES = 32;
export const CLIENT_SN_MESSAGE = 'client_sn must be at most 32 bytes (UTF-8; a Chinese character takes 3)';
const utf8 = new TextEncoder();
export function fitsClientSn(text: string): boolean {
  return utf8.encode(text).length <= CLIENT_SN_MAX_BYTES;
}
