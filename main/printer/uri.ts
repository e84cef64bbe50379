/**
 * Where receipts go, as one setting string: `tcp://host[:port]` (network
 * printer, raw port 9100 by default), an OS printer device on the allow-list
 * (`/dev/usb/lpN`, `/dev/lpN`; `COMn`, `LPTn` on Windows), `virtual` (the
 * embedded virtual printer; the runtime swaps it for its tcp address with
 * `resolvePrinterUri`), or `none`.
 *
 * Never a regular file, a symlink to one or a UNC path: whoever may change
 * the setting (the renderer is untrusted) would otherwise append receipt
 * bytes, with a line of their choosing, to any file the POS user can write
 * (a shell rc file), or send them to another machine's share. The
 * allow-list is the first gate; the device transport checks again, after
 * opening, that what it opened is a character device.
 */

import net from 'node:net';

export type PrinterUri =
  | { kind: 'tcp'; host: string; port: number }
  /** `path` as written: `/dev/usb/lp0`, or `COM3` / `LPT1` (opened as `\\.\COM3` on Windows). */
  | { kind: 'device'; path: string }
  | { kind: 'virtual' }
  | { kind: 'none' };

export const PRINTER_CHOICES_EN = 'Use tcp://host:9100, a printer device (/dev/usb/lp0, /dev/lp0; COM1, LPT1 on Windows), "virtual" (sandbox) or "none".';
const PRINTER_CHOICES_ZH = '可用：tcp://主机:9100、打印机设备（/dev/usb/lp0、/dev/lp0；Windows 上为 COM1、LPT1）、"virtual"（沙箱）或 "none"。';

export class PrinterUriError extends Error {
  readonly code = 'PRINTER_URI_INVALID';
  /** For the cashier / store IT in Chinese (the English one is `message`). */
  readonly messageZh: string;
  constructor(
    readonly input: string,
    reason: string,
    reasonZh: string = reason,
  ) {
    super(`invalid printer "${input}": ${reason}. ${PRINTER_CHOICES_EN}`);
    this.name = 'PrinterUriError';
    this.messageZh = `打印机设置无效（"${input}"）：${reasonZh}。${PRINTER_CHOICES_ZH}`;
  }
}

export const DEFAULT_PRINTER_PORT = 9100;

/** Raw-print (JetDirect) ports: what a destination chosen in the renderer may use. */
export const RAW_PRINT_PORTS = { from: 9100, to: 9109 } as const;

export interface PrinterPolicy {
  /** `virtual` accepted (sandbox mode). Default true. */
  virtual?: boolean;
  /** TCP ports accepted; default any. */
  tcpPorts?: { from: number; to: number };
  /** Which OS's device names are accepted. Default: this process's platform. */
  platform?: NodeJS.Platform;
  /**
   * TCP hosts accepted: `private-ip` = a literal private-range or link-local
   * IP address only (no host name: DNS could point it anywhere), or
   * loopback (the bytes stay on this machine). Default: any.
   */
  tcpHosts?: 'any' | 'private-ip';
}

/** 10/8, 172.16/12, 192.168/16, 169.254/16 (link-local); IPv6 fc00::/7 (unique local), fe80::/10 (link-local). */
export function isPrivateOrLinkLocalIp(host: string): boolean {
  if (net.isIPv4(host)) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (net.isIPv6(host)) {
    const first = parseInt(host.split(':')[0] || '0', 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  }
  return false;
}

const isLoopbackIp = (host: string) => (net.isIPv4(host) && host.startsWith('127.')) || host === '::1';

/**
 * What a destination set from the renderer may be: in production no
 * `virtual`, and TCP only to raw-print ports, so a page cannot make the
 * print worker talk to another local or LAN service (a database, a mail
 * server) with receipt lines it wrote, and only to a literal private-range
 * or link-local IP, so receipt contents cannot leave the shop for a host
 * name or a public address. Store IT sets anything else with the CLI or
 * UPAY_POS_PRINTER.
 */
export const rendererPrinterPolicy = (mode: 'sandbox' | 'production'): PrinterPolicy => ({
  virtual: mode === 'sandbox',
  tcpPorts: RAW_PRINT_PORTS,
  tcpHosts: 'private-ip',
});

const POSIX_DEVICES = [/^\/dev\/usb\/lp\d{1,3}$/, /^\/dev\/lp\d{1,3}$/];
const WINDOWS_DEVICES = /^(COM[1-9]\d{0,2}|LPT[1-9])$/i;

function parseDevice(text: string, input: string, platform: NodeJS.Platform): PrinterUri {
  if (/^(\\\\|\/\/)/.test(text)) throw new PrinterUriError(input, 'a network share (UNC path) is not a printer destination', '网络共享路径（UNC）不能作为打印机');
  if (platform === 'win32') {
    if (WINDOWS_DEVICES.test(text)) return { kind: 'device', path: text.toUpperCase() };
    throw new PrinterUriError(input, 'not a printer port: give COM1..COM256 or LPT1..LPT9', '不是打印机端口：请填写 COM1..COM256 或 LPT1..LPT9');
  }
  if (POSIX_DEVICES.some((re) => re.test(text))) return { kind: 'device', path: text };
  if (text.startsWith('/')) {
    throw new PrinterUriError(input, 'not an allowed printer device (/dev/usb/lpN or /dev/lpN); files are never printer destinations', '不是允许的打印机设备（/dev/usb/lpN 或 /dev/lpN）；普通文件不能作为打印机');
  }
  throw new PrinterUriError(input, 'a printer device is written /dev/usb/lpN or /dev/lpN', '打印机设备应写作 /dev/usb/lpN 或 /dev/lpN');
}

export function parsePrinterUri(input: string, policy: PrinterPolicy = {}): PrinterUri {
  const text = input.trim();
  if (text === '') throw new PrinterUriError(input, 'empty', '为空');
  const lower = text.toLowerCase();
  if (lower === 'none') return { kind: 'none' };
  if (lower === 'virtual') {
    if (policy.virtual === false) throw new PrinterUriError(input, 'the virtual printer exists in sandbox mode only', '虚拟打印机仅用于沙箱模式');
    return { kind: 'virtual' };
  }
  if (lower.startsWith('tcp:')) {
    const m = /^tcp:\/\/(\[[0-9a-f:.]+\]|[a-z0-9][a-z0-9.-]*)(?::(\d{1,5}))?\/?$/i.exec(text);
    if (!m) throw new PrinterUriError(input, 'expected tcp://host:port', '应为 tcp://主机:端口');
    const port = m[2] === undefined ? DEFAULT_PRINTER_PORT : Number(m[2]);
    if (port < 1 || port > 65535) throw new PrinterUriError(input, `port ${port} out of range`, `端口 ${port} 超出范围`);
    const ports = policy.tcpPorts;
    if (ports && (port < ports.from || port > ports.to)) {
      throw new PrinterUriError(
        input,
        `port ${port} is not a raw-print port (${ports.from}-${ports.to}); store IT can set another with the CLI`,
        `端口 ${port} 不是打印端口（${ports.from}-${ports.to}）；其他端口请由门店 IT 用命令行设置`,
      );
    }
    const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
    if (policy.tcpHosts === 'private-ip' && !isPrivateOrLinkLocalIp(host) && !isLoopbackIp(host)) {
      throw new PrinterUriError(
        input,
        'from the app, a network printer is a private or link-local IP address (10.x, 172.16-31.x, 192.168.x, 169.254.x); store IT can set another with the CLI',
        '在收银界面中，网络打印机只能是内网或链路本地 IP 地址（10.x、172.16-31.x、192.168.x、169.254.x）；其他地址请由门店 IT 用命令行设置',
      );
    }
    return { kind: 'tcp', host, port };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new PrinterUriError(input, `unsupported scheme "${text.split(':')[0]}"`, `不支持的协议 "${text.split(':')[0]}"`);
  return parseDevice(text, input, policy.platform ?? process.platform);
}

export function formatPrinterUri(uri: PrinterUri): string {
  switch (uri.kind) {
    case 'tcp':
      return `tcp://${uri.host.includes(':') ? `[${uri.host}]` : uri.host}:${uri.port}`;
    case 'device':
      return uri.path;
    default:
      return uri.kind;
  }
}

/** Replaces `virtual` with the embedded virtual printer's address (tcp://127.0.0.1:PORT). */
export function resolvePrinterUri(uri: PrinterUri | string, virtualUri: string | null): PrinterUri {
  const parsed = typeof uri === 'string' ? parsePrinterUri(uri) : uri;
  if (parsed.kind !== 'virtual') return parsed;
  if (!virtualUri) throw new PrinterUriError('virtual', 'the virtual printer is not running (sandbox mode only)', '虚拟打印机未运行（仅用于沙箱模式）');
  const resolved = parsePrinterUri(virtualUri);
  if (resolved.kind === 'virtual') throw new PrinterUriError(virtualUri, 'virtual cannot resolve to itself', 'virtual 不能指向自身');
  return resolved;
}
