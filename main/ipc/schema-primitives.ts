/**
 * The contract's building blocks: bounded ids, counts, amounts, order numbers
 * and PINs, shared by the view schemas and the channel inputs. zod only.
 */
import { z } from 'zod';
import { CLIENT_SN_MESSAGE, fitsClientSn, ORDER_SN_MESSAGE, ORDER_SN_PATTERN } from '../common/order-sn';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** A real calendar date written `YYYY-MM-DD` (the business day, UTC+8). */
export const daySchema = z
  .string()
  .regex(DAY, 'expected YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
  }, 'not a calendar day');
export const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const count = z.number().int().min(0);
export const ms = z.number().int();
export const cents = z.number().int();
export const orderSn = z.string().regex(ORDER_SN_PATTERN, ORDER_SN_MESSAGE);
export const clientSn = z.string().min(1).max(32).refine(fitsClientSn, CLIENT_SN_MESSAGE);
/** A PIN: 4-8 digits. Never echoed in an error, never logged. */
export const pin = z.string().regex(/^\d{4,8}$/, 'expected 4-8 digits');
export const operatorName = z.string().min(1).max(32);
/** A supervisor's PIN typed into the confirmation of a money operation. */
export const approvalInputSchema = z.strictObject({ operatorId: id, pin });
export const empty = z.strictObject({});
