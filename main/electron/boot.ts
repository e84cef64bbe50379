/**
 * Builds the app's runtime from the environment, without Electron (so it is
 * tested under plain Node): the gateway mode (embedded sandbox when no
 * gateway is configured, else production), vendor credentials, and, in
 * sandbox mode, a ready-to-use terminal with a few paid orders so a newcomer
 * sees the whole flow with no credentials and no hardware.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { VendorCredentials } from '../ipc/handlers';
import { createRuntime, type Logger, type Runtime, type RuntimeOptions } from '../runtime';
import { createSandbox, paidOrderInput, type Sandbox } from '../sandbox';
import { openDb } from '../store/db';
import { readSettings, settingInvalid, type Settings } from '../store/settings';
import type { KeyVault } from '../terminal/vault';
import { readPrivateFile } from '../util/private-file';
import { resolveGateway, resolveVendor } from './policy';

export interface BootOptions {
  /** The shared data dir (Electron userData = the CLI's default data dir). */
  dataDir: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Builds the key vault for a data dir (safeStorage in the app). */
  vault: (dataDir: string, settings: () => Settings, mode: 'sandbox' | 'production') => KeyVault;
  /** Where vendor.json may be (the app's resources directory); null: env only. */
  vendorFile: string | null;
  /** Sandbox mode: activate a terminal and seed paid orders (default true). */
  seedSandbox?: boolean;
  runtime?: Partial<RuntimeOptions>;
}

export interface Booted {
  mode: 'sandbox' | 'production';
  runtime: Runtime;
  vendor: VendorCredentials | null;
  sandbox: Sandbox | null;
  /** Exact secret values the log must scrub. */
  secrets: string[];
  close(): Promise<void>;
}

/**
 * Reads the stored settings of a data dir (the mode is decided before the
 * runtime exists). A bad stored gateway stops the start with the command that
 * repairs it: falling back to the sandbox would hide it.
 */
export function storedSettings(dataDir: string, env: NodeJS.ProcessEnv = {}): Settings {
  const db = openDb(dataDir);
  try {
    const { settings, problems } = readSettings(db);
    const gateway = problems.find((p) => p.key === 'apiDomain');
    if (gateway && !env.UPAY_API_DOMAIN?.trim()) throw settingInvalid(gateway);
    return settings;
  } finally {
    db.close();
  }
}

export async function boot(options: BootOptions): Promise<Booted> {
  const { env, logger } = options;
  const stored = storedSettings(options.dataDir, env);
  const gateway = resolveGateway(env, stored.apiDomain);
  let runtimeRef: Runtime | undefined;
  const settings = () => runtimeRef?.settings() ?? stored;

  if (gateway.mode === 'production') {
    const found = resolveVendor(env, () => readIfExists(options.vendorFile));
    if (found.vendor === null && found.problem) logger.warn(`vendor credentials: ${found.problem}`);
    if (found.vendor) logger.info(`vendor credentials from ${found.source}`);
    const runtime = createRuntime({
      dataDir: options.dataDir,
      apiDomain: gateway.apiDomain,
      vault: options.vault(options.dataDir, settings, 'production'),
      logger,
      ...(env.UPAY_POS_PRINTER ? { printer: env.UPAY_POS_PRINTER } : {}),
      ...options.runtime,
    });
    runtimeRef = runtime;
    logger.info(`production mode: gateway ${runtime.apiDomain}, data dir ${runtime.dataDir}`);
    return { mode: 'production', runtime, vendor: found.vendor, sandbox: null, secrets: found.vendor ? [found.vendor.vendorKey] : [], close: () => runtime.close() };
  }

  // Sandbox data never mixes with a real terminal's: its own dir, fresh at each start
  // (the embedded gateway forgets its terminals and orders when the app exits).
  const dataDir = path.join(options.dataDir, 'sandbox');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sandbox = await createSandbox({ host: '127.0.0.1' });
  let runtime: Runtime;
  try {
    runtime = createRuntime({
      dataDir,
      apiDomain: sandbox.gateway.url,
      printer: 'virtual',
      virtualPrinterUri: sandbox.printer.uri,
      vault: options.vault(dataDir, settings, 'sandbox'),
      logger,
      ...options.runtime,
    });
  } catch (err) {
    await sandbox.close();
    throw err;
  }
  runtimeRef = runtime;
  const vendor: VendorCredentials = { ...sandbox.gateway.vendor };
  logger.info(`sandbox mode: gateway ${sandbox.gateway.url}, virtual printer ${sandbox.printer.uri}, data dir ${dataDir}`);
  if (options.seedSandbox !== false) {
    try {
      await seedSandbox(runtime, sandbox, vendor);
    } catch (err) {
      logger.warn(`sandbox: demo setup failed: ${(err as Error).message}`);
    }
  }
  return {
    mode: 'sandbox',
    runtime,
    vendor,
    sandbox,
    secrets: [vendor.vendorKey],
    async close() {
      await runtime.close();
      await sandbox.close();
    },
  };
}

/**
 * Sandbox sign-in: one operator per role with PINs printed in the docs (no money is real here), so a
 * newcomer signs in at once instead of creating the first store IT account at every start.
 */
export const SANDBOX_OPERATORS = [
  { name: '门店IT', role: 'store_it', pin: '9999' },
  { name: '李主管', role: 'supervisor', pin: '2222' },
  { name: '小王', role: 'cashier', pin: '1111' },
] as const;

/** Activates a terminal with the first sandbox code, records a few of today's paid orders, and adds the sandbox operators. */
export async function seedSandbox(runtime: Runtime, sandbox: Sandbox, vendor: VendorCredentials): Promise<void> {
  if (runtime.operators.count() === 0) for (const o of SANDBOX_OPERATORS) await runtime.operators.add(o, 'sandbox');
  const code = sandbox.gateway.activationCodes()[0];
  if (!code) return;
  await runtime.terminal.activate({ ...vendor, code, deviceId: 'sandbox-counter', name: 'sandbox' }, 'sandbox');
  const terminalSn = runtime.terminal.info()?.terminalSn;
  if (!terminalSn) return;
  const items: Array<[number, string]> = [
    [1280, '拿铁咖啡 Latte'],
    [3500, '午餐套餐 Lunch set'],
    [990, '矿泉水 Water'],
  ];
  for (const [totalCents, subject] of items) {
    const o = sandbox.gateway.seedOrder({ terminalSn, totalCents, subject, operator: 'cashier-1' });
    runtime.orders.record(paidOrderInput(o), 'sandbox');
  }
}

/** vendor.json holds the vendor key: like the CLI's key file, it must be readable by its owner only. */
function readIfExists(file: string | null): string | null {
  if (!file) return null;
  try {
    return readPrivateFile(file, 64 * 1024);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
