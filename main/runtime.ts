/**
 * The composition root: createRuntime(options) opens the data dir's database,
 * builds the services from injected I/O (gateway domain or dispatcher,
 * printer, clock, key vault, logger) and starts the workers. The Electron
 * shell, the CLI, the benchmarks and the tests all use it.
 */
import net from 'node:net';
import type { Dispatcher } from 'undici';
import { RuntimeEvents, type QueueStatus } from './events';
import { Operators } from './operators/service';
import type { ScryptCost } from './operators/pin';
import { OrderService } from './orders/service';
import { DEFAULT_RECHECK, Recheck, type RecheckOptions } from './operations/recheck';
import { DEFAULT_TIMING, RevokeEngine, type CrashPoint, type RevokeTiming } from './operations/revoke/engine';
import { DEFAULT_REFUND_MAX_AGE_MS, RefundEngine } from './operations/refund/engine';
import { PaymentEngine, type PayCrashPoint } from './operations/pay/engine';
import { WatchOthers } from './operations/watch-others';
import { Connectivity, CounterQueue } from './operations/signals';
import { DEFAULT_PAY_TIMING, type PayTiming } from './operations/pay/timing';
import { PaymentPrinting } from './printer/pay-printing';
import { RefundPrinting } from './printer/refund-printing';
import { loadDayReport } from './report/load';
import type { DayReport } from './report/day';
import { Printing, type PrintingDeps } from './printer/printing';
import { openDb, StoreError, type Db } from './store/db';
import { sqliteCannotWrite } from './store/errors';
import { schemaVersion } from './store/migrate';
import { pruneChangeLog } from './store/order-changes';
import { readSettings, setSettings, settingInvalid, type Settings } from './store/settings';
import { Provisioning } from './terminal/provisioning';
import { FileKeyVault, type KeyVault } from './terminal/vault';
import { PRODUCTION_API_DOMAIN, UpayClient } from './upay/client';
import { checkGatewayUrl } from './upay/gateway-url';
import type { OrderSnapshot } from './upay/result';
import { businessDay, systemClock, type Clock } from './common/time';
import { fleetConfigured } from './fleet/config';
import { ShipperProcess, type ShipperProcessOptions } from './fleet/process';

/**
 * V8 flags the runtime's process is started with (the app's launcher, see
 * electron-builder.yml and `npm start`): a small young generation keeps a
 * long-running counter process lean (the benchmark measures both).
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** True when `given` (V8 flags a process was started with) holds every one of RUNTIME_NODE_FLAGS. */
export function hasRuntimeFlags(given: readonly string[]): boolean {
  return RUNTIME_NODE_FLAGS.every((f) => given.includes(f));
}

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface RuntimeOptions {
  dataDir: string;
  /** Gateway origin (production, or the sandbox's http://127.0.0.1:PORT); default: the stored setting, else production. */
  apiDomain?: string;
  dispatcher?: Dispatcher;
  /** One timeout for every gateway call (ms). */
  timeoutMs?: number;
  clock?: Clock;
  /** Seals keys of terminals activated here; default: the file vault in the data dir. */
  vault?: KeyVault;
  logger?: Logger;
  timing?: Partial<RevokeTiming>;
  concurrency?: number;
  /** Start the outbox and print workers (default true). */
  startWorkers?: boolean;
  /** Printer URI (tcp://host:port, a device path, virtual, none); default: the stored setting, else none. */
  printer?: string;
  /** Address of an embedded virtual printer (what `virtual` means in this process). */
  virtualPrinterUri?: string | null;
  /** Crash-test hook (tests only). */
  checkpoint?: (point: CrashPoint) => void;
  /** Print worker tuning (tests). */
  printWorker?: PrintingDeps['worker'];
  random?: () => number;
  /**
   * The fleet shipper's process, started with the workers when head office is configured (UPAY_POS_FLEET_URL or
   * `upay-pos fleet configure`); false: never. cliPath: the built CLI it runs (tests run from source).
   */
  fleet?: false | Pick<ShipperProcessOptions, 'cliPath' | 'env' | 'fork'>;
  /** When unresolved revokes are asked about again by themselves (tests shorten it). */
  recheck?: Partial<Pick<RecheckOptions, 'everyMs' | 'probeEveryMs'>>;
  /** The scrypt cost of new PIN hashes (default DEFAULT_PIN_COST; tests may lower it). */
  pinCost?: ScryptCost;
  /** Longest a queued refund waits for the network before a person is asked (default a week). */
  refundMaxAgeMs?: number;
  /** Crash-test hook for refunds (tests only). */
  refundCheckpoint?: (point: 'intent-committed' | 'answer-received' | 'refunded-committed' | 'send-committed') => void;
  /** The payment's polling schedule (tests shorten it). */
  payTiming?: Partial<PayTiming>;
  /** Crash-test hook for payments (tests only). */
  payCheckpoint?: (point: PayCrashPoint) => void;
  /**
   * Raise this process's events for what other processes on the data dir commit (the CLI's `queue drain`, `revoke`,
   * `refund`, `pay query`, an import): default with the workers (startWorkers); looks once a second.
   */
  watchOthers?: boolean;
  /**
   * 'own': this process prints only the jobs it asks for, never the counter's other waiting receipts (the CLI
   * given a printer of its own with --printer or UPAY_POS_PRINTER). Default 'all'.
   */
  printScope?: 'all' | 'own';
}

/** The services a host app, the IPC handlers and the CLI use; the store and the gateway client stay inside. */
export interface Runtime {
  readonly dataDir: string;
  readonly apiDomain: string;
  readonly clock: Clock;
  readonly events: RuntimeEvents;
  readonly terminal: Provisioning;
  readonly orders: OrderService;
  readonly revokes: RevokeEngine;
  readonly recheck: Recheck;
  /** Who may sign in at the counter (PIN hashes, lockout). */
  readonly operators: Operators;
  readonly refunds: RefundEngine;
  /** Refund receipts (reprints) and the day report on paper. */
  readonly refundPrinting: RefundPrinting;
  /** Barcode and QR payments, and their automatic reversal (冲正). */
  readonly payments: PaymentEngine;
  /** 收款凭证 and the 撤销/冲正 slip. */
  readonly paymentPrinting: PaymentPrinting;
  /**
   * The counter's queue: every kind's (revoke, refund, pay) open rows summed, the oldest of them aged, the shared
   * online flag. What `queue.status` answers and `queue.changed` carries; a kind's own: `revokes.queueStatus()` etc.
   */
  queueStatus(): QueueStatus;
  /** The day report (日结) of a business day (default today). */
  dayReport(day?: string): DayReport;
  readonly vault: KeyVault;
  readonly printing: Printing;
  readonly logger: Logger;
  settings(): Settings;
  /** The database's schema version (PRAGMA user_version). */
  schemaVersion(): number;
  updateSettings(patch: Record<string, unknown>, actor: string): Settings;
  /** Applies retention now (it also runs at startup and every hour); returns how many orders went. */
  maintain(): number;
  close(): Promise<void>;
}

const MAINTENANCE_EVERY_MS = 3_600_000;

const databases = new WeakMap<Runtime, Db>();

/**
 * The runtime's own database connection, for tests and benchmarks that check
 * the ground truth in SQLite or make the disk fail under it. Services never
 * need it: callers use the runtime's service methods.
 */
export function databaseOf(runtime: Runtime): Db {
  const db = databases.get(runtime);
  if (!db) throw new Error('not a runtime made by createRuntime');
  return db;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  // A gateway that breaks the https rule is refused before anything is opened, stored or queued.
  if (options.apiDomain !== undefined) checkGatewayUrl(options.apiDomain, 'apiDomain');
  const db = openDb(options.dataDir);
  try {
    return assemble(options, db, clock, logger);
  } catch (err) {
    // A failed start (e.g. the startup prune on a read-only disk) must not leave the file open in this process.
    db.close();
    if (sqliteCannotWrite((err as { code?: string }).code)) {
      throw new StoreError('STORE_UNWRITABLE', `cannot start on the database in ${options.dataDir}: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
}

function assemble(options: RuntimeOptions, db: Db, clock: Clock, logger: Logger): Runtime {
  const fileVault = new FileKeyVault(options.dataDir);
  const vault = options.vault ?? fileVault;
  const events = new RuntimeEvents();
  const read = readSettings(db);
  let settings = read.settings;
  for (const p of read.problems) {
    // The gateway decides where the key goes: a bad one stops here (unless this run names its own gateway).
    if (p.key === 'apiDomain' && options.apiDomain === undefined) throw settingInvalid(p);
    if (p.key !== 'apiDomain') logger.warn(settingInvalid(p).messageEn + ' Using the default until then.');
  }
  const timeoutMs = options.timeoutMs ?? settings.timeoutMs;
  const client = new UpayClient({
    apiDomain: options.apiDomain ?? settings.apiDomain ?? PRODUCTION_API_DOMAIN,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  const terminal = new Provisioning({ db, vault, otherVaults: vault === fileVault ? [] : [fileVault], client, clock, log: (l) => logger.info(l), osInfo: `${process.platform}`, sdkVersion: 'upay-pos/0.1' });
  // An import's answer settles what is open on the order, as an answer a kind heard does (operationDeps.heard).
  const orders = new OrderService({ db, client, provisioning: terminal, clock, imported: (snapshot) => operationDeps.heard('import', snapshot) });
  const printing = new Printing({
    db,
    clock,
    events,
    settings: () => settings,
    printer: options.printer ?? settings.printer ?? 'none',
    virtualPrinterUri: options.virtualPrinterUri ?? null,
    log: (level, message) => (level === 'error' ? logger.error(message) : level === 'warn' ? logger.warn(message) : logger.info(message)),
    ...(options.printWorker ? { worker: options.printWorker } : {}),
    ...(options.printScope ? { scope: options.printScope } : {}),
  });
  // A row's lease must outlast a call and the query after it (with the longest timeout the settings allow, 2 x 120 s),
  // or a second process would take the row mid-call and both would act on it. A lease given explicitly (tests) stands.
  const leaseFloorMs = 2 * client.longestTimeoutMs + 30_000;
  // One gateway, one connectivity: what any kind learns (a call's outcome) or the app says (its network signal on
  // any kind) is one state every kind reads, raised once; coming back online sends every kind's queued rows (each
  // kind follows it) and runs the re-check (its event).
  const connectivity = new Connectivity(events, clock);
  // One queue for the counter: every kind's rows (each kind adds its own), the connectivity's flag; `queue.changed`
  // (raised by a kind, the connectivity or another process's commit: once per turn for all of them) and `queue.status`.
  const queue = new CounterQueue(events, clock, connectivity, () => db.open);
  /** What the revoke and refund engines share: the same store, gateway, terminal, orders, clock, events, timing and log. */
  const operationDeps = {
    db,
    client,
    provisioning: terminal,
    orders,
    clock,
    events,
    connectivity,
    queue,
    timing: { ...options.timing, leaseMs: options.timing?.leaseMs ?? Math.max(DEFAULT_TIMING.leaseMs, leaseFloorMs) },
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.random ? { random: options.random } : {}),
    log: (l: string) => logger.warn(l),
    // Any answer about an order settles what is open on it, whichever kind's call brought it.
    askAbout: (kind: string, id: number): Promise<unknown> => {
      const engine = kind === 'revoke' ? revokes : kind === 'refund' ? refunds : kind === 'pay' ? payments : undefined;
      return engine ? engine.queryRow(id, 'system', false) : Promise.resolve(undefined);
    },
    heard: (kind: string, snapshot: OrderSnapshot): void => {
      if (kind !== 'revoke') revokes.settleFrom(snapshot);
      if (kind !== 'refund') refunds.settleFrom(snapshot);
    },
  };
  const revokes: RevokeEngine = new RevokeEngine({
    ...operationDeps,
    warningLeadMs: () => settings.expiryWarningMinutes * 60_000,
    receipts: printing.revokeReceipts,
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
  });

  const operators = new Operators({ db, clock, ...(options.pinCost ? { pinCost: options.pinCost } : {}) });
  const refundPrinting = new RefundPrinting({ db, clock, settings: () => printing.printSettings(), kick: () => printing.kick() });
  const refunds: RefundEngine = new RefundEngine({
    ...operationDeps,
    maxAgeMs: () => options.refundMaxAgeMs ?? DEFAULT_REFUND_MAX_AGE_MS,
    receipts: refundPrinting.receipts,
    ...(options.refundCheckpoint ? { checkpoint: options.refundCheckpoint } : {}),
  });

  const paymentPrinting = new PaymentPrinting({ db, clock, settings: () => printing.printSettings(), kick: () => printing.kick() });
  const payments = new PaymentEngine({
    ...operationDeps,
    qrLifetimeMs: () => settings.qrLifetimeSeconds * 1000,
    receipts: paymentPrinting.receipts,
    payTiming: { ...options.payTiming, leaseMs: options.payTiming?.leaseMs ?? Math.max(DEFAULT_PAY_TIMING.leaseMs, leaseFloorMs) },
    ...(options.payCheckpoint ? { checkpoint: options.payCheckpoint } : {}),
  });

  /** Retention: orders past it, and the order change log beyond its size (readers behind it read everything again). */
  const maintain = (): number => {
    const pruned = orders.prune(settings.retentionDays);
    if (pruned) logger.info(`pruned ${pruned} orders older than ${settings.retentionDays} days`);
    pruneChangeLog(db);
    return pruned;
  };
  maintain();
  // At startup and every hour: a counter PC may run for weeks without a restart.
  const maintenance = setInterval(() => {
    try {
      maintain();
    } catch (err) {
      logger.warn(`hourly maintenance failed: ${(err as Error).message}`);
    }
  }, MAINTENANCE_EVERY_MS);
  maintenance.unref();
  // The re-check probes while the (shared) connectivity says the gateway is gone, and runs when it is back.
  const kinds = [revokes, refunds, payments];
  const recheck = new Recheck(kinds, {
    clock,
    events,
    isOnline: () => connectivity.isOnline,
    setOnline: (online) => void connectivity.set(online),
    reachable: () => gatewayReachable(client.apiDomain, timeoutMs ?? 5_000),
    everyMs: options.recheck?.everyMs ?? DEFAULT_RECHECK.everyMs,
    probeEveryMs: options.recheck?.probeEveryMs ?? DEFAULT_RECHECK.probeEveryMs,
    log: (l) => logger.warn(l),
  });
  // Events are per process: what another process commits on the same file reaches this one's listeners by this.
  const others = new WatchOthers({ db, events, queueChanged: () => queue.changed(), log: (l) => logger.warn(l) });
  if (options.watchOthers ?? options.startWorkers !== false) others.start();
  let shipper: ShipperProcess | null = null;
  if (options.startWorkers !== false) {
    revokes.start();
    refunds.start();
    payments.start();
    printing.start();
    recheck.start();
    shipper = startFleet(options, db, logger);
  }

  let closed = false;
  const runtime: Runtime = {
    dataDir: options.dataDir,
    apiDomain: client.apiDomain,
    clock,
    events,
    terminal,
    orders,
    revokes,
    recheck,
    operators,
    refunds,
    refundPrinting,
    payments,
    paymentPrinting,
    queueStatus: () => queue.status(),
    dayReport: (day) => loadDayReport(db, day ?? businessDay(clock.now()), clock.now()),
    vault,
    printing,
    logger,
    settings: () => settings,
    schemaVersion: () => schemaVersion(db),
    updateSettings(patch, actor) {
      // A printer that cannot be used (not on the allow-list, `virtual` without a virtual printer) is refused before it is stored.
      if (typeof patch.printer === 'string') printing.checkPrinter(patch.printer);
      settings = setSettings(db, patch, actor, clock.now());
      // A deliberate change by store IT applies at once; removing it falls back to what the process started with.
      if (typeof patch.printer === 'string') printing.setPrinter(patch.printer);
      else if (patch.printer === null) printing.setPrinter(options.printer ?? 'none');
      return settings;
    },
    maintain,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(maintenance);
      others.stop();
      recheck.stop();
      revokes.stop();
      refunds.stop();
      payments.stop();
      await revokes.settled();
      await refunds.settled();
      await payments.settled();
      await printing.stop();
      await shipper?.stop();
      await client.close();
      db.close();
    },
  };
  databases.set(runtime, db);
  return runtime;
}

/** The shipper's process, when head office is configured; a bad address is reported and the counter runs on. */
function startFleet(options: RuntimeOptions, db: Db, logger: Logger): ShipperProcess | null {
  if (options.fleet === false) return null;
  const env = options.fleet?.env ?? process.env;
  try {
    if (!fleetConfigured(db, env)) return null;
  } catch (err) {
    logger.warn(`fleet: not shipping: ${(err as Error).message}`);
    return null;
  }
  const p = new ShipperProcess({ ...options.fleet, dataDir: options.dataDir, env, log: (l) => logger.info(l) });
  p.start();
  return p;
}

/** Whether the gateway's host accepts a TCP connection: the offline re-check's probe (nothing is sent). */
function gatewayReachable(apiDomain: string, timeoutMs: number): Promise<boolean> {
  const url = new URL(apiDomain);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
