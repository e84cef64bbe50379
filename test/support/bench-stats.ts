/** Small statistics and the one results table of `npm run bench`. */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), max: s[s.length - 1] ?? NaN };
}

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Operation `i` of a subject and its floor, interleaved, alternating which goes first, to cancel drift and
 * machine noise; each is timed and kept from operation `warm` on.
 */
export async function interleaved(i: number, warm: number, subject: { run: () => Promise<unknown>; samples: number[] }, floor: { run: () => Promise<unknown>; samples: number[] }): Promise<void> {
  for (const side of i % 2 === 0 ? [subject, floor] : [floor, subject]) {
    const t0 = nowMs();
    await side.run();
    if (i >= warm) side.samples.push(nowMs() - t0);
  }
}

export interface Row {
  figure: string;
  value: number;
  floor: number | null;
  unit: string;
  /** value/floor (or floor/value for rates, so > 1 is always "slower than the floor"). */
  ratio: number | null;
  target: string;
  met: boolean;
  /** Informational: measured and shown, no target to meet (status "-"). */
  info?: boolean;
  note?: string;
}

const fmt = (v: number | null, unit = ''): string => {
  if (v === null || Number.isNaN(v)) return '-';
  const d = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(d)}${unit ? ' ' + unit : ''}`;
};

/** An informational p50 row (no target): a subject's summary against its floor's. */
export function p50InfoRow(figure: string, S: Summary, F: Summary, note: string): Row {
  return { figure, value: S.p50, floor: F.p50, unit: 'ms', ratio: S.p50 / F.p50, target: '-', met: true, info: true, note };
}

export function table(rows: Row[]): string {
  const head = ['figure', 'value', 'floor', 'ratio', 'target', 'status'];
  const body = rows.map((r) => [r.figure, fmt(r.value, r.unit), fmt(r.floor, r.unit), r.ratio === null ? '-' : `${fmt(r.ratio)}x`, r.target, r.info ? '-' : r.met ? 'MET' : 'MISS']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => [...b[i]!].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}
