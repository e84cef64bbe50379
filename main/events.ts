/** Typed runtime events: what the IPC layer pushes to windows and the CLI prints as progress. */
import { EventEmitter } from 'node:events';
import type { Revoke } from './domain';
import type { Payment } from './store/payments';
import type { Refund } from './store/refunds';

/**
 * Open money operations counted. `queue.changed` and `queue.status` carry the counter's: every kind's (revoke, refund,
 * pay) rows summed (main/operations/signals.ts CounterQueue); a kind's `queueStatus()` counts that kind's rows only.
 */
export interface QueueStatus {
  queued: number;
  pending: number;
  sending: number;
  needsAttention: number;
  /** Age in ms of the oldest operation not yet final (of any kind counted), or null. */
  oldestAgeMs: number | null;
  /** Whether the gateway is reachable (the runtime's one connectivity). */
  online: boolean;
}

export interface RuntimeEventMap {
  'revoke.updated': [Revoke];
  'revoke.warning': [{ revoke: Revoke; deadlineAt: number; messageZh: string; messageEn: string }];
  /** The counter's queue (every kind's rows), at most once per turn of the event loop. */
  'queue.changed': [QueueStatus];
  'connectivity.changed': [{ online: boolean; at: number }];
  'printer.changed': [{ status: string; detail: string | null }];
  'print.updated': [{ jobId: number; state: string; error: string | null }];
  // --- refunds
  'refund.updated': [Refund];
  // --- payments
  'payment.updated': [Payment];
  /** Orders another process recorded, imported or changed (main/operations/watch-others.ts); this process's own changes come with the events above. */
  'orders.changed': [{ sns: string[] }];
}

export type RuntimeEventName = keyof RuntimeEventMap;

export class RuntimeEvents extends EventEmitter<RuntimeEventMap> {}
