/**
 * The embedded default: a sandbox Upay gateway and a virtual ESC/POS printer,
 * both on loopback, started together. Used by `upay-pos sandbox`, the demo,
 * the app in sandbox mode, and the tests.
 */
import type { Clock } from '../common/time';
import { createSandboxGateway, type SandboxGateway, type SandboxGatewayOptions, type SandboxOrder } from './gateway';
import { createVirtualPrinter, type VirtualPrinter } from './virtual-printer';

export { createSandboxGateway, type SandboxGateway } from './gateway';
export { createVirtualPrinter, type VirtualPrinter } from './virtual-printer';

/** A sandbox order as the host app records it after its own payment (`runtime.orders.record`). */
export function paidOrderInput(o: SandboxOrder) {
  return {
    sn: o.sn,
    clientSn: o.clientSn,
    tradeNo: o.tradeNo || null,
    totalCents: o.totalCents,
    payway: o.payway,
    paywayName: o.paywayName,
    subject: o.subject,
    operator: o.operator,
    finishedAt: o.finishTime,
    status: 'PAID',
  };
}

export interface Sandbox {
  gateway: SandboxGateway;
  printer: VirtualPrinter;
  close(): Promise<void>;
}

export async function createSandbox(
  options: { host?: string; port?: number; printerPort?: number; clock?: Clock; gateway?: SandboxGatewayOptions } = {},
): Promise<Sandbox> {
  const gateway = await createSandboxGateway({
    ...options.gateway,
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let printer: VirtualPrinter;
  try {
    printer = await createVirtualPrinter({
      ...(options.host ? { host: options.host } : {}),
      ...(options.printerPort !== undefined ? { port: options.printerPort } : {}),
    });
  } catch (err) {
    await gateway.close();
    throw err;
  }
  return {
    gateway,
    printer,
    async close() {
      await Promise.all([gateway.close(), printer.close()]);
    },
  };
}
