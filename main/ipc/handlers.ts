/**
 * The IPC handlers, pure of Electron: (runtime) -> (input: unknown) -> Result.
 * Each one validates its input with the contract's schema, calls the runtime,
 * maps the answer to the contract's view types (never a key), checks the
 * output against the contract again, and turns every failure into the error
 * envelope. A handler never throws: Electron would forward only an error's
 * message, and the cashier must tell "refused" from "unreachable" from
 * "invalid request".
 */
import os from 'node:os';
import type { z } from 'zod';
import { receiptLines } from '../common/receipt-text';
import { businessDay } from '../common/time';
import { PosError, toPosError } from '../errors';
import type { RuntimeEventMap, RuntimeEvents } from '../events';
import { parsePrinterUri, rendererPrinterPolicy } from '../printer';
import type { Runtime } from '../runtime';
import { Policy, type OperatorResolver } from '../operators/policy';
import { Sessions, type Caller } from '../operators/sessions';
import { safeStrings } from '../util/text';
import { CHANNEL_ACCESS, PASSIVE_CHANNELS } from './access';
import {
  CHANNELS,
  EVENTS,
  IPC_ERROR_CODES,
  PRINTER_STATES,
  type Channel,
  type ErrorView,
  type EventName,
  type EventPayload,
  type OrderView,
  type OutputOf,
  type Result,
} from './contract';
import type { CallContext, ChannelImpls } from './handler-types';
import { operatorHandlers } from './operator-handlers';
import { forwardOtherOrders, openOperations, OrderRows } from './order-rows';
import { toPrintJobView, toQueueStatusView, toRevokeView, toSettingsView, toTerminalStatus } from './views';
import { createRefundHandlers, toRefundView } from './refund-handlers';
import { createPayHandlers, toPaymentView } from './pay-handlers';

export { toOrderView, toPrintJobView, toQueueStatusView, toRevokeView, toSettingsView, toTerminalStatus } from './views';

export interface VendorCredentials {
  appId: string;
  vendorSn: string;
  /** Secret: signs the activation call only; never crosses IPC, never stored. */
  vendorKey: string;
}

export interface HandlerOptions {
  mode: 'sandbox' | 'production';
  /** The app's version, shown in app.info. */
  version: string;
  /** Vendor credentials from the main process configuration; null: activation is refused. */
  vendor: VendorCredentials | null;
  /** Audit actor for changes made through IPC (default `app`). */
  actor?: string;
  /** device_id sent at activation when the renderer gives none (default `pos-<hostname>`). */
  deviceId?: string;
  /** Called when a handler fails unexpectedly (not for typed business errors). */
  onInternalError?: (channel: Channel, error: PosError) => void;
  /**
   * A host app with its own login: who is signed in at the calling window
   * (docs/embedding.md). Default: our own sign-in with a PIN. Either way,
   * nobody signed in means no revoke.
   */
  resolveOperator?: OperatorResolver;
}

/** `caller`: the window the call came from (register.ts passes the sender's webContents id); none: nobody is signed in. */
export type Handler<C extends Channel> = (input: unknown, caller?: Caller) => Promise<Result<OutputOf<C>>>;
export type Handlers = { readonly [C in Channel]: Handler<C> };

/** What a channel's implementation knows about its call besides the input. */
export type { CallContext, ChannelImpls } from './handler-types';
type Impl = ChannelImpls<Channel>;

/** The handlers and the policy they enforce (register.ts ends a window's session when it goes away). */
export interface HandlerSet {
  handlers: Handlers;
  policy: Policy;
  sessions: Sessions;
  /** The row of a changed order, for `orders.changed` (forwardEvents). */
  orderRow: (sn: string) => OrderView | null;
}

// ---------------------------------------------------------------- envelopes

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/** The error envelope: English `message`, Chinese `messageZh`, JSON-safe details without secrets. */
export function errorEnvelope(err: unknown): { ok: false; error: ErrorView } {
  const e = toPosError(err);
  const details = safeDetails(e.details);
  return { ok: false, error: safeStrings({ code: e.code, message: e.messageEn, messageZh: e.messageZh, ...(details ? { details } : {}) }) };
}

const SECRET_KEY = /key|secret|sign|token|passw|sealed|credential/i;

/** Details cross a structured clone: keep plain JSON, and drop any field whose name looks like a secret. */
function safeDetails(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!details) return undefined;
  try {
    const json = JSON.stringify(details, (k, v: unknown) => (k !== '' && SECRET_KEY.test(k) ? undefined : typeof v === 'bigint' ? String(v) : v));
    const parsed = json === undefined ? undefined : (JSON.parse(json) as unknown);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(parsed).length > 0 ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------- input errors

type Issue = z.core.$ZodIssue;

const REASONS: Record<string, [en: string, zh: string]> = {
  invalid_type: ['wrong type or missing', '类型不正确或缺少该字段'],
  too_big: ['too long or too large', '过长或过大'],
  too_small: ['too short or too small', '过短或过小'],
  invalid_format: ['wrong format', '格式不正确'],
  invalid_value: ['not an allowed value', '不是允许的取值'],
  unrecognized_keys: ['unknown field', '不支持的字段'],
  not_multiple_of: ['not an allowed value', '不是允许的取值'],
  custom: ['not valid', '无效'],
};

/** The most useful issue: for a union, the branch that got furthest (fewest issues). */
function primaryIssue(issues: readonly Issue[]): { issue: Issue; prefix: PropertyKey[] } | undefined {
  const first = issues[0];
  if (!first) return undefined;
  if (first.code === 'invalid_union' && first.errors.length > 0) {
    const best = [...first.errors].sort((a, b) => a.length - b.length)[0] ?? [];
    const inner = primaryIssue(best);
    if (inner) return { issue: inner.issue, prefix: [...first.path, ...inner.prefix] };
  }
  return { issue: first, prefix: [] };
}

/** INVALID_INPUT naming the field, in zh and en. */
export function inputError(channel: Channel, error: z.ZodError): PosError {
  const found = primaryIssue(error.issues);
  const issue = found?.issue;
  const path = [...(found?.prefix ?? []), ...(issue?.path ?? [])].map(String);
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = path.join('.') || 'input';
  const [en, zh] = (issue && REASONS[issue.code]) ?? ['not valid', '无效'];
  const detail = issue?.code === 'custom' || issue?.code === 'invalid_format' ? `: ${issue.message}` : '';
  return new PosError(IPC_ERROR_CODES.INVALID_INPUT, `输入无效（${field}）：${zh}`, `Invalid input (${field}): ${en}${detail}`, { field, channel });
}

export const vendorNotConfigured = () =>
  new PosError(
    IPC_ERROR_CODES.VENDOR_NOT_CONFIGURED,
    '未配置服务商凭证，无法激活终端。请联系门店 IT（环境变量 UPAY_VENDOR_APP_ID / UPAY_VENDOR_SN / UPAY_VENDOR_KEY 或 vendor.json）。',
    'Vendor credentials are not configured, so the terminal cannot be activated. Ask store IT (UPAY_VENDOR_APP_ID / UPAY_VENDOR_SN / UPAY_VENDOR_KEY or vendor.json).',
  );

const invalidOutput = (channel: Channel) =>
  new PosError(IPC_ERROR_CODES.INVALID_OUTPUT, '系统内部错误，操作结果无法显示。请重试或联系门店 IT。', 'Internal error: the result cannot be shown. Retry or ask store IT.', {
    channel,
  });

const printerState = (s: string): (typeof PRINTER_STATES)[number] => ((PRINTER_STATES as readonly string[]).includes(s) ? (s as (typeof PRINTER_STATES)[number]) : 'unknown');

const printJobNotFound = (jobId: number) => new PosError('PRINT_JOB_NOT_FOUND', `找不到打印任务 ${jobId}。`, `Print job ${jobId} was not found.`, { jobId });

// ----------------------------------------------------------------- handlers

export function createHandlers(runtime: Runtime, options: HandlerOptions): Handlers {
  return createHandlerSet(runtime, options).handlers;
}

export function createHandlerSet(runtime: Runtime, options: HandlerOptions): HandlerSet {
  const baseActor = options.actor ?? 'app';
  const now = () => runtime.clock.now();
  // Read from the runtime at call time, not here: a handler refused at the door never touches the runtime.
  const sessions = new Sessions(
    { now: () => runtime.clock.now() },
    {
      idleMs: () => runtime.settings().sessionIdleMinutes * 60_000,
      maxMs: () => runtime.settings().sessionMaxHours * 3_600_000,
      epochOf: (id) => runtime.operators.sessionEpoch(id),
    },
  );
  const policy = new Policy({
    get operators() {
      return runtime.operators;
    },
    sessions,
    settings: () => runtime.settings(),
    ...(options.resolveOperator ? { resolver: options.resolveOperator } : {}),
  });
  const status = () => toTerminalStatus(runtime.terminal.info(), runtime.vault.kind, now());
  // One query for all the orders' revokes (not one per order): the day's list has thousands.
  let orderRows: OrderRows | null = null;
  const rows = () => (orderRows ??= new OrderRows(runtime));
  let dayList: OutputOf<'orders.list'> | null = null;
  const jobView = (jobId: number) => {
    const job = runtime.printing.job(jobId);
    if (!job) throw printJobNotFound(jobId);
    return toPrintJobView(job);
  };

  const impl: Impl = {
    // Before sign-in, only what the sign-in screen shows: no gateway address, no path on this machine.
    'app.info': (_input, { who }) => ({
      version: options.version,
      mode: options.mode,
      apiDomain: who ? runtime.apiDomain : null,
      dataDir: who ? runtime.dataDir : null,
      language: runtime.settings().language,
      businessDay: businessDay(now()),
    }),
    'terminal.status': () => status(),
    'terminal.activate': async (input, { actor }) => {
      const vendor = options.vendor;
      if (!vendor) throw vendorNotConfigured();
      await runtime.terminal.activate(
        {
          appId: vendor.appId,
          vendorSn: vendor.vendorSn,
          vendorKey: vendor.vendorKey,
          code: input.code,
          deviceId: input.deviceId ?? options.deviceId ?? `pos-${os.hostname()}`.slice(0, 128),
          name: input.name,
          force: input.force,
        },
        actor,
      );
      return status();
    },
    'terminal.checkin': async (_input, { actor }) => {
      await runtime.terminal.checkin(actor);
      return status();
    },
    'orders.list': (input) => {
      const day = input.day ?? businessDay(now());
      // The cashier screen asks for the day's list on every event and poll; a busy day has thousands of
      // orders. DayOrders re-reads only what changed (any process) and checks each view as it makes it.
      const orders = rows().day.list(day);
      if (dayList?.day === day && dayList.orders === orders) return dayList;
      dayList = { day, orders };
      checkedOutputs.set(dayList, dayList);
      return dayList;
    },
    'orders.search': (input) => ({
      orders: rows().views(runtime.orders.search({ text: input.text, amountCents: input.amountCents, day: input.day, limit: 200 })),
    }),
    'orders.import': async (input, { actor }) => rows().views([await runtime.orders.import('sn' in input ? { sn: input.sn } : { clientSn: input.clientSn }, actor)])[0]!,
    'revoke.request': async (input, { actor, caller }) =>
      toRevokeView(
        await runtime.revokes.request(
          'sn' in input ? { sn: input.sn } : { clientSn: input.clientSn },
          // Once the order (and its amount) is known, before any revoke call: who voids, and the approval the policy asks for.
          (order, eligible) => (eligible ? policy.authorizeMoney('revoke', { orderSn: order.sn, amountCents: order.totalCents }, caller, input.approval) : policy.identify(caller)),
          actor,
        ),
      ),
    'revoke.queryAgain': async (input, { actor }) => toRevokeView(await runtime.revokes.queryAgain(input.revokeId, actor)),
    'revoke.listOpen': () => runtime.revokes.open().map(toRevokeView),
    'revoke.forOrder': (input) => {
      const r = runtime.revokes.forOrder(input.sn);
      return r ? toRevokeView(r) : null;
    },
    'queue.status': () => toQueueStatusView(runtime.queueStatus()),
    'queue.drain': () => {
      runtime.revokes.setOnline(true);
      runtime.revokes.kick();
      return toQueueStatusView(runtime.queueStatus());
    },
    'receipt.preview': (input) => {
      const receipt = runtime.printing.receiptForRevoke(input.revokeId);
      if (!receipt) return null;
      return { jobId: receipt.job.id, state: receipt.job.state, copy: receipt.job.copy, html: receipt.html, lines: receiptLines(receipt.model.items) };
    },
    'receipt.reprint': (input, { actor }) => jobView(runtime.printing.reprint(input.revokeId, actor)),
    'printer.status': async () => {
      const s = await runtime.printing.status();
      return { uri: runtime.printing.printerUri, state: printerState(s.state), detail: s.detail ?? null };
    },
    'printer.test': (_input, { actor }) => jobView(runtime.printing.testPrint(actor)),
    'print.jobs': (input) => runtime.printing.jobs(input.state ? { state: input.state } : {}).map(toPrintJobView),
    'print.retry': (input, { actor }) => {
      if (!runtime.printing.job(input.jobId)) throw printJobNotFound(input.jobId);
      runtime.printing.retry(input.jobId, actor);
      return jobView(input.jobId);
    },
    'settings.get': () => toSettingsView(runtime.settings()),
    ...createRefundHandlers(runtime, jobView), // --- refunds
    'operations.open': () => openOperations(runtime),
    ...createPayHandlers(runtime), // --- payments
    'settings.set': (input, { actor }) => {
      const patch = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
      // The renderer's choice of printer is narrower than store IT's: no `virtual` outside the sandbox, raw-print ports only.
      if (typeof patch.printer === 'string') parsePrinterUri(patch.printer, rendererPrinterPolicy(options.mode));
      return toSettingsView(Object.keys(patch).length === 0 ? runtime.settings() : runtime.updateSettings(patch, actor));
    },
    // --- operators
    ...operatorHandlers(runtime),
  };

  const checkedOutputs = new WeakMap<object, unknown>();
  const wrap = <C extends Channel>(channel: C): Handler<C> => {
    const contract = CHANNELS[channel];
    const run = impl[channel] as (input: unknown, ctx: CallContext) => Promise<unknown> | unknown;
    const access = CHANNEL_ACCESS[channel];
    return async (input: unknown, caller?: Caller) => {
      try {
        const parsed = contract.input.safeParse(input === undefined ? {} : input);
        if (!parsed.success) return errorEnvelope(inputError(channel, parsed.error));
        // Who may call it is decided here, before the handler runs: nothing has happened yet when it is refused.
        const activity = !PASSIVE_CHANNELS.has(channel);
        const who = access === 'anyone' ? policy.current(caller) : access === 'store_it' ? policy.requireRole(caller, ['store_it'], activity) : policy.signedIn(caller, activity);
        const ctx: CallContext = { caller, who, actor: who ? `${baseActor}:${who.name}` : baseActor, policy, sessions };
        const raw = await run(parsed.data, ctx);
        // The day's list was checked view by view as it was built (DayOrders).
        const known = typeof raw === 'object' && raw !== null ? checkedOutputs.get(raw) : undefined;
        if (known !== undefined) return ok(known as OutputOf<C>);
        // Whatever came from outside (gateway strings, operator names, settings) is shown without control or bidi characters.
        const value = safeStrings(raw);
        const checked = contract.output.safeParse(value);
        if (!checked.success) {
          const err = invalidOutput(channel);
          options.onInternalError?.(channel, err);
          return errorEnvelope(err);
        }
        if (typeof value === 'object' && value !== null) checkedOutputs.set(value, checked.data);
        return ok(checked.data as OutputOf<C>);
      } catch (err) {
        const e = toPosError(err);
        if (e.code === 'INTERNAL') options.onInternalError?.(channel, e);
        return errorEnvelope(e);
      }
    };
  };

  const handlers = Object.fromEntries((Object.keys(CHANNELS) as Channel[]).map((c) => [c, wrap(c)])) as unknown as Handlers;
  return { handlers, policy, sessions, orderRow: (sn) => rows().changed(sn) };
}

// ------------------------------------------------------------------- events

/** Events that are a runtime event's view; `orders.changed` is made from them (the changed order's row). */
type ViewedEvent = Exclude<EventName, 'orders.changed'>;
type EventMapper = { [E in ViewedEvent]: (...args: RuntimeEventMap[E]) => EventPayload<E> };

const EVENT_VIEWS: EventMapper = {
  'revoke.updated': (r) => toRevokeView(r),
  'revoke.warning': (w) => ({ revoke: toRevokeView(w.revoke), deadlineAt: w.deadlineAt, messageZh: w.messageZh, messageEn: w.messageEn }),
  'queue.changed': (q) => toQueueStatusView(q),
  'connectivity.changed': (c) => ({ online: c.online, at: c.at }),
  'printer.changed': (p) => ({ status: printerState(p.status), detail: p.detail }),
  'print.updated': (p) => ({ jobId: p.jobId, state: p.state as EventPayload<'print.updated'>['state'], error: p.error }),
  // --- refunds
  'refund.updated': (r) => toRefundView(r),
  // --- payments
  'payment.updated': (p) => toPaymentView(p),
};

/**
 * Forwards runtime events as contract payloads (views, checked by the event
 * schema; a payload that does not fit is dropped, never sent raw). With
 * `orderRow`, a revoke's or a refund's update is followed by `orders.changed`
 * carrying that order's row only, so a list updates one row, not the day. It picks no audience:
 * registerIpc sends each event only to windows its session admits (access.ts EVENT_ACCESS). Returns the unsubscribe.
 */
export function forwardEvents(
  events: RuntimeEvents,
  send: <E extends EventName>(event: E, payload: EventPayload<E>) => void,
  orderRow?: (sn: string) => OrderView | null,
): () => void {
  const offs: Array<() => void> = [];
  const emit = (name: EventName, payload: unknown) => {
    const parsed = EVENTS[name].safeParse(safeStrings(payload));
    if (parsed.success) send(name, parsed.data as EventPayload<typeof name>);
  };
  for (const name of Object.keys(EVENT_VIEWS) as ViewedEvent[]) {
    const map = EVENT_VIEWS[name] as (...args: unknown[]) => unknown;
    const listener = (...args: unknown[]) => {
      try {
        emit(name, map(...args));
        if (orderRow && (name === 'revoke.updated' || name === 'refund.updated')) {
          const row = orderRow((args[0] as { orderSn: string }).orderSn);
          if (row) emit('orders.changed', { orders: [row] });
        }
      } catch {
        // A window that went away must not break the runtime's emitter.
      }
    };
    const emitter = events as unknown as { on(e: string, l: (...a: unknown[]) => void): void; off(e: string, l: (...a: unknown[]) => void): void };
    emitter.on(name, listener);
    offs.push(() => emitter.off(name, listener));
  }
  if (orderRow) offs.push(forwardOtherOrders(events, (orders) => emit('orders.changed', { orders }), orderRow));
  return () => {
    for (const off of offs.splice(0)) off();
  };
}
