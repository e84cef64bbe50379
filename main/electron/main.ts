/**
 * The Electron shell: app lifecycle, the app:// protocol, the one window,
 * navigation and permission guards, renderer crash recovery, the safeStorage
 * key vault, the log file and the connectivity signal. Decisions live in
 * pure modules next to it (policy.ts, app-protocol.ts, boot.ts, log-file.ts);
 * this file only wires them to Electron.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  app,
  BrowserWindow,
  ipcMain,
  net,
  powerMonitor,
  powerSaveBlocker,
  protocol,
  safeStorage,
  session,
  utilityProcess,
  type RenderProcessGoneDetails,
  type WebContents,
} from 'electron';
import { defaultDataDir } from '../config';
import { registerIpc, type IpcRegistration } from '../ipc/register';
import { FileKeyVault } from '../terminal/vault';
import { serveAppRequest } from './app-protocol';
import { boot, type Booted } from './boot';
import { autostartPlan, JS_FLAGS, relaunchArgs, RELAUNCH_ENV } from './launch';
import { openShellLog } from './log-file';
import { APP_ORIGIN, APP_SCHEME, CONNECTIVITY_POLL_MS, isAllowedNavigation, onRendererGone, permissionDecision, windowOpenDecision } from './policy';
import { SafeStorageVault } from './safe-storage-vault';

const RENDERER_DIR = path.join(__dirname, '..', '..', 'renderer');
const PRELOAD = path.join(__dirname, '..', '..', 'preload', 'index.js');
const START_URL = `${APP_ORIGIN}/index.html`;
const ERROR_URL = `${APP_ORIGIN}/error.html`;

// The runtime's V8 flags on every platform: the switch reaches every process Electron starts;
// the main process gets them from its command line, else from one relaunch (see launch.ts).
app.commandLine.appendSwitch('js-flags', JS_FLAGS); // eng-disable CUSTOM_ARGUMENTS_JS_CHECK

// Must happen before `ready`: a standard, secure scheme gives app://pos a real origin for CSP 'self'.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);
app.enableSandbox();

// One data dir for the app and the CLI (`upay-pos` uses the same default).
const dataDir = process.env.UPAY_POS_DATA_DIR || defaultDataDir();

let booted: Booted | undefined;
let ipc: IpcRegistration | undefined;
let mainWindow: BrowserWindow | null = null;
let blockerId: number | null = null;
let connectivityTimer: NodeJS.Timeout | undefined;
let quitting = false;

// The data dir is checked as openDb checks it before anything (the log, Chromium's profile) is written in it;
// a refused one gets nothing, and start() fails with why (see openShellLog).
const shell = openShellLog(dataDir, {
  secrets: () => booted?.secrets ?? [],
  mirror: app.isPackaged ? null : process.stderr,
});
const log = shell.log;
app.setPath('userData', shell.userData);

const relaunch = relaunchArgs(process.argv, process.env, app.isPackaged);
if (relaunch) {
  process.env[RELAUNCH_ENV] = '1';
  app.relaunch({ args: relaunch });
  app.exit(0);
} else if (!app.requestSingleInstanceLock()) {
  // Two apps on one data dir would fight over the outbox and the printer.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => guardContents(contents));
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    if (quitting || !booted) return;
    event.preventDefault();
    quitting = true;
    void shutdown().finally(() => app.exit(0));
  });
  app.whenReady()
    .then(start)
    .catch((err: unknown) => fatal(err));
  process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`));
}

async function start(): Promise<void> {
  log.info(`upay-pos ${app.getVersion()} starting (electron ${process.versions.electron}, data dir ${dataDir})`);
  if (shell.refused) throw shell.refused;
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permissionDecision(permission)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission) => permissionDecision(permission));
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(RENDERER_DIR, request));

  booted = await boot({
    dataDir,
    env: process.env,
    logger: log,
    vendorFile: app.isPackaged ? path.join(process.resourcesPath, 'vendor.json') : null,
    vault: (dir, settings, mode) =>
      // The sandbox terminal's key is worthless; a missing OS keyring must not stop a newcomer's demo.
      mode === 'sandbox' ? new FileKeyVault(dir) : new SafeStorageVault({ safeStorage, allowBasicText: () => settings().allowBasicTextVault }),
    // The fleet shipper (when head office is configured) in a utility process: the RunAsNode fuse is off.
    runtime: { fleet: { fork: (modulePath, args, o) => utilityProcess.fork(modulePath, args, { env: o.env, execArgv: o.execArgv, stdio: 'pipe', serviceName: 'upay-pos fleet shipper' }) } },
  });
  const runtime = booted.runtime;
  ipc = registerIpc(runtime, ipcMain, {
    mode: booted.mode,
    version: app.getVersion(),
    vendor: booted.vendor,
    actor: 'app',
    webContentsList: () => BrowserWindow.getAllWindows().map((w) => w.webContents),
  });

  startConnectivity();
  const kiosk = runtime.settings().kiosk;
  applyAutostart(kiosk);
  createWindow(kiosk);
}

/** A counter machine (the `kiosk` setting) starts the app at login; see launch.ts. */
function applyAutostart(kiosk: boolean): void {
  const plan = autostartPlan({ platform: process.platform, kiosk, isPackaged: app.isPackaged, execPath: process.execPath, env: process.env, home: os.homedir() });
  try {
    if (plan.kind === 'login-item') {
      app.setLoginItemSettings({ openAtLogin: plan.openAtLogin, args: [`--js-flags=${JS_FLAGS}`] });
    } else if (plan.kind === 'xdg' && plan.content !== null) {
      fs.mkdirSync(path.dirname(plan.file), { recursive: true });
      fs.writeFileSync(plan.file, plan.content, { mode: 0o644 });
    } else if (plan.kind === 'xdg') {
      fs.rmSync(plan.file, { force: true });
    }
  } catch (err) {
    log.warn(`autostart: ${(err as Error).message}`);
  }
}

function createWindow(kiosk: boolean, url: string = START_URL): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 600,
    show: false,
    kiosk,
    autoHideMenuBar: true,
    backgroundColor: '#ffffff',
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      // Middle-click must not open windows (the window-open handler denies them anyway).
      disableBlinkFeatures: 'Auxclick',
      devTools: !app.isPackaged,
      // Reviewed: exposes only the contract's named functions (see docs/security.md).
      preload: PRELOAD, // eng-disable PRELOAD_JS_CHECK
    },
  });
  const win = mainWindow;
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  if (kiosk && blockerId === null) blockerId = powerSaveBlocker.start('prevent-display-sleep');

  let crashes: number[] = [];
  win.webContents.on('render-process-gone', (_event, details: RenderProcessGoneDetails) => {
    if (details.reason === 'clean-exit' || win.isDestroyed()) return;
    const decision = onRendererGone(crashes, Date.now());
    crashes = decision.recent;
    log.error(`renderer gone (${details.reason}, exit ${details.exitCode}); crash ${crashes.length} in the window: ${decision.action}`);
    if (decision.action === 'reload') {
      setTimeout(() => {
        if (!win.isDestroyed()) void win.loadURL(START_URL);
      }, decision.delayMs);
    } else {
      void win.loadURL(ERROR_URL);
    }
  });
  win.webContents.on('unresponsive', () => log.warn('renderer unresponsive'));
  void win.loadURL(url);
}

/** Every WebContents (ours or not): no navigation off app://pos, no new windows, no webviews. */
function guardContents(contents: WebContents): void {
  const refuse = (event: { preventDefault(): void }, url: string) => {
    if (isAllowedNavigation(url)) return;
    event.preventDefault();
    log.warn(`refused navigation to ${url.slice(0, 200)}`);
  };
  contents.on('will-navigate', (event, url) => refuse(event, url));
  contents.on('will-frame-navigate', (event) => refuse(event, event.url));
  contents.on('will-redirect', (event, url) => refuse(event, url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    log.warn(`refused window.open(${url.slice(0, 200)})`);
    return windowOpenDecision(url);
  });
}

/** The revoke queue's online signal: net.isOnline() polled, plus a check on resume and unlock. */
function startConnectivity(): void {
  const runtime = booted?.runtime;
  if (!runtime) return;
  let last: boolean | undefined;
  const check = () => {
    const online = net.isOnline();
    if (online === last) return;
    last = online;
    log.info(`connectivity: ${online ? 'online' : 'offline'}`);
    runtime.revokes.setOnline(online);
  };
  check();
  connectivityTimer = setInterval(check, CONNECTIVITY_POLL_MS);
  connectivityTimer.unref();
  powerMonitor.on('resume', check);
  powerMonitor.on('unlock-screen', check);
}

async function shutdown(): Promise<void> {
  if (connectivityTimer) clearInterval(connectivityTimer);
  if (blockerId !== null && powerSaveBlocker.isStarted(blockerId)) powerSaveBlocker.stop(blockerId);
  ipc?.dispose();
  try {
    await booted?.close();
    log.info('stopped');
  } catch (err) {
    log.error(`shutdown: ${(err as Error).message}`);
  }
}

function fatal(err: unknown): void {
  log.error(`startup failed: ${(err as Error)?.stack ?? String(err)}`);
  // Show what failed instead of an empty window: the error page is part of the renderer bundle.
  if (!mainWindow) createWindow(false, ERROR_URL);
}
