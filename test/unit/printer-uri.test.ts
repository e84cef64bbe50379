/** Printer URI parsing and the interpretation of ESC/POS real-time status bytes. */
import { describe, expect, it } from 'vitest';
import { formatPrinterUri, interpretRealtimeStatus, parsePrinterUri, PrinterUriError, resolvePrinterUri } from '../../main/printer';

describe('parsePrinterUri', () => {
  it('accepts the four forms', () => {
    expect(parsePrinterUri('tcp://192.168.1.50:9100')).toEqual({ kind: 'tcp', host: '192.168.1.50', port: 9100 });
    expect(parsePrinterUri('tcp://printer.local')).toEqual({ kind: 'tcp', host: 'printer.local', port: 9100 });
    expect(parsePrinterUri('TCP://[::1]:9101/')).toEqual({ kind: 'tcp', host: '::1', port: 9101 });
    expect(parsePrinterUri('/dev/usb/lp0')).toEqual({ kind: 'device', path: '/dev/usb/lp0' });
    expect(parsePrinterUri(' /tmp/out/../receipt.bin ')).toEqual({ kind: 'device', path: '/tmp/receipt.bin' });
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
    ['usb/lp0', /absolute/],
    ['printer', /absolute/],
  ])('rejects %j clearly', (input, reason) => {
    expect(() => parsePrinterUri(input)).toThrow(PrinterUriError);
    expect(() => parsePrinterUri(input)).toThrow(reason);
    expect(() => parsePrinterUri(input)).toThrow(/Use tcp:\/\/host:9100/);
  });

  it('formats and resolves virtual', () => {
    expect(formatPrinterUri(parsePrinterUri('tcp://[::1]:9100'))).toBe('tcp://[::1]:9100');
    expect(resolvePrinterUri('virtual', 'tcp://127.0.0.1:40000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 40000 });
    expect(resolvePrinterUri('/dev/usb/lp0', null)).toEqual({ kind: 'device', path: '/dev/usb/lp0' });
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
