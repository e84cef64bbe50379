/**
 * The embedded sandbox Upay gateway: a local HTTP server that speaks the
 * Upay v2 terminal protocol (signatures, key rotation, order states,
 * the same-day revoke rule) so store IT can rehearse and every client/revoke
 * test can talk real HTTP. This module owns the transport: routing, body
 * limits, Authorization checks, injected faults, the request log and the
 * effect ledger. Business rules live in `gateway-state.ts`.
 *
 * Everything a test needs to arrange or observe is a direct method on the
 * returned object (seedOrder, inject, log, effects, ...); see docs/sandbox.md.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';
import { systemClock, type Clock } from '../common/time';
import type { PayLimits } from './actions';
import { defaultMessage, FaultQueue, HTML_500, isBusinessFault, type Fault, type LogEntry, type QueuedFault } from './faults';
import {
  SandboxState,
  type SandboxEndpoint,
  type SandboxOrder,
  type SandboxTerminal,
  type SeedOrderInput,
  type TerminalStatus,
} from './gateway-state';
import { describe, JSON_TYPE, NOT_JSON, parseAuth, readBody, tryParse, writeBody, writeJson } from './http';
import { invalidParams, topError, type AnswerShape, type Outcome } from './wire';
import { handleControl, RequestCounters, type PaymentCounters } from './control';
import { customerPays } from './precreate';

export type { SandboxEndpoint, SandboxOrder, SandboxRefund, SandboxTerminal, SeedOrderInput, TerminalStatus } from './gateway-state';
export type { Fault, FaultKind, LogEntry, QueuedFault } from './faults';
export type { BusinessFault, PayFailCode, PayLimits } from './actions';
export type { PaymentCounters } from './control';

export const SANDBOX_ENDPOINTS: Readonly<Record<string, SandboxEndpoint>> = {
  '/terminal/activate': 'activate',
  '/terminal/checkin': 'checkin',
  '/upay/v2/pay': 'pay',
  '/upay/v2/precreate': 'precreate',
  '/upay/v2/query': 'query',
  '/upay/v2/revoke': 'revoke',
  '/upay/v2/cancel': 'cancel',
  '/upay/v2/refund': 'refund',
};

export const SANDBOX_DEFAULTS = {
  vendorSn: '91801234',
  vendorKey: '5f2b9c7e1d4a8036b9e0c4d7a2f61e58',
  appId: '2026112600000001',
  activationCodes: ['10000001', '10000002', '10000003', '10000004', '10000005'],
} as const;

/** Requests above this many body bytes are refused with INVALID_PARAMS. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Beyond this we stop draining an oversized body and drop the connection. */
const MAX_DRAIN_BYTES = 1024 * 1024;

export interface SandboxGatewayOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  clock?: Clock;
  vendorSn?: string;
  vendorKey?: string;
  appId?: string;
  activationCodes?: string[];
  /** Makes identifiers and keys reproducible. */
  seed?: number;
  /** Where revoke answers put the order fields: under `data` (default) or flat in biz_response. */
  revokeShape?: 'data' | 'flat';
  /** `real` (default): answers as the live gateway sends them (`""` placeholders, `"data": null`, extra fields); `lean`: only the listed fields. */
  answers?: AnswerShape;
  /** Keys expire at the end of the natural day (UTC+8) they were issued on; only a check-in may use an older key. */
  strict?: boolean;
  /** A refund_request_no whose refund failed stays used: sent again it answers FAIL + UPAY_REFUND_ORDER_NOOP and nothing moves. */
  strictRefundNumbers?: boolean;
  /** Payment limits that refuse a pay with the documents' codes. */
  limits?: PayLimits;
  /** Called for every logged request (after the effect, before any delay). Exceptions are ignored. */
  onRequest?: (entry: LogEntry) => void;
}

export interface SandboxGateway {
  /** e.g. `http://127.0.0.1:54321` */
  readonly url: string;
  readonly port: number;
  readonly vendor: { vendorSn: string; vendorKey: string; appId: string };
  /** Stops listening and destroys every socket (hung ones included). */
  close(): Promise<void>;

  /** Activation codes not used yet. */
  activationCodes(): string[];
  /** Adds a code (random 8 digits when omitted) and returns it. */
  addActivationCode(code?: string): string;

  /** Creates a terminal as if activated (no code used, not logged). */
  createTerminal(deviceId?: string): SandboxTerminal;
  terminals(): SandboxTerminal[];
  terminal(terminalSn: string): SandboxTerminal | undefined;

  /** Creates an order as if paid earlier (not logged, not an effect). */
  seedOrder(input: SeedOrderInput): SandboxOrder;
  getOrder(snOrClientSn: string): SandboxOrder | undefined;
  orders(): SandboxOrder[];
  markPromotion(snOrClientSn: string, promotion?: boolean): void;
  /** `abnormal` / `not_exists`: order endpoints answer UPAY_TERMINAL_STATUS_ABNORMAL / UPAY_TERMINAL_NOT_EXISTS. */
  setTerminalStatus(terminalSn: string, status: TerminalStatus): void;

  /** Queues `fault` for the next `count` requests to `endpoint` (Infinity: until cleared). */
  inject(endpoint: SandboxEndpoint | '*', fault: Fault, count?: number): void;
  clearFaults(): void;
  pendingFaults(): QueuedFault[];

  log(): LogEntry[];
  clearLog(): void;
  /**
   * Applied effects on `endpoint` ('*': any), optionally only those about one
   * order (sn or client_sn) or terminal. Kept for the gateway's lifetime:
   * clearLog() does not reset it.
   */
  effects(endpoint: SandboxEndpoint | '*', snOrClientSn?: string): number;
  /** A customer scans a precreated QR and pays: the CREATED order becomes PAID (also POST /sandbox/customer-pay). */
  customerPays(snOrClientSn: string): SandboxOrder;
  /** Requests per endpoint for one client_sn (dropped and hung ones included) and the money's path (also GET /sandbox/counters). */
  counters(clientSn: string): PaymentCounters;
}

interface Ledger {
  endpoint: SandboxEndpoint;
  sn?: string;
  clientSn?: string;
  terminalSn?: string;
}


export async function createSandboxGateway(options: SandboxGatewayOptions = {}): Promise<SandboxGateway> {
  const clock = options.clock ?? systemClock;
  const vendor = {
    vendorSn: options.vendorSn ?? SANDBOX_DEFAULTS.vendorSn,
    vendorKey: options.vendorKey ?? SANDBOX_DEFAULTS.vendorKey,
    appId: options.appId ?? SANDBOX_DEFAULTS.appId,
  };
  const state = new SandboxState({
    clock,
    ...vendor,
    activationCodes: options.activationCodes ?? [...SANDBOX_DEFAULTS.activationCodes],
    revokeShape: options.revokeShape ?? 'data',
    answers: options.answers ?? 'real',
    strict: options.strict ?? false,
    ...(options.strictRefundNumbers ? { strictRefundNumbers: true } : {}),
    limits: options.limits ?? {},
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });

  const faults = new FaultQueue();
  let entries: LogEntry[] = [];
  const ledger: Ledger[] = [];
  const counts = new RequestCounters();
  let seq = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  function record(entry: LogEntry): void {
    entries.push(entry);
    counts.note(entry.endpoint, entry.body, entry.clientSn);
    if (entry.effect) {
      ledger.push({
        endpoint: entry.endpoint,
        ...(entry.sn !== undefined ? { sn: entry.sn } : {}),
        ...(entry.clientSn !== undefined ? { clientSn: entry.clientSn } : {}),
        ...(entry.terminalSn !== undefined ? { terminalSn: entry.terminalSn } : {}),
      });
    }
    try {
      options.onRequest?.(entry);
    } catch {
      // A test's observer must not take the gateway down.
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const endpoint = SANDBOX_ENDPOINTS[path];
    if (!endpoint && (await handleControl(path, req, res, control))) return;
    if (!endpoint) {
      if (req.method === 'GET' && path === '/') {
        writeBody(res, 200, 'text/plain; charset=utf-8', Buffer.from('upay-pos sandbox gateway\n'));
        return;
      }
      req.resume();
      writeJson(res, 404, topError('400', 'INVALID_PARAMS', `未知接口 ${path}`));
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      writeJson(res, 405, topError('400', 'INVALID_PARAMS', '只接受 POST'));
      return;
    }

    const read = await readBody(req, MAX_BODY_BYTES, MAX_DRAIN_BYTES);
    if (read === undefined) return; // client went away or the body was absurdly large
    const raw = read.body;
    const tooLarge = read.size > MAX_BODY_BYTES;

    const fault = faults.take(endpoint);
    const auth = parseAuth(req.headers.authorization);
    const parsed = tooLarge ? NOT_JSON : tryParse(raw);
    const entry: LogEntry = {
      seq: ++seq,
      at: clock.now(),
      endpoint,
      ...(auth ? { authSn: auth.sn } : {}),
      body: tooLarge ? `<${read.size} bytes omitted>` : parsed === NOT_JSON ? raw.toString('utf8') : parsed,
      ...(fault ? { fault: fault.kind } : {}),
      effect: false,
    };

    // Faults that stop the request before it reaches the business rules.
    switch (fault?.kind) {
      case 'drop_before':
        record(entry);
        req.socket.destroy();
        return;
      case 'hang':
        record(entry);
        return; // the socket stays open until the client gives up or close() runs
      case 'http500_html':
        entry.httpStatus = 500;
        record(entry);
        writeBody(res, 500, 'text/html; charset=utf-8', Buffer.from(HTML_500));
        return;
      case 'envelope': {
        const env = topError(fault.resultCode, fault.errorCode, fault.errorMessage ?? defaultMessage(fault.errorCode));
        Object.assign(entry, describe(env), { httpStatus: 200 });
        record(entry);
        writeJson(res, 200, env);
        return;
      }
      default:
        break;
    }

    const business = isBusinessFault(fault) ? fault : undefined;
    let outcome: Outcome;
    try {
      outcome = tooLarge
        ? invalidParams(`请求体超过 ${MAX_BODY_BYTES} 字节`)
        : state.dispatch(endpoint, raw, parsed === NOT_JSON ? raw.toString('utf8') : parsed, auth, business);
    } catch (err) {
      outcome = { envelope: topError('500', 'UNKNOWN_SYSTEM_ERROR', `沙箱内部错误: ${String(err)}`), effect: false };
    }
    Object.assign(entry, describe(outcome.envelope), { effect: outcome.effect });
    if (outcome.sn !== undefined) entry.sn = outcome.sn;
    if (outcome.clientSn !== undefined) entry.clientSn = outcome.clientSn;
    if (outcome.terminalSn !== undefined) entry.terminalSn = outcome.terminalSn;

    // The effect is applied: now decide how (or whether) the answer travels.
    const body = Buffer.from(JSON.stringify(outcome.envelope), 'utf8');
    switch (fault?.kind) {
      case 'drop_after':
        record(entry);
        req.socket.destroy();
        return;
      case 'reset_mid_body': {
        entry.httpStatus = 200;
        record(entry);
        res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': body.length });
        res.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))), () => req.socket.destroy());
        return;
      }
      case 'malformed_json':
        entry.httpStatus = 200;
        record(entry);
        writeBody(res, 200, JSON_TYPE, body.subarray(0, Math.max(1, Math.floor(body.length * 0.6))));
        return;
      case 'delay': {
        entry.httpStatus = 200;
        record(entry);
        const timer = setTimeout(() => {
          timers.delete(timer);
          writeBody(res, 200, JSON_TYPE, body);
        }, Math.max(0, fault.ms));
        timers.add(timer);
        return;
      }
      default:
        entry.httpStatus = 200;
        record(entry);
        writeBody(res, 200, JSON_TYPE, body);
    }
  }

  const control = {
    customerPays: (ref: string) => customerPays(state.book, ref),
    inject: (endpoint: SandboxEndpoint | '*', fault: Fault, count = 1) => faults.push(endpoint, fault, count),
    counters: (clientSn: string): PaymentCounters => {
      const o = state.book.get(clientSn);
      const n = (e: SandboxEndpoint) => counts.count(clientSn, e);
      return {
        clientSn,
        pay: n('pay'),
        precreate: n('precreate'),
        cancel: n('cancel'),
        revoke: n('revoke'),
        query: n('query'),
        orderStatus: o?.orderStatus ?? null,
        moneyTaken: o?.moneyTaken ?? false,
        moneyReturned: o?.moneyReturned ?? false,
      };
    },
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    // Malformed HTTP: answer if we still can, never throw.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    vendor,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closing;
    },

    activationCodes: () => state.terminals.unusedCodes(),
    addActivationCode: (code) => state.terminals.addCode(code),

    createTerminal: (deviceId) => state.terminals.create(deviceId),
    terminals: () => state.terminals.all(),
    terminal: (sn) => {
      const t = state.terminals.get(sn);
      return t ? { ...t } : undefined;
    },
    setTerminalStatus: (sn, status) => state.setTerminalStatus(sn, status),

    seedOrder: (input) => state.seedOrder(input),
    getOrder: (ref) => state.book.get(ref),
    orders: () => state.book.all(),
    markPromotion: (ref, promotion) => state.markPromotion(ref, promotion),

    inject(endpoint, fault, count = 1) {
      faults.push(endpoint, fault, count);
    },
    clearFaults: () => faults.clear(),
    pendingFaults: () => faults.pending(),

    log: () => entries.slice(),
    clearLog() {
      entries = [];
    },
    customerPays: control.customerPays,
    counters: control.counters,
    effects(endpoint, ref) {
      return ledger.filter(
        (l) =>
          (endpoint === '*' || l.endpoint === endpoint) &&
          (ref === undefined || l.sn === ref || l.clientSn === ref || (l.sn === undefined && l.terminalSn === ref)),
      ).length;
    },
  };
}
