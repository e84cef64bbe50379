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
import { verify } from '../upay/sign';
import { systemClock, type Clock } from '../common/time';
import {
  SandboxState,
  invalidParams,
  topError,
  type Envelope,
  type Fields,
  type Outcome,
  type SandboxOrder,
  type SandboxTerminal,
  type SeedOrderInput,
  type VoidFault,
} from './gateway-state';

export type { SandboxOrder, SandboxRefund, SandboxTerminal, SeedOrderInput } from './gateway-state';

export type SandboxEndpoint = 'activate' | 'checkin' | 'pay' | 'query' | 'revoke' | 'cancel' | 'refund';

export const SANDBOX_ENDPOINTS: Readonly<Record<string, SandboxEndpoint>> = {
  '/terminal/activate': 'activate',
  '/terminal/checkin': 'checkin',
  '/upay/v2/pay': 'pay',
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
  /** revoke/cancel only: see VoidFault. */
  | VoidFault;

export type FaultKind = Fault['kind'];

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
  /** Called for every logged request (after the effect, before any delay). Exceptions are ignored. */
  onRequest?: (entry: LogEntry) => void;
}

export interface QueuedFault {
  endpoint: SandboxEndpoint | '*';
  fault: Fault;
  remaining: number;
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
}

interface Ledger {
  endpoint: SandboxEndpoint;
  sn?: string;
  clientSn?: string;
  terminalSn?: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export async function createSandboxGateway(options: SandboxGatewayOptions = {}): Promise<SandboxGateway> {
  const clock = options.clock ?? systemClock;
  const vendor = {
    vendorSn: options.vendorSn ?? SANDBOX_DEFAULTS.vendorSn,
    vendorKey: options.vendorKey ?? SANDBOX_DEFAULTS.vendorKey,
    appId: options.appId ?? SANDBOX_DEFAULTS.appId,
  };
  const state = new SandboxState({
    clock,
    appId: vendor.appId,
    activationCodes: options.activationCodes ?? [...SANDBOX_DEFAULTS.activationCodes],
    revokeShape: options.revokeShape ?? 'data',
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });

  const queue: QueuedFault[] = [];
  let entries: LogEntry[] = [];
  const ledger: Ledger[] = [];
  let seq = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  function takeFault(endpoint: SandboxEndpoint): Fault | undefined {
    // An endpoint's own queue goes before the catch-all one.
    const i = queue.findIndex((q) => q.endpoint === endpoint);
    const j = i >= 0 ? i : queue.findIndex((q) => q.endpoint === '*');
    const q = queue[j];
    if (!q) return undefined;
    q.remaining -= 1;
    if (q.remaining <= 0) queue.splice(j, 1);
    return q.fault;
  }

  /** Authenticates and dispatches one request; the caller turns a throw into UNKNOWN_SYSTEM_ERROR. */
  function dispatch(endpoint: SandboxEndpoint, raw: Buffer, parsed: unknown, auth: AuthHeader | undefined, voidFault: VoidFault | undefined): Outcome {
    if (!auth) return { envelope: topError('400', 'ILLEGAL_SIGN', '缺少或格式错误的 Authorization 头（应为 "<sn> <sign>"）'), effect: false };
    const illegal = (): Outcome => ({ envelope: topError('400', 'ILLEGAL_SIGN', '签名错误'), effect: false });

    let terminalSn: string | undefined;
    let signedWith: string | undefined;
    if (endpoint === 'activate') {
      if (auth.sn !== vendor.vendorSn || !verify(raw, vendor.vendorKey, auth.sign)) return illegal();
    } else {
      const t = state.terminal(auth.sn);
      if (!t) return { envelope: topError('400', 'TERMINAL_NOT_EXISTS', `终端${auth.sn}不存在`), effect: false, terminalSn: auth.sn };
      // Only the current and the previous key are valid (protocol §3).
      signedWith = [t.terminalKey, t.previousKey].find((k): k is string => k !== null && verify(raw, k, auth.sign));
      if (signedWith === undefined) return { ...illegal(), terminalSn: t.terminalSn };
      terminalSn = t.terminalSn;
    }

    const fields = asFields(parsed);
    if (typeof fields === 'string') return invalidParams(fields);
    if (terminalSn !== undefined && fields.terminal_sn && fields.terminal_sn !== terminalSn) {
      return invalidParams('terminal_sn 与 Authorization 中的终端号不一致');
    }

    switch (endpoint) {
      case 'activate':
        return state.activate(fields);
      case 'checkin':
        return withTerminal(state.checkin(terminalSn ?? '', signedWith ?? '', fields), terminalSn);
      case 'pay':
        return withTerminal(state.pay(mustTerminal(state, terminalSn), fields), terminalSn);
      case 'query':
        return withTerminal(state.query(fields), terminalSn);
      case 'revoke':
      case 'cancel':
        return withTerminal(state.voidOrder(fields, voidFault, endpoint), terminalSn);
      case 'refund':
        return withTerminal(state.refund(fields), terminalSn);
    }
  }

  function record(entry: LogEntry): void {
    entries.push(entry);
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

    const read = await readBody(req);
    if (read === undefined) return; // client went away or the body was absurdly large
    const raw = read.body;
    const tooLarge = read.size > MAX_BODY_BYTES;

    const fault = takeFault(endpoint);
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

    const voidFault = fault?.kind === 'cancel_in_progress' || fault?.kind === 'cancel_error_no_code' ? fault : undefined;
    let outcome: Outcome;
    try {
      outcome = tooLarge
        ? invalidParams(`请求体超过 ${MAX_BODY_BYTES} 字节`)
        : dispatch(endpoint, raw, parsed === NOT_JSON ? raw.toString('utf8') : parsed, auth, voidFault);
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

    activationCodes: () => state.unusedCodes(),
    addActivationCode: (code) => state.addCode(code),

    createTerminal: (deviceId) => state.createTerminal(deviceId),
    terminals: () => state.terminals(),
    terminal: (sn) => {
      const t = state.terminal(sn);
      return t ? { ...t } : undefined;
    },

    seedOrder: (input) => state.seedOrder(input),
    getOrder: (ref) => state.getOrder(ref),
    orders: () => state.orders(),
    markPromotion: (ref, promotion) => state.markPromotion(ref, promotion),

    inject(endpoint, fault, count = 1) {
      if ((fault.kind === 'cancel_in_progress' || fault.kind === 'cancel_error_no_code') && endpoint !== 'revoke' && endpoint !== 'cancel') {
        throw new TypeError(`sandbox: fault ${fault.kind} applies to revoke/cancel only, not ${endpoint}`);
      }
      if (!(count >= 1)) throw new RangeError(`sandbox: fault count must be >= 1, got ${count}`);
      queue.push({ endpoint, fault: { ...fault }, remaining: count });
    },
    clearFaults() {
      queue.length = 0;
    },
    pendingFaults: () => queue.map((q) => ({ ...q, fault: { ...q.fault } })),

    log: () => entries.slice(),
    clearLog() {
      entries = [];
    },
    effects(endpoint, ref) {
      return ledger.filter(
        (l) =>
          (endpoint === '*' || l.endpoint === endpoint) &&
          (ref === undefined || l.sn === ref || l.clientSn === ref || (l.sn === undefined && l.terminalSn === ref)),
      ).length;
    },
  };
}

// ---------------------------------------------------------------------------
// helpers

interface AuthHeader {
  sn: string;
  sign: string;
}

/** `<sn> <sign>` with exactly one space and a 32-hex signature in either case. */
function parseAuth(header: string | undefined): AuthHeader | undefined {
  const m = /^(\S+) ([0-9a-fA-F]{32})$/.exec(header ?? '');
  return m && m[1] && m[2] ? { sn: m[1], sign: m[2] } : undefined;
}

const NOT_JSON = Symbol('not json');

function tryParse(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** The protocol's bodies are flat objects of strings; anything else is INVALID_PARAMS (returned as a message). */
function asFields(parsed: unknown): Fields | string {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return '请求体必须是 JSON 对象';
  const out: Fields = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') return `字段 ${k} 必须是字符串`;
    out[k] = v;
  }
  return out;
}

function mustTerminal(state: SandboxState, sn: string | undefined): SandboxTerminal {
  const t = sn === undefined ? undefined : state.terminal(sn);
  if (!t) throw new Error('authenticated terminal vanished');
  return t;
}

function withTerminal(o: Outcome, terminalSn: string | undefined): Outcome {
  return o.terminalSn === undefined && terminalSn !== undefined ? { ...o, terminalSn } : o;
}

function describe(env: Envelope): Pick<LogEntry, 'resultCode' | 'bizResultCode' | 'errorCode'> {
  if (env.result_code !== '200') return { resultCode: env.result_code, errorCode: env.error_code };
  const biz = env.biz_response;
  const out: Pick<LogEntry, 'resultCode' | 'bizResultCode' | 'errorCode'> = { resultCode: '200' };
  if (typeof biz.result_code === 'string') out.bizResultCode = biz.result_code;
  if (typeof biz.error_code === 'string' && biz.error_code !== '') out.errorCode = biz.error_code;
  return out;
}

function defaultMessage(code: string): string {
  if (code === 'MAINTENANCE_INPROGRESS') return '系统维护中，请稍后再试';
  if (code === 'UNKNOWN_SYSTEM_ERROR') return '系统错误';
  return code;
}

/**
 * Reads the body. Past MAX_BODY_BYTES the bytes are counted but not kept (the
 * request is answered INVALID_PARAMS); past MAX_DRAIN_BYTES, or when the client
 * vanishes, the result is undefined and the socket is gone.
 */
async function readBody(req: IncomingMessage): Promise<{ body: Buffer; size: number } | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_DRAIN_BYTES) {
        req.socket.destroy();
        return undefined;
      }
      if (size <= MAX_BODY_BYTES) chunks.push(b);
    }
  } catch {
    return undefined;
  }
  return { body: Buffer.concat(chunks), size };
}

function writeBody(res: ServerResponse, status: number, type: string, body: Buffer): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': type, 'content-length': body.length });
  res.end(body);
}

function writeJson(res: ServerResponse, status: number, env: Envelope): void {
  writeBody(res, status, JSON_TYPE, Buffer.from(JSON.stringify(env), 'utf8'));
}

const HTML_500 =
  '<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>' +
  '<body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>\n';
