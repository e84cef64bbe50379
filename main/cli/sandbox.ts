/** `upay-pos sandbox` and `upay-pos demo`. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invalidInput, PosError } from '../errors';
import { createRuntime } from '../runtime';
import { createSandbox } from '../sandbox';
import { checkPrinter, stderrLogger, str, type CliContext } from './context';
import { describeOrder, finishReport, humanReport, settled, waitForRevoke } from './format';
import { humanPay, payReport } from './pay';

export async function sandboxCommand(ctx: CliContext): Promise<number> {
  // Global flags are not used here, but a wrong one is still refused rather than ignored (the gateway: in parseCli).
  checkPrinter(ctx.global.printer);
  const port = portOf(ctx, 'port');
  const printerPort = portOf(ctx, 'printer-port');
  const host = str(ctx, 'host') ?? '127.0.0.1';
  const sb = await createSandbox({ host, ...(port !== undefined ? { port } : {}), ...(printerPort !== undefined ? { printerPort } : {}) });
  const doc = {
    gateway: sb.gateway.url,
    printer: sb.printer.uri,
    vendor: sb.gateway.vendor,
    activationCodes: sb.gateway.activationCodes(),
    // The customer's side of a QR payment, and what tests count (docs/sandbox.md "Control endpoints").
    control: {
      customerPay: `${sb.gateway.url}/sandbox/customer-pay`,
      counters: `${sb.gateway.url}/sandbox/counters?client_sn=`,
      fault: `${sb.gateway.url}/sandbox/fault`,
    },
  };
  ctx.out(
    doc,
    [
      `sandbox gateway   ${doc.gateway}`,
      `virtual printer   ${doc.printer}`,
      `vendor_sn ${doc.vendor.vendorSn}  vendor_key ${doc.vendor.vendorKey}  app_id ${doc.vendor.appId}`,
      `activation codes  ${doc.activationCodes.join(' ')}`,
      '',
      `try: upay-pos --api-domain ${doc.gateway} --printer ${doc.printer} --data-dir /tmp/pos activate \\`,
      `       --app-id ${doc.vendor.appId} --code ${doc.activationCodes[0] ?? 'CODE'} --device-id counter-1 --vendor-sn ${doc.vendor.vendorSn} --vendor-key ${doc.vendor.vendorKey}`,
      `a customer pays a QR: curl -X POST ${doc.control.customerPay} -d '{"client_sn":"…"}'`,
      '(Ctrl-C to stop)',
    ].join('\n'),
  );
  // Show each receipt the virtual printer takes, as store IT rehearse.
  let shown = 0;
  const watch = setInterval(() => {
    const jobs = sb.printer.jobs();
    for (; shown < jobs.length; shown++) ctx.progress(`virtual printer job ${jobs[shown]!.id}:\n${jobs[shown]!.decoded.text}`);
  }, 250);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(watch);
  await sb.close();
  return 0;
}

function portOf(ctx: CliContext, name: string): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw invalidInput(`--${name}`, 'must be a port number from 0 to 65535');
  return Number(v);
}

/** A headless walkthrough on the embedded default: sandbox, activate, take a payment, void it (revoke), print. */
export async function demo(ctx: CliContext): Promise<number> {
  checkPrinter(ctx.global.printer);
  const dataDir = str(ctx, 'data-dir') ?? ctx.env.UPAY_POS_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-demo-'));
  const step = (n: number, zh: string, en: string) => ctx.progress(`\n[${n}] ${zh} / ${en}`);
  const sb = await createSandbox();
  const rt = createRuntime({ dataDir, apiDomain: sb.gateway.url, printer: 'virtual', virtualPrinterUri: sb.printer.uri, logger: stderrLogger(ctx) });
  try {
    step(1, '启动沙箱网关和虚拟打印机', 'sandbox gateway and virtual printer');
    ctx.progress(`    gateway ${sb.gateway.url}, printer ${sb.printer.uri}, data ${dataDir}`);
    step(2, '激活终端', 'activate the terminal');
    if (!rt.terminal.info()) {
      const v = sb.gateway.vendor;
      await rt.terminal.activate({ appId: v.appId, code: sb.gateway.activationCodes()[0]!, deviceId: `demo-${os.hostname()}`.slice(0, 64), vendorSn: v.vendorSn, vendorKey: v.vendorKey, name: 'demo' }, 'demo');
    }
    const t = rt.terminal.info()!;
    ctx.progress(`    terminal ${t.terminalSn}, ${t.merchantName} / ${t.storeName}`);
    step(3, '签到（轮换密钥）', 'check in (key rotation)');
    await rt.terminal.checkin('demo');
    step(4, '扫顾客付款码收款 ￥88.00', 'take a barcode payment of ¥88.00');
    const who = { operatorId: null, operatorName: '收银员 1', approverId: null, approverName: null };
    const payment = await rt.payments.request({ amountCents: 8800, method: 'barcode', barcode: '134567890123456789', subject: '演示商品' }, who, 'demo');
    ctx.progress(`    ${humanPay(await payReport(rt, payment)).split('\n').join('\n    ')}`);
    if (payment.state !== 'paid' || !payment.orderSn) throw new PosError('DEMO_FAILED', '演示收款失败', 'demo payment failed', { state: payment.state });
    const order = rt.orders.get(payment.orderSn)!;
    ctx.progress(`    ${describeOrder(order)}`);
    step(5, '撤销', 'revoke');
    const r = await rt.revokes.request({ sn: order.sn }, '收银员 1', 'demo');
    const report = await finishReport(rt, r);
    ctx.progress(`    ${humanReport(report).split('\n').join('\n    ')}`);
    step(6, '虚拟打印机收到的撤销凭证', 'the receipt the virtual printer received');
    const jobs = await sb.printer.waitForJobs(2, 10_000);
    const text = jobs[jobs.length - 1]?.decoded.text ?? '';
    ctx.progress(text);
    step(7, '促销订单的撤销会被拒绝', 'a promotion order is refused');
    const promo = sb.gateway.seedOrder({ terminalSn: t.terminalSn, totalCents: 1999, promotion: true, subject: '活动商品' });
    // CANCEL_ERROR is confirmed by a query (the order still PAID) before it counts as refused.
    const asked = await rt.revokes.request({ sn: promo.sn }, '收银员 1', 'demo');
    const refused = settled(asked) ? asked : await waitForRevoke(rt, asked.id, 30_000);
    ctx.progress(`    ${refused.state}: ${refused.error?.gatewayCode ?? ''} ${refused.error?.gatewayMessage ?? ''}`);
    ctx.out({ dataDir, payment, revoke: report, receiptText: text, refused }, `demo complete: paid ${payment.clientSn}, then ${report.outcome}; data in ${dataDir}`);
    return report.outcome === 'revoked' && refused.state === 'rejected' ? 0 : 1;
  } finally {
    await rt.close();
    await sb.close();
  }
}
