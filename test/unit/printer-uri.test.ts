/** Printer URI parsing and the interpretation of ESC/POS real-time status bytes. */
import { describe, expect, it } from 'vitest';
import { formatPrinterUri, interpretRealtimeStatus, parsePrinterUri, PrinterUriError, rendererPrinterPolicy, resolvePrinterUri } from '../../main/printer';

describe('parsePrinterUri', () => {
  it('accepts the four forms', () => {
    expect(parsePrinterUri('tcp://192.168.1.50:9100')).toEqual({ kind: 'tcp', host: '192.168.1.50', port: 9100 });
    expect(parsePrinterUri('tcp://printer.local')).toEqual({ kind: 'tcp', host: 'printer.local', port: 9100 });
    expect(parsePrinterUri('TCP://[::1]:9101/')).toEqual({ kind: 'tcp', host: '::1', port: 9101 });
    expect(parsePrinterUri('/dev/usb/lp0', { platform: 'linux' })).toEqual({ kind: 'device', path: '/dev/usb/lp0' });
    expect(parsePrinterUri(' /dev/lp12 ', { platform: 'darwin' })).toEqual({ kind: 'device', path: '/dev/lp12' });
    expect(parsePrinterUri('com3', { platform: 'win32' })).toEqual({ kind: 'device', path: 'COM3' });
    expect(parsePrinterUri('LPT1', { platform: 'win32' })).toEqual({ kind: 'device', path: 'LPT1' });
    expect(parsePrinterUri('virtual')).toEqual({ kind: 'virtual' });
    expect(parsePrinterUri('NONE')).toEqual({ kind: 'none' });
  });

  it.each([
    ['', /empty/],
    ['tcp://', /tcp:\/\/host:port/],
    ['tcp://host:0', /out of range/],
    ['tcp://host:70000', /out of range/],
    ['tcp://host:91a', /tcp:\/\/host:port/],
    ['http://printer:9100', /unsupported scheme "http"/],
    ['usb/lp0', /written \/dev\/usb\/lpN/],
    ['printer', /written \/dev\/usb\/lpN/],
  ])('rejects %j clearly', (input, reason) => {
    expect(() => parsePrinterUri(input)).toThrow(PrinterUriError);
    expect(() => parsePrinterUri(input)).toThrow(reason);
    expect(() => parsePrinterUri(input)).toThrow(/Use tcp:\/\/host:9100/);
  });

  it.each([
    ['/home/pos/.bashrc', 'linux', /files are never printer destinations/],
    [' /tmp/out/../receipt.bin ', 'linux', /not an allowed printer device/],
    ['/dev/usb/../../etc/passwd', 'linux', /not an allowed printer device/],
    ['/dev/usb/lp0/', 'linux', /not an allowed printer device/],
    ['/dev/sda', 'linux', /not an allowed printer device/],
    ['/dev/lp0 /tmp/x', 'linux', /not an allowed printer device/],
    ['COM3', 'linux', /written \/dev\/usb\/lpN/],
    ['\\\\fileserver\\share\\x.prn', 'win32', /UNC/],
    ['\\\\?\\C:\\x', 'win32', /UNC/],
    ['\\\\.\\COM3', 'win32', /UNC/],
    ['//fileserver/share/x.prn', 'win32', /UNC/],
    ['//fileserver/share/x.prn', 'linux', /UNC/],
    ['\\\\fileserver\\share', 'linux', /UNC/],
    ['C:\\Users\\pos\\x.bat', 'win32', /not a printer port/],
    ['COM0', 'win32', /not a printer port/],
    ['/dev/usb/lp0', 'win32', /UNC|not a printer port/],
  ] as const)('never a file, a UNC path or another OS device: %j on %s', (input, platform, reason) => {
    expect(() => parsePrinterUri(input, { platform })).toThrow(PrinterUriError);
    expect(() => parsePrinterUri(input, { platform })).toThrow(reason);
  });

  it('from the renderer: virtual only in sandbox mode, TCP only to raw-print ports', () => {
    expect(() => parsePrinterUri('virtual', rendererPrinterPolicy('production'))).toThrow(/sandbox mode only/);
    expect(parsePrinterUri('virtual', rendererPrinterPolicy('sandbox'))).toEqual({ kind: 'virtual' });
    expect(parsePrinterUri('tcp://192.168.1.50', rendererPrinterPolicy('production'))).toEqual({ kind: 'tcp', host: '192.168.1.50', port: 9100 });
    expect(parsePrinterUri('tcp://192.168.1.50:9109', rendererPrinterPolicy('production')).kind).toBe('tcp');
    expect(() => parsePrinterUri('tcp://127.0.0.1:6379', rendererPrinterPolicy('sandbox'))).toThrow(/not a raw-print port/);
    expect(() => parsePrinterUri('tcp://192.168.1.9:25', rendererPrinterPolicy('production'))).toThrow(/not a raw-print port/);
    // Store IT (CLI, env) may use any port.
    expect(parsePrinterUri('tcp://192.168.1.9:4001')).toEqual({ kind: 'tcp', host: '192.168.1.9', port: 4001 });
  });

  it('formats and resolves virtual', () => {
    expect(formatPrinterUri(parsePrinterUri('tcp://[::1]:9100'))).toBe('tcp://[::1]:9100');
    expect(resolvePrinterUri('virtual', 'tcp://127.0.0.1:40000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 40000 });
    expect(resolvePrinterUri({ kind: 'device', path: '/dev/usb/lp0' }, null)).toEqual({ kind: 'device', path: '/dev/usb/lp0' });
    expect(() => resolvePrinterUri('virtual', null)).toThrow(/not running/);
  });
});

describe('interpretRealtimeStatus (DLE EOT 1, 2, 4)', () => {
  const s = (...bytes: number[]): string => interpretRealtimeStatus(Uint8Array.from(bytes)).state;
  it('maps Epson status bits', () => {
    expect(s(0x12, 0x12, 0x12)).toBe('ok');
    expect(s(0x1a, 0x12, 0x72)).toBe('paper_out');
    expect(s(0x1a, 0x32, 0x12)).toBe('paper_out');
    expect(s(0x1a, 0x16, 0x12)).toBe('cover_open');
    expect(s(0x1a, 0x16, 0x7e)).toBe('cover_open');
    expect(s(0x1a, 0x52, 0x12)).toBe('unknown');
    expect(interpretRealtimeStatus(Uint8Array.from([0x12, 0x12, 0x1e])).detail).toMatch(/near end/);
    expect(s(0x12)).toBe('ok');
    expect(s(0xff, 0x00)).toBe('unknown');
    expect(s()).toBe('unknown');
  });
});
