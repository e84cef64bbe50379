import { describe, expect, it } from 'vitest';
import { formatCny, formatYuan, parseCents, parseYuan } from '../../main/common/money';
import { businessDay, businessDayEnd, businessDayStart, formatCst, isDay } from '../../main/common/time';

describe('business day (UTC+8), decided in one place', () => {
  it('15:59:59 UTC is still the same CST day; 16:00 UTC is the next', () => {
    expect(businessDay(Date.parse('2026-11-26T15:59:59.999Z'))).toBe('2026-11-26');
    expect(businessDay(Date.parse('2026-11-26T16:00:00.000Z'))).toBe('2026-11-27');
  });
  it('day start and end are CST midnights', () => {
    expect(new Date(businessDayStart('2026-11-27')).toISOString()).toBe('2026-11-26T16:00:00.000Z');
    expect(businessDayEnd('2026-11-26')).toBe(businessDayStart('2026-11-27'));
    expect(businessDayEnd('2026-12-31')).toBe(businessDayStart('2027-01-01'));
  });
  it('rejects what is not a calendar date', () => {
    for (const bad of ['2026-13-01', '2026-02-30', '26-11-26', '2026-11-26T00', '', 'x']) expect(isDay(bad)).toBe(false);
    expect(isDay('2028-02-29')).toBe(true);
  });
  it('formats in CST', () => {
    expect(formatCst(Date.parse('2026-11-26T16:30:05Z'))).toBe('2026-11-27 00:30:05');
  });
});

describe('money in integer cents', () => {
  it('parses gateway cent strings strictly', () => {
    expect(parseCents('10000')).toBe(10000);
    expect(parseCents('0')).toBe(0);
    for (const bad of ['', '-1', '1.5', 'abc', undefined, null, '1e3']) expect(parseCents(bad as string)).toBeUndefined();
  });
  it('formats only at the edge', () => {
    expect(formatYuan(10000)).toBe('100.00');
    expect(formatYuan(5)).toBe('0.05');
    expect(formatCny(123456)).toBe('￥1,234.56');
    expect(formatYuan(123456789)).toBe('1,234,567.89');
    expect(formatCny(-123450)).toBe('-￥1,234.50');
  });
  it('parses what a cashier types as an amount', () => {
    expect(parseYuan('12.5')).toBe(1250);
    expect(parseYuan('12.50')).toBe(1250);
    expect(parseYuan('12')).toBe(1200);
    for (const bad of ['12.505', '-1', '1,00', 'abc', '']) expect(parseYuan(bad)).toBeUndefined();
  });
});
