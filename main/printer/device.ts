/**
 * Printer devices (/dev/usb/lp0, COM3): opening one safely, and the device
 * transport. A device write (or open) the OS never completes cannot be
 * cancelled, so every device has at most one open or write outstanding in
 * this process, and a write that outlived its timeout is handed back to the
 * caller as unconfirmed (its bytes may still print), never written again.
 */
import fs from 'node:fs';
import { PrinterError, type PrinterStatus, type PrinterTransport, type TransportOptions } from './transport-types';

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => PrinterError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The OS path of an allow-listed device: Windows ports live in the device namespace (`\\.\COM3`), never among files. */
function osDevicePath(device: string): string {
  return /^(COM|LPT)\d+$/i.test(device) ? `\\\\.\\${device}` : device;
}

/**
 * Opens a printer device for writing without ever creating, truncating or
 * following a symlink (no O_CREAT, no O_TRUNC, O_NOFOLLOW where the OS has
 * it), then checks what was opened before a byte is written: a character
 * device on POSIX; on Windows (no O_NOFOLLOW, and fstat of a port varies)
 * anything but a file or a directory. The check is on the open handle, so a
 * file swapped in after a path check is still refused.
 */
export async function openPrinterDevice(device: string, timeoutMs: number): Promise<fs.promises.FileHandle> {
  return openDevice(device, timeoutMs);
}

/**
 * `openPrinterDevice`; an open that outlives `timeoutMs` rejects with a
 * PRINTER_OFFLINE error whose `outstanding` settles when the OS finally
 * answers (the late handle is then closed, nothing written).
 */
async function openDevice(device: string, timeoutMs: number): Promise<fs.promises.FileHandle> {
  const file = osDevicePath(device);
  const posix = process.platform !== 'win32';
  if (posix && !file.startsWith('/')) throw new PrinterError('PRINTER_NOT_CONFIGURED', `printer device ${device} is not an absolute device path`);
  const flags = fs.constants.O_WRONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NOCTTY ?? 0);
  const opening = fs.promises.open(file, flags);
  let handle: fs.promises.FileHandle;
  try {
    handle = await withTimeout(opening, timeoutMs, () => new PrinterError('PRINTER_OFFLINE', `printer device ${device} did not open within ${timeoutMs} ms`));
  } catch (err) {
    if (err instanceof PrinterError) {
      // An open that completes after the timeout must still be closed; until it ends the device stays taken.
      const late = opening.then((h) => h.close()).catch(() => undefined);
      throw new PrinterError(err.code, err.message, { outstanding: late });
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ELOOP') throw new PrinterError('PRINTER_NOT_CONFIGURED', `printer device ${device} is a symbolic link: refused`, { cause: err });
    throw new PrinterError('PRINTER_OFFLINE', `cannot open printer device ${device}: ${e.code ?? e.message}`, { cause: err });
  }
  let st: fs.Stats;
  try {
    st = await handle.stat();
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw new PrinterError('PRINTER_OFFLINE', `cannot check printer device ${device}: ${(err as Error).message}`, { cause: err });
  }
  const isDevice = posix ? st.isCharacterDevice() : !st.isFile() && !st.isDirectory();
  if (!isDevice) {
    await handle.close().catch(() => undefined);
    throw new PrinterError('PRINTER_NOT_CONFIGURED', `${device} is not a printer device (${st.isFile() ? 'a regular file' : 'not a character device'}): refused, nothing written`);
  }
  return handle;
}

/**
 * What is under way on each printer device, for the whole process (every
 * transport made for the same path shares it): at most one open or write
 * at a time. An entry stays until its operation really ends, also after our
 * timeout gave up on it — a device write or open the OS never completes
 * (paper out on a USB printer, a serial port without carrier) cannot be
 * cancelled, and each one holds a libuv threadpool thread (4 by default, the
 * same threads DNS lookups for the gateway need). `stuck` is set once it
 * outlived its timeout: what `status()` reports meanwhile.
 */
interface DeviceUse {
  stuck: PrinterStatus | null;
}
const deviceUses = new Map<string, DeviceUse>();

/** Claims `device` for one operation, or returns what keeps it busy. */
function claimDevice(device: string): { use: DeviceUse; release: () => void } | { busy: PrinterStatus } {
  const key = osDevicePath(device);
  const current = deviceUses.get(key);
  if (current) return { busy: current.stuck ?? { state: 'ok', detail: `${device} is in use (a receipt or a status check under way)`, busy: true } };
  const use: DeviceUse = { stuck: null };
  deviceUses.set(key, use);
  return {
    use,
    release: () => {
      if (deviceUses.get(key) === use) deviceUses.delete(key);
    },
  };
}

/** True while `device` has an open or write outstanding in this process (for tests and diagnostics). */
export function printerDeviceBusy(device: string): boolean {
  return deviceUses.has(osDevicePath(device));
}

/**
 * An allow-listed printer device (/dev/usb/lp0, COM3). Opened and checked by
 * `openPrinterDevice` for every job and status check (a missing device is
 * "offline", never a new file). A write the kernel never completes cannot
 * be cancelled: `send` times out with the write still `outstanding` (its
 * bytes may yet print: the caller must not send the job again), and until
 * that write ends every `send` is refused (PRINTER_BUSY) and `status()`
 * reports the device busy, so one stuck write never becomes several copies
 * nor several blocked threads.
 */
export class DeviceTransport implements PrinterTransport {
  readonly reportsStatus = false;
  readonly uri: string;
  constructor(
    private readonly device: string,
    private readonly opts: Required<TransportOptions>,
  ) {
    this.uri = device;
  }

  async send(bytes: Buffer): Promise<void> {
    const claim = claimDevice(this.device);
    if ('busy' in claim) {
      throw new PrinterError('PRINTER_BUSY', `printer device ${this.device} is busy (${claim.busy.detail}): nothing sent`);
    }
    const { use, release } = claim;
    let opened: fs.promises.FileHandle;
    try {
      opened = await openDevice(this.device, this.opts.connectTimeoutMs);
    } catch (err) {
      if (err instanceof PrinterError && err.outstanding) {
        use.stuck = { state: 'offline', detail: `${this.device} did not open within ${this.opts.connectTimeoutMs} ms and has not answered since`, busy: true };
        void err.outstanding.finally(release);
        // Nothing was written: an ordinary failure for the job.
        throw new PrinterError(err.code, err.message, { cause: err.cause });
      }
      release();
      throw err;
    }
    const write = (async () => {
      try {
        await opened.writeFile(bytes);
      } finally {
        await opened.close().catch(() => undefined);
      }
    })();
    // The device is free again only when the write really ended, whatever our timeout said.
    write.then(release, release);
    try {
      await withTimeout(write, this.opts.writeTimeoutMs, () => new PrinterError('PRINTER_TIMEOUT', `printer device ${this.device} did not take the receipt within ${this.opts.writeTimeoutMs} ms`));
    } catch (err) {
      if (err instanceof PrinterError) {
        use.stuck = {
          state: 'unknown',
          detail: `${this.device} has not taken the previous receipt yet (timed out): it prints when the printer takes it, nothing else is sent meanwhile`,
          busy: true,
        };
        throw new PrinterError(err.code, `${err.message} (timed out); the write is still waiting for the printer: the receipt is not sent again, it prints when the printer takes it`, { outstanding: write });
      }
      throw new PrinterError('PRINTER_WRITE_FAILED', `writing to printer device ${this.device} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async status(): Promise<PrinterStatus> {
    const claim = claimDevice(this.device);
    if ('busy' in claim) return claim.busy;
    try {
      const handle = await openDevice(this.device, this.opts.statusTimeoutMs);
      await handle.close().finally(claim.release);
      return { state: 'ok', detail: `${this.device} is ready to write` };
    } catch (err) {
      if (err instanceof PrinterError && err.outstanding) {
        claim.use.stuck = { state: 'offline', detail: `${this.device} did not open within ${this.opts.statusTimeoutMs} ms and has not answered since`, busy: true };
        void err.outstanding.finally(claim.release);
      } else {
        claim.release();
      }
      const refused = err instanceof PrinterError && err.code === 'PRINTER_NOT_CONFIGURED';
      return { state: refused ? 'none' : 'offline', detail: (err as Error).message };
    }
  }
}
