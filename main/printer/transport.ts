/**
 * Getting bytes to a printer and asking it how it is. Owns the timeouts and
 * the meaning of "sent": for a network printer, `send` resolves only after
 * the printer has read everything and closed its side (raw port 9100
 * printers close when they reach our FIN), so a printer that accepts the
 * connection but never reads is a timeout, not a success. Status comes from
 * ESC/POS real-time status (DLE EOT 1/2/4) where the printer answers, and
 * from connectivity otherwise.
 *
 * Our own socket/file code rather than node-thermal-printer's interfaces:
 * its network interface destroys the socket as soon as the bytes are queued
 * locally (a hung printer looks like success) and has a single idle timeout;
 * its file interface retries writes for minutes. We still use the library
 * for the command vocabulary (escpos.ts).
 */
import net from 'node:net';
import { formatPrinterUri, parsePrinterUri, type PrinterUri } from './uri';
import { DeviceTransport } from './device';
import { PrinterError, type PrinterStatus, type PrinterTransport, type TransportOptions } from './transport-types';

export * from './transport-types';
export { openPrinterDevice, printerDeviceBusy } from './device';

const DEFAULTS = { connectTimeoutMs: 3000, writeTimeoutMs: 10_000, statusTimeoutMs: 1500, statusQuery: 'escpos' as const, waitForPrinterClose: true };

export function createPrinterTransport(uri: PrinterUri | string, options: TransportOptions = {}): PrinterTransport {
  const parsed = typeof uri === 'string' ? parsePrinterUri(uri) : uri;
  const opts = { ...DEFAULTS, ...options };
  switch (parsed.kind) {
    case 'tcp':
      return new TcpTransport(parsed.host, parsed.port, opts);
    case 'device':
      return new DeviceTransport(parsed.path, opts);
    case 'none':
      return {
        uri: 'none',
        reportsStatus: false,
        send: () => Promise.reject(new PrinterError('PRINTER_NOT_CONFIGURED', 'no printer is configured')),
        status: () => Promise.resolve({ state: 'none', detail: 'no printer configured' }),
      };
    case 'virtual':
      throw new PrinterError('PRINTER_NOT_CONFIGURED', '"virtual" must be resolved to the virtual printer address first (resolvePrinterUri)');
  }
}

/** DLE EOT n for n = 1 (printer), 2 (offline cause), 4 (roll paper sensor): one reply byte each. */
const STATUS_QUERY = Buffer.from([0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04]);

/** Real-time status bytes all have bits 1 and 4 set and 0 and 7 clear. */
const isStatusByte = (b: number | undefined): b is number => b !== undefined && (b & 0x93) === 0x12;

/** Interprets the replies to STATUS_QUERY (any may be missing). Cover before paper: it is the cause to fix first. */
export function interpretRealtimeStatus(reply: Uint8Array): PrinterStatus {
  const [printer, cause, paper] = [reply[0], reply[1], reply[2]];
  if (!isStatusByte(printer) && !isStatusByte(cause) && !isStatusByte(paper)) {
    return { state: 'unknown', detail: `unexpected status reply ${Buffer.from(reply).toString('hex') || '(none)'}` };
  }
  if (isStatusByte(cause) && cause & 0x04) return { state: 'cover_open', detail: 'printer cover is open' };
  if (isStatusByte(paper) && paper & 0x60) return { state: 'paper_out', detail: 'paper roll is empty' };
  if (isStatusByte(cause) && cause & 0x20) return { state: 'paper_out', detail: 'printing stopped: paper end' };
  if (isStatusByte(cause) && cause & 0x40) return { state: 'unknown', detail: 'printer reports an error (cutter or head): check the printer' };
  if (isStatusByte(printer) && printer & 0x08) return { state: 'unknown', detail: 'printer reports offline' };
  if (isStatusByte(paper) && paper & 0x0c) return { state: 'ok', detail: 'ready (paper near end)' };
  return { state: 'ok', detail: 'ready' };
}

function describeSocketError(err: NodeJS.ErrnoException, where: string): PrinterError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new PrinterError('PRINTER_OFFLINE', `printer at ${where} refused the connection (off or not listening)`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new PrinterError('PRINTER_OFFLINE', `printer at ${where} is unreachable (${err.code})`, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new PrinterError('PRINTER_WRITE_FAILED', `printer at ${where} dropped the connection during the job (${err.code})`, { cause: err });
    default:
      return new PrinterError('PRINTER_WRITE_FAILED', `printer at ${where}: ${err.message}`, { cause: err });
  }
}

class TcpTransport implements PrinterTransport {
  readonly uri: string;
  readonly reportsStatus: boolean;
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly opts: Required<TransportOptions>,
  ) {
    this.uri = formatPrinterUri({ kind: 'tcp', host, port });
    this.reportsStatus = opts.statusQuery === 'escpos';
  }

  send(bytes: Buffer): Promise<void> {
    const where = `${this.host}:${this.port}`;
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: this.host, port: this.port, allowHalfOpen: true });
      let settled = false;
      const settle = (err?: PrinterError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      let timer = setTimeout(
        () => settle(new PrinterError('PRINTER_OFFLINE', `no connection to the printer at ${where} within ${this.opts.connectTimeoutMs} ms`)),
        this.opts.connectTimeoutMs,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            settle(
              new PrinterError('PRINTER_TIMEOUT', `printer at ${where} did not take the receipt within ${this.opts.writeTimeoutMs} ms (busy or hung)`),
            ),
          this.opts.writeTimeoutMs,
        );
        // end() = write + FIN: the printer sees where the job ends and closes its side when it has read it all.
        socket.end(bytes);
      });
      socket.on('finish', () => {
        if (!this.opts.waitForPrinterClose) settle();
      });
      socket.on('end', () => {
        if (socket.writableFinished) settle();
        else settle(new PrinterError('PRINTER_WRITE_FAILED', `printer at ${where} closed the connection before taking the whole receipt`));
      });
      socket.on('error', (err) => settle(describeSocketError(err, where)));
      socket.on('close', () => settle(new PrinterError('PRINTER_WRITE_FAILED', `connection to the printer at ${where} closed unexpectedly`)));
      // Drain anything the printer volunteers (auto status back) so 'end' can be observed.
      socket.resume();
    });
  }

  status(): Promise<PrinterStatus> {
    const where = `${this.host}:${this.port}`;
    return new Promise((resolve) => {
      const socket = net.createConnection({ host: this.host, port: this.port });
      const reply: number[] = [];
      let connected = false;
      let settled = false;
      const settle = (status: PrinterStatus): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(status);
      };
      const timer = setTimeout(() => {
        if (!connected) settle({ state: 'offline', detail: `no connection to the printer at ${where} within ${this.opts.statusTimeoutMs} ms` });
        else if (reply.length > 0) settle(interpretRealtimeStatus(Uint8Array.from(reply)));
        else settle({ state: 'unknown', detail: `connected to ${where}; the printer does not answer status queries` });
      }, this.opts.statusTimeoutMs);
      socket.once('connect', () => {
        connected = true;
        if (this.opts.statusQuery === 'none') settle({ state: 'ok', detail: `connected to ${where}` });
        else socket.write(STATUS_QUERY);
      });
      socket.on('data', (chunk: Buffer) => {
        reply.push(...chunk);
        if (reply.length >= 3) settle(interpretRealtimeStatus(Uint8Array.from(reply.slice(0, 3))));
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (!connected) settle({ state: 'offline', detail: describeSocketError(err, where).message });
        else settle({ state: 'unknown', detail: `status query to ${where} failed: ${err.code ?? err.message}` });
      });
      socket.on('close', () => {
        if (reply.length > 0) settle(interpretRealtimeStatus(Uint8Array.from(reply)));
        else if (connected) settle({ state: 'unknown', detail: `the printer at ${where} closed the status query unanswered` });
      });
    });
  }
}
