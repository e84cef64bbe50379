/**
 * What a printer transport is (transport.ts makes them: TCP, device files):
 * its status, its errors and its options. Apart so the device transport
 * (device.ts) and transport.ts share them without importing each other.
 */

/** 'none': no printer configured (jobs wait, attempts are not spent). */
export type PrinterState = 'ok' | 'offline' | 'paper_out' | 'cover_open' | 'unknown' | 'none';

export interface PrinterStatus {
  state: PrinterState;
  /** One line for the cashier / log (English; the UI maps `state` to its own words). */
  detail: string;
  /**
   * True while the printer is still busy with an earlier open or write that
   * has not ended (a device write the OS never completed cannot be
   * cancelled): nothing may be sent now; the worker waits without spending
   * attempts.
   */
  busy?: boolean;
}

/**
 * PRINTER_BUSY: refused before a byte was written, because the device still
 * has an earlier open or write outstanding (see `PrinterStatus.busy`).
 */
export type PrinterErrorCode = 'PRINTER_OFFLINE' | 'PRINTER_TIMEOUT' | 'PRINTER_WRITE_FAILED' | 'PRINTER_NOT_CONFIGURED' | 'PRINTER_BUSY';

export class PrinterError extends Error {
  /**
   * Set when the operation that timed out is still under way in the OS and
   * cannot be cancelled: it settles when that operation ends. On a
   * PRINTER_TIMEOUT from `send` it is the write itself: resolved = the
   * device took every byte (the receipt prints, late), rejected = the write
   * failed. Until it settles the transport writes nothing else to the device,
   * so the job's outcome is unknown, not "not printed": never send it again.
   */
  readonly outstanding: Promise<void> | undefined;
  constructor(
    readonly code: PrinterErrorCode,
    message: string,
    options?: { cause?: unknown; outstanding?: Promise<void> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PrinterError';
    this.outstanding = options?.outstanding;
  }
}

export interface TransportOptions {
  /** Default 3000. */
  connectTimeoutMs?: number;
  /** From connected to "printer has everything". Default 10000. */
  writeTimeoutMs?: number;
  /** Whole status query, connect included. Default 1500. */
  statusTimeoutMs?: number;
  /**
   * 'escpos': ask DLE EOT real-time status (EPSON and compatibles).
   * 'none': connectivity only — Star Line Mode printers don't answer DLE EOT.
   */
  statusQuery?: 'escpos' | 'none';
  /**
   * true (default): a TCP job counts as sent when the printer closes its side
   * after our FIN — proof it read everything. false: when our bytes are
   * flushed to the kernel, for a printer that never closes (a hung printer
   * then looks like success until the next job).
   */
  waitForPrinterClose?: boolean;
}

export interface PrinterTransport {
  readonly uri: string;
  /** True when `status()` can report paper/cover from the printer itself (worth asking before each job). */
  readonly reportsStatus: boolean;
  /** Resolves once every byte reached the printer; rejects with a PrinterError otherwise. */
  send(bytes: Buffer): Promise<void>;
  status(): Promise<PrinterStatus>;
}
