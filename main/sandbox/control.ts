/**
 * The sandbox's control surface for people and tests outside the process
 * (`upay-pos sandbox`, the hidden acceptance, the demo): let a customer pay a
 * precreated QR, queue a fault, and read the per-`client_sn` counters (pay
 * and precreate requests, cancels, queries, whether money was taken and
 * returned). Plain JSON on `/sandbox/...`, loopback only like the gateway;
 * never part of the Upay protocol.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Fault } from './faults';
import type { SandboxEndpoint } from './gateway-state';
import { JSON_TYPE, readBody, tryParse, writeBody, NOT_JSON } from './http';

/** What one client_sn saw: requests per endpoint (whatever their fate) and the money's path. */
export interface PaymentCounters {
  clientSn: string;
  pay: number;
  precreate: number;
  cancel: number;
  revoke: number;
  query: number;
  /** The order as the gateway holds it now, or null when it never reached the gateway. */
  orderStatus: string | null;
  /** Money was taken from the customer at some point. */
  moneyTaken: boolean;
  /** Money taken was given back by a cancel or revoke. */
  moneyReturned: boolean;
}

/** Counts requests per client_sn from the logged body (also for requests that were dropped or hung). */
export class RequestCounters {
  private readonly byClientSn = new Map<string, Record<string, number>>();

  note(endpoint: SandboxEndpoint, body: unknown, clientSn: string | undefined): void {
    const fromBody = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).client_sn : undefined;
    const key = typeof fromBody === 'string' && fromBody !== '' ? fromBody : clientSn;
    if (key === undefined) return;
    const c = this.byClientSn.get(key) ?? {};
    c[endpoint] = (c[endpoint] ?? 0) + 1;
    this.byClientSn.set(key, c);
  }

  count(clientSn: string, endpoint: SandboxEndpoint): number {
    return this.byClientSn.get(clientSn)?.[endpoint] ?? 0;
  }
}

export interface ControlTarget {
  customerPays(ref: string): unknown;
  inject(endpoint: SandboxEndpoint | '*', fault: Fault, count?: number): void;
  counters(clientSn: string): PaymentCounters;
}

function send(res: ServerResponse, status: number, doc: unknown): void {
  writeBody(res, status, JSON_TYPE, Buffer.from(JSON.stringify(doc), 'utf8'));
}

/** Handles `/sandbox/*`; true when the path was a control path. */
export async function handleControl(path: string, req: IncomingMessage, res: ServerResponse, target: ControlTarget): Promise<boolean> {
  if (!path.startsWith('/sandbox/')) return false;
  const url = new URL(req.url ?? '/', 'http://sandbox');
  if (req.method === 'GET' && path === '/sandbox/counters') {
    const clientSn = url.searchParams.get('client_sn');
    if (!clientSn) send(res, 400, { error: 'client_sn is required' });
    else send(res, 200, target.counters(clientSn));
    return true;
  }
  const read = await readBody(req, 16 * 1024, 64 * 1024);
  if (read === undefined) return true;
  const body = tryParse(read.body);
  const doc = body === NOT_JSON || typeof body !== 'object' || body === null ? {} : (body as Record<string, unknown>);
  try {
    if (req.method === 'POST' && path === '/sandbox/customer-pay') {
      const ref = typeof doc.client_sn === 'string' ? doc.client_sn : typeof doc.sn === 'string' ? doc.sn : '';
      send(res, 200, { ok: true, order: target.customerPays(ref) });
    } else if (req.method === 'POST' && path === '/sandbox/fault') {
      const count = typeof doc.count === 'number' ? doc.count : 1;
      target.inject(String(doc.endpoint ?? '*') as SandboxEndpoint, doc.fault as Fault, count);
      send(res, 200, { ok: true });
    } else {
      send(res, 404, { error: `unknown control ${req.method ?? ''} ${path}` });
    }
  } catch (err) {
    send(res, 409, { error: (err as Error).message });
  }
  return true;
}
