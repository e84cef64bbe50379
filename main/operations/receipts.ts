/** The receipt hand-off of the skeleton (printer/receipt-port.ts owns the type: the printer never imports operations/). */
export type { ReceiptPort } from '../printer/receipt-port';
