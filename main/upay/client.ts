/**
 * The Upay v2 HTTP client: validates a request before sending it, signs the
 * exact bytes it sends, and turns every answer or failure into a typed
 * `CallResult` (see ./result.ts). Transport is undici with an injectable
 * dispatcher (a merchant behind a proxy passes a ProxyAgent).
 */
import type { Dispatcher } from 'undici';
import { Agent, request } from './http';
import type { z } from 'zod';
import { checkGatewayUrl } from './gateway-url';
import { authorization } from './sign';
import {
  DEFAULT_TIMEOUTS_MS,
  ENDPOINT_PATHS,
  requestSchemas,
  terminalBizSchema,
  type Endpoint,
  type RequestOf,
} from './schemas';
import { readEnvelope, readOrderAnswer } from './answers';
import { plainRequestOk } from './request-check';
import type { CallFailure, CallResult, OrderResult, TerminalCredentials } from './result';

export const PRODUCTION_API_DOMAIN = 'https://vsi-api.shouqianba.com';

/** Real answers are a few KiB; anything beyond this is refused unread (a hostile or broken gateway). */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface UpayClientOptions {
  /** e.g. https://vsi-api.shouqianba.com or the sandbox's http://127.0.0.1:PORT */
  apiDomain: string;
  /** Injected transport (proxy, custom TLS). Default: a keep-alive Agent owned by the client. */
  dispatcher?: Dispatcher;
  /** Per-endpoint timeouts in ms; default 35 s for money movement and activation, 20 s for query and check-in. */
  timeouts?: Partial<Record<Endpoint, number>>;
  /** One override for every endpoint (the CLI's --timeout-ms). */
  timeoutMs?: number;
  /** Connect timeout of the default dispatcher (a failed connect is "not sent"); at most half the shortest call timeout. */
  connectTimeoutMs?: number;
}

/** Who signs: the vendor for activation, the terminal for everything else. */
export interface Signer {
  sn: string;
  key: string;
}

type TerminalRequest<E extends Endpoint> = Omit<RequestOf<E>, 'terminal_sn'>;

export class UpayClient {
  readonly apiDomain: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeouts: Record<Endpoint, number>;

  /** The longest any one call may take (its endpoint's timeout): a lease on the call's row must outlast it. */
  get longestTimeoutMs(): number {
    return Math.max(...Object.values(this.timeouts));
  }

  constructor(options: UpayClientOptions) {
    this.apiDomain = checkGatewayUrl(options.apiDomain);
    this.timeouts = { ...DEFAULT_TIMEOUTS_MS };
    for (const [k, v] of Object.entries(options.timeouts ?? {}) as Array<[Endpoint, number | undefined]>) {
      if (v !== undefined) this.timeouts[k] = checkTimeout(v, `timeouts.${k}`);
    }
    if (options.timeoutMs !== undefined) {
      const all = checkTimeout(options.timeoutMs, 'timeoutMs');
      for (const k of Object.keys(this.timeouts) as Endpoint[]) this.timeouts[k] = all;
    }
    // A connect that hangs must end by the connect timeout ("not sent") before the call's deadline ("maybe sent").
    const connectTimeout = Math.min(options.connectTimeoutMs ?? 10_000, Math.max(50, Math.floor(Math.min(...Object.values(this.timeouts)) / 2)));
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ connect: { timeout: connectTimeout }, keepAliveTimeout: 4_000, connections: 16 });
  }

  activate(vendor: Signer, req: RequestOf<'activate'>): Promise<CallResult<TerminalCredentials>> {
    return this.call('activate', vendor, req, parseTerminal);
  }

  checkin(terminal: Signer, req: TerminalRequest<'checkin'>): Promise<CallResult<TerminalCredentials>> {
    return this.call('checkin', terminal, { ...req, terminal_sn: terminal.sn }, parseTerminal);
  }

  query(terminal: Signer, req: TerminalRequest<'query'>): Promise<CallResult<OrderResult>> {
    return this.call('query', terminal, { ...req, terminal_sn: terminal.sn }, readOrderAnswer);
  }

  revoke(terminal: Signer, req: TerminalRequest<'revoke'>): Promise<CallResult<OrderResult>> {
    return this.call('revoke', terminal, { ...req, terminal_sn: terminal.sn }, readOrderAnswer);
  }

  cancel(terminal: Signer, req: TerminalRequest<'cancel'>): Promise<CallResult<OrderResult>> {
    return this.call('cancel', terminal, { ...req, terminal_sn: terminal.sn }, readOrderAnswer);
  }

  refund(terminal: Signer, req: TerminalRequest<'refund'>): Promise<CallResult<OrderResult>> {
    return this.call('refund', terminal, { ...req, terminal_sn: terminal.sn }, readOrderAnswer);
  }

  pay(terminal: Signer, req: TerminalRequest<'pay'>): Promise<CallResult<OrderResult>> {
    return this.call('pay', terminal, { ...req, terminal_sn: terminal.sn }, readOrderAnswer);
  }

  precreate(terminal: Signer, req: TerminalRequest<'precreate'>): Promise<CallResult<OrderResult>> {
    return this.call('precreate', terminal, { ...req, terminal_sn: terminal.sn }, readOrderAnswer);
  }

  /** The whole-call deadline of an endpoint (ms). */
  timeoutFor(endpoint: Endpoint): number {
    return this.timeouts[endpoint];
  }

  /** Closes the client's own connections; requests still in flight are cut (callers settle theirs first). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy();
  }

  private async call<E extends Endpoint, T>(
    endpoint: E,
    signer: Signer,
    req: RequestOf<E>,
    parseBiz: (biz: unknown) => T | undefined,
  ): Promise<CallResult<T>> {
    // The runtime's own plain requests pass the quick look; anything else is the schema's to judge and word.
    const checked = plainRequestOk(endpoint, req) ? { success: true as const, data: req } : (requestSchemas[endpoint] as z.ZodType).safeParse(req);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return {
        ok: false,
        kind: 'invalid_request',
        field: issue?.path.join('.') || '(request)',
        message: issue?.message ?? 'invalid request',
      };
    }
    if (!/^[0-9A-Za-z_-]{1,64}$/.test(signer.sn)) {
      return { ok: false, kind: 'invalid_request', field: 'authorization', message: 'signer sn must be 1-64 characters [0-9A-Za-z_-]' };
    }
    // Sign exactly the bytes that go on the wire.
    const body = Buffer.from(JSON.stringify(checked.data), 'utf8');
    const timeout = this.timeouts[endpoint];
    // One deadline for the whole call (connect, headers and body): undici's bodyTimeout only bounds the gap
    // between two chunks, so an answer dripping one byte a second would otherwise never end.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DeadlineError()), timeout);
    // Built before the try: a local mistake here must never be reported as "maybe sent".
    const options = {
      method: 'POST' as const,
      dispatcher: this.dispatcher,
      headers: {
        // Exactly what the documents and the vendor's clients send.
        'content-type': 'application/json',
        authorization: authorization(signer.sn, body, signer.key),
      },
      body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: deadline.signal,
    };
    try {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(this.apiDomain + ENDPOINT_PATHS[endpoint], options);
      } catch (err) {
        return transportFailure(err);
      }
      let text: string;
      try {
        text = await readCapped(res.body, MAX_ANSWER_BYTES, res.headers['content-length']);
      } catch (err) {
        return transportFailure(err, true);
      }
      return interpretBody(res.statusCode, text, parseBiz);
    } finally {
      clearTimeout(timer);
    }
  }
}

class DeadlineError extends Error {
  constructor() {
    super('the gateway call reached its deadline');
    this.name = 'TimeoutError';
  }
}

class AnswerTooLargeError extends Error {
  readonly code = 'UPAY_ANSWER_TOO_LARGE';
  constructor() {
    super(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
  }
}

/** Reads at most `max` bytes; a larger answer (declared or streamed) is cut off and its connection destroyed. */
async function readCapped(body: Dispatcher.ResponseData['body'], max: number, declared: string | string[] | undefined): Promise<string> {
  if (typeof declared === 'string' && /^\d+$/.test(declared) && Number(declared) > max) {
    body.destroy();
    throw new AnswerTooLargeError();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      throw new AnswerTooLargeError();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Turns an HTTP answer into a typed result; never throws. Exported for tests of odd bodies. */
export function interpretBody<T>(statusCode: number, text: string, parseBiz: (biz: unknown) => T | undefined): CallResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return statusCode >= 500
      ? { ok: false, kind: 'maybe_sent', reason: 'http_status', httpStatus: statusCode, message: `HTTP ${statusCode} without a JSON body` }
      : { ok: false, kind: 'maybe_sent', reason: 'malformed', httpStatus: statusCode, message: `HTTP ${statusCode}: the answer is not JSON` };
  }
  const e = readEnvelope(json);
  if (!e) {
    return statusCode >= 500
      ? { ok: false, kind: 'maybe_sent', reason: 'http_status', httpStatus: statusCode, message: `HTTP ${statusCode} without a Upay envelope` }
      : { ok: false, kind: 'maybe_sent', reason: 'malformed', httpStatus: statusCode, message: 'the answer is not a Upay envelope' };
  }
  if (e.resultCode !== '200') {
    return { ok: false, kind: 'envelope', resultCode: e.resultCode, errorCode: e.errorCode ?? 'UNKNOWN', errorMessage: e.errorMessage };
  }
  const value = e.biz === undefined || e.biz === null ? undefined : parseBiz(e.biz);
  if (value === undefined) {
    return { ok: false, kind: 'maybe_sent', reason: 'malformed', httpStatus: statusCode, message: 'biz_response is missing or malformed' };
  }
  return { ok: true, value };
}

function parseTerminal(biz: unknown): TerminalCredentials | undefined {
  const r = terminalBizSchema.safeParse(biz);
  if (!r.success) return undefined;
  const d = r.data;
  return {
    terminalSn: d.terminal_sn,
    terminalKey: d.terminal_key,
    merchantSn: d.merchant_sn ?? null,
    merchantName: d.merchant_name ?? null,
    storeSn: d.store_sn ?? null,
    storeName: d.store_name ?? null,
  };
}

const NOT_SENT_CODES: Record<string, 'refused' | 'dns' | 'connect_timeout' | 'unreachable'> = {
  ECONNREFUSED: 'refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout',
  ENETUNREACH: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ENETDOWN: 'unreachable',
};

/**
 * Classifies a transport error. Only failures that happen before a connection
 * exists are "not sent"; anything after the request may have been written is
 * "maybe sent", because the gateway may have applied it.
 */
export function transportFailure(err: unknown, duringBody = false): CallFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const notSent = duringBody ? undefined : NOT_SENT_CODES[code];
  if (notSent) return { ok: false, kind: 'not_sent', reason: notSent, message: describe(notSent) };
  if (code === 'UPAY_ANSWER_TOO_LARGE') return { ok: false, kind: 'maybe_sent', reason: 'too_large', message: `the answer was larger than ${MAX_ANSWER_BYTES} bytes and was not read` };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || e.name === 'TimeoutError') {
    return { ok: false, kind: 'maybe_sent', reason: 'timeout', message: 'the gateway did not answer in time' };
  }
  if (e.name === 'AbortError') return { ok: false, kind: 'maybe_sent', reason: 'aborted', message: 'the call was aborted' };
  return { ok: false, kind: 'maybe_sent', reason: 'reset', message: `the connection broke before the answer was complete (${code || e.name || 'error'})` };
}

function checkTimeout(ms: number, name: string): number {
  if (!Number.isFinite(ms) || ms <= 0 || ms > 600_000) throw new RangeError(`${name} must be a positive number of milliseconds up to 600000`);
  return ms;
}

function describe(reason: 'refused' | 'dns' | 'connect_timeout' | 'unreachable'): string {
  switch (reason) {
    case 'refused':
      return 'the gateway refused the connection';
    case 'dns':
      return 'the gateway host name could not be resolved';
    case 'connect_timeout':
      return 'the connection to the gateway timed out';
    case 'unreachable':
      return 'the network is unreachable';
  }
}
