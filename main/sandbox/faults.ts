/**
 * Switchable faults of the sandbox gateway: transport faults (the answer is
 * delayed, lost, cut or replaced) and business faults (./actions.ts: the
 * gateway answers an in-progress, unknown or refused result), queued per
 * endpoint; and the shape of the request log.
 */
import { BUSINESS_FAULT_ENDPOINTS, type BusinessFault } from './actions';
import type { SandboxEndpoint } from './gateway-state';

export type Fault =
  /** Apply the effect at once, answer normally after `ms`. */
  | { kind: 'delay'; ms: number }
  /** Destroy the socket without applying the effect. */
  | { kind: 'drop_before' }
  /** Apply the effect, then destroy the socket without answering. */
  | { kind: 'drop_after' }
  /** Never answer, keep the socket open; no effect. Released by close(). */
  | { kind: 'hang' }
  /** Apply the effect, send headers and half the body, then destroy the socket. */
  | { kind: 'reset_mid_body' }
  /** HTTP 500 with an HTML page (a proxy in the way); no effect. */
  | { kind: 'http500_html' }
  /** Apply the effect, answer HTTP 200 with a truncated JSON body. */
  | { kind: 'malformed_json' }
  /** Top-level error envelope (e.g. 500 MAINTENANCE_INPROGRESS); no effect. */
  | { kind: 'envelope'; resultCode: '400' | '500'; errorCode: string; errorMessage?: string }
  | BusinessFault;

export type FaultKind = Fault['kind'];

export interface QueuedFault {
  endpoint: SandboxEndpoint | '*';
  fault: Fault;
  remaining: number;
}

export interface LogEntry {
  seq: number;
  /** Injected clock, Unix ms. */
  at: number;
  endpoint: SandboxEndpoint;
  /** The sn of the Authorization header, when there was one. */
  authSn?: string;
  /** Parsed JSON object, or the raw text when it was not JSON. */
  body: unknown;
  fault?: FaultKind;
  /** Whether a state change was applied (terminal created, key rotated, order created/voided/refunded). */
  effect: boolean;
  /** HTTP status written; absent when nothing was written (drop, hang). */
  httpStatus?: number;
  /** Envelope result_code as computed (also when a fault then mangled the answer). */
  resultCode?: string;
  bizResultCode?: string;
  /** Top-level error_code, or else biz error_code. */
  errorCode?: string;
  sn?: string;
  clientSn?: string;
  terminalSn?: string;
}

export function isBusinessFault(f: Fault | undefined): f is BusinessFault {
  return f !== undefined && f.kind in BUSINESS_FAULT_ENDPOINTS;
}

export class FaultQueue {
  private readonly queue: QueuedFault[] = [];

  push(endpoint: SandboxEndpoint | '*', fault: Fault, count: number): void {
    if (isBusinessFault(fault)) {
      const allowed = BUSINESS_FAULT_ENDPOINTS[fault.kind];
      if (!allowed.includes(endpoint)) throw new TypeError(`sandbox: fault ${fault.kind} applies to ${allowed.join('/')} only, not ${endpoint}`);
    }
    if (!(count >= 1)) throw new RangeError(`sandbox: fault count must be >= 1, got ${count}`);
    this.queue.push({ endpoint, fault: { ...fault }, remaining: count });
  }

  /** The next fault for `endpoint`: its own queue goes before the catch-all one. */
  take(endpoint: SandboxEndpoint): Fault | undefined {
    const i = this.queue.findIndex((q) => q.endpoint === endpoint);
    const j = i >= 0 ? i : this.queue.findIndex((q) => q.endpoint === '*');
    const q = this.queue[j];
    if (!q) return undefined;
    q.remaining -= 1;
    if (q.remaining <= 0) this.queue.splice(j, 1);
    return q.fault;
  }

  clear(): void {
    this.queue.length = 0;
  }

  pending(): QueuedFault[] {
    return this.queue.map((q) => ({ ...q, fault: { ...q.fault } }));
  }
}

export function defaultMessage(code: string): string {
  if (code === 'MAINTENANCE_INPROGRESS') return '系统维护中，请稍后再试';
  if (code === 'UNKNOWN_SYSTEM_ERROR') return '系统错误';
  return code;
}

export const HTML_500 =
  '<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>' +
  '<body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>\n';
