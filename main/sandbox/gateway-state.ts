/**
 * The sandbox Upay gateway's business state: one place that owns the
 * terminals (./terminals.ts), the orders (./orders.ts, ./actions.ts) and the
 * reproducible identifiers, and routes an authenticated request to its rule.
 * No I/O: `gateway.ts` owns HTTP, faults and the request log. Every answer is
 * a ready-to-send envelope plus a note of whether state changed.
 */
import { randomBytes } from 'node:crypto';
import { verify } from '../upay/sign';
import { mulberry32 } from '../util/prng';
import type { Clock } from '../common/time';
import { pay, refund, voidOrder, type BusinessFault, type PayLimits } from './actions';
import { OrderBook, type SandboxOrder, type SeedOrderInput } from './orders';
import { precreate } from './precreate';
import { TerminalRegistry, type SandboxTerminal, type TerminalStatus } from './terminals';
import { bizFail, invalidParams, readFields, topError, type AnswerShape, type Outcome } from './wire';

export type { SandboxOrder, SandboxRefund, SeedOrderInput } from './orders';
export type { SandboxTerminal, TerminalStatus } from './terminals';

export type SandboxEndpoint = 'activate' | 'checkin' | 'pay' | 'precreate' | 'query' | 'revoke' | 'cancel' | 'refund';

export interface StateOptions {
  clock: Clock;
  appId: string;
  vendorSn: string;
  vendorKey: string;
  activationCodes: string[];
  seed?: number;
  revokeShape: 'data' | 'flat';
  answers: AnswerShape;
  strict: boolean;
  strictRefundNumbers?: boolean;
  limits: PayLimits;
}

export interface AuthHeader {
  sn: string;
  sign: string;
}

export class SandboxState {
  readonly terminals: TerminalRegistry;
  readonly book: OrderBook;
  private readonly rand: () => number;
  private readonly seeded: boolean;

  constructor(private readonly opts: StateOptions) {
    this.seeded = opts.seed !== undefined;
    this.rand = mulberry32(opts.seed ?? randomBytes(4).readUInt32LE(0));
    const digits = (n: number): string => {
      let s = '';
      for (let i = 0; i < n; i++) s += Math.floor(this.rand() * 10).toString();
      return s;
    };
    this.terminals = new TerminalRegistry(
      { clock: opts.clock, appId: opts.appId, shape: opts.answers, strict: opts.strict, digits, newKey: () => this.newKey() },
      opts.activationCodes,
    );
    this.book = new OrderBook(opts.clock, opts.answers, digits, opts.strictRefundNumbers ?? false);
  }

  /** Keys are secrets: truly random unless the caller asked for a reproducible sandbox. */
  private newKey(): string {
    if (!this.seeded) return randomBytes(16).toString('hex');
    let s = '';
    for (let i = 0; i < 32; i++) s += Math.floor(this.rand() * 16).toString(16);
    return s;
  }

  seedOrder(input: SeedOrderInput): SandboxOrder {
    if (!this.terminals.get(input.terminalSn)) throw new Error(`sandbox: no terminal ${input.terminalSn}`);
    return this.book.seed(input);
  }

  markPromotion(ref: string, promotion = true): void {
    const o = this.book.live(ref);
    if (!o) throw new Error(`sandbox: no order ${ref}`);
    o.promotion = promotion;
  }

  setTerminalStatus(sn: string, status: TerminalStatus): void {
    this.terminals.setStatus(sn, status);
  }

  /** Authenticates and dispatches one request; the caller turns a throw into UNKNOWN_SYSTEM_ERROR. */
  dispatch(endpoint: SandboxEndpoint, raw: Buffer, parsed: unknown, auth: AuthHeader | undefined, fault: BusinessFault | undefined): Outcome {
    if (!auth) return { envelope: topError('400', 'ILLEGAL_SIGN', '缺少或格式错误的 Authorization 头（应为 "<sn> <sign>"）'), effect: false };
    let terminal: SandboxTerminal | undefined;
    let signedWith = '';
    if (endpoint === 'activate') {
      if (auth.sn !== this.opts.vendorSn || !verify(raw, this.opts.vendorKey, auth.sign)) {
        return { envelope: topError('400', 'ILLEGAL_SIGN', '签名错误'), effect: false };
      }
    } else {
      const a = this.terminals.authenticate(auth.sn, (k) => verify(raw, k, auth.sign), endpoint === 'checkin');
      if (!a.ok) return a.outcome;
      terminal = a.terminal;
      signedWith = a.signedWith;
    }

    // extended/goods_details are checked here and then not used: there is no payment provider to pass them to.
    const body = readFields(parsed, endpoint === 'pay' || endpoint === 'refund');
    if (typeof body === 'string') return invalidParams(body);
    const { fields } = body;
    if (terminal && fields.terminal_sn && fields.terminal_sn !== terminal.terminalSn) {
      return invalidParams('terminal_sn 与 Authorization 中的终端号不一致');
    }
    if (!terminal) return this.terminals.activate(fields);
    const terminalSn = terminal.terminalSn;
    const about = (o: Outcome): Outcome => (o.terminalSn === undefined ? { ...o, terminalSn } : o);
    if (endpoint === 'checkin') return about(this.terminals.checkin(terminal, signedWith, fields));

    // Order endpoints: a terminal the trade system does not know, or not active, is refused as the tables say.
    if (terminal.status !== 'active') {
      const [code, message] =
        terminal.status === 'abnormal' ? ['UPAY_TERMINAL_STATUS_ABNORMAL', '终端未激活'] : ['UPAY_TERMINAL_NOT_EXISTS', '终端号在交易系统中不存在'];
      return { envelope: bizFail(this.opts.answers, 'FAIL', code, message), effect: false, terminalSn };
    }
    switch (endpoint) {
      case 'pay':
        return about(pay(this.book, terminalSn, fields, fault, this.opts.limits));
      case 'precreate':
        return about(precreate(this.book, terminalSn, fields));
      case 'query':
        return about(this.book.query(fields));
      case 'revoke':
      case 'cancel':
        return about(voidOrder(this.book, fields, fault, endpoint === 'revoke' && this.opts.revokeShape === 'flat'));
      case 'refund':
        return about(refund(this.book, fields, fault));
      default:
        throw new Error(`sandbox: no rule for ${endpoint}`);
    }
  }
}
