/**
 * Shared setup of the payment tests: the fast pay clocks, the cashier a
 * payment is recorded for, a customer's barcode payment, the recheck kept
 * quiet, and the fixed inputs of the payment receipts.
 */
import { afterEach } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { businessDayStart, type Clock } from '../../main/common/time';
import type { PaymentInput } from '../../main/operations/pay/request';
import type { PayTiming } from '../../main/operations/pay/timing';
import type { PaymentReceiptSource } from '../../main/printer/pay-receipt';
import type { RuntimeOptions } from '../../main/runtime';
import { createHarness, type Harness } from './harness';

/** Fast clocks for a barcode payment: queried every 50 ms for 0.5 s, cancels tried 3 times. */
export const FAST_BARCODE_PAY: Partial<PayTiming> = {
  payWindowMs: 500,
  payQueryEveryMs: 50,
  cancelRetryMs: 30,
  cancelRetryCapMs: 100,
  maxCancels: 3,
  attentionEveryMs: 150,
  leaseMs: 2_000,
};

/** FAST_BARCODE_PAY with fast QR clocks too; `changes` replace some of them. */
export function fastPay(changes: Partial<PayTiming> = {}): Partial<PayTiming> {
  return { ...FAST_BARCODE_PAY, qrFastMs: 30, qrFastForMs: 150, qrSlowMs: 60, qrLifetimeMs: 500, ...changes };
}

/** The recheck worker kept out of the way (every 10 min). */
export const QUIET_RECHECK = { everyMs: 600_000, probeEveryMs: 600_000 } as const;

/** Creates a harness (on `clock` when given) whose runtime has `runtime`; the one a test made is closed after it. */
export function harnessPerTest(runtime: Partial<RuntimeOptions>): (clock?: Clock) => Promise<Harness> {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  return async (clock) => (h = await createHarness({ clock, runtime }));
}

/** The cashier a payment is recorded for. */
export const WHO: Accountable = { operatorId: null, operatorName: '收银员 1', approverId: null, approverName: null };

/** A customer's WeChat payment code. */
export const CUSTOMER_BARCODE = '134567890123456789';

/** A barcode payment of `amountCents` with CUSTOMER_BARCODE. */
export const barcodePayment = (amountCents = 1234): PaymentInput => ({ amountCents, method: 'barcode', barcode: CUSTOMER_BARCODE });

/** The payment states a payment ends in. */
export const FINAL = ['paid', 'failed', 'canceled'];

// ------------------------------------------------------------ receipts

/** The receipts' fixed clock: 10:00 on 2026-12-06. */
export const RECEIPT_T = businessDayStart('2026-12-06') + 10 * 3_600_000;

export const RECEIPT_TERMINAL: PaymentReceiptSource['terminal'] = { terminalSn: '10298371039', merchantName: '沙箱商户', storeSn: 'S001', storeName: '沙箱一号店' };

/** A ￥1234.50 WeChat payment by 收银员 1 ended a minute after RECEIPT_T; `paidAt` given. */
export const receiptPayment = (paidAt: number | null): PaymentReceiptSource['payment'] => ({
  id: 7,
  clientSn: 'PMIXYZ123ABCDEF012345',
  orderSn: '7894259244061958',
  tradeNo: '4200001234567890123456789012',
  amountCents: 123450,
  payway: '3',
  paywayName: '微信',
  operatorName: '收银员 1',
  paidAt,
  finalAt: RECEIPT_T + 60_000,
});
