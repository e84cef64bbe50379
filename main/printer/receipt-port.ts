/**
 * The receipt hand-off the money-operation skeleton is given (printer/ owns
 * it: operations/ depends on the printer, never the other way round): the receipt's print
 * job is queued inside the transaction that records the outcome (so a
 * recorded success always has its receipt), and the printer is woken only
 * after that transaction commits.
 */
export interface ReceiptPort<Stored> {
  /** Runs inside the transaction that records the outcome, with the rows as stored in it. */
  queue(stored: Stored, now: number): void;
  /** Runs after that commit. */
  wake(): void;
}
