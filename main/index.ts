/**
 * `upay-pos/main`: what a host Electron app (or a plain Node service) embeds.
 * Loads no Electron module: registerIpc receives ipcMain as a parameter, so
 * this entry also works under plain Node (tests, the CLI, servers).
 */
export { createRuntime, silentLogger, type Logger, type Runtime, type RuntimeOptions } from './runtime';
export { createSandbox, type Sandbox } from './sandbox';
export { registerIpc, forbiddenSender, type IpcRegistration, type RegisterOptions } from './ipc/register';
export {
  createHandlers,
  forwardEvents,
  errorEnvelope,
  toOrderView,
  toPrintJobView,
  toQueueStatusView,
  toRevokeView,
  toSettingsView,
  toTerminalStatus,
  type Handler,
  type HandlerOptions,
  type Handlers,
  type VendorCredentials,
} from './ipc/handlers';
export { APP_ORIGIN, isAllowedFrame, isAllowedSender, type FrameLike, type SenderEventLike } from './ipc/sender';
export * from './ipc/contract';
export { PosError, toPosError, type ErrorInfo } from './errors';
export type { KeyVault } from './terminal/vault';
export type { Order, OrderInput, Revoke, RevokeState, PrintJob, TerminalInfo } from './domain';
export type { RuntimeEventMap, RuntimeEventName, QueueStatus } from './events';
export { defaultDataDir } from './config';
