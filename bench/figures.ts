/** Order statistics and the table the benchmark prints: one definition, so every row reads the same way. */

export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
};

export const median = (values: readonly number[]) => quantile(values, 0.5);

/** A figure measured once per round: its median and the range the rounds spanned. */
export const summary = (values: readonly number[], digits = 2) => {
  if (values.length === 0) return 'n/a';
  const m = median(values).toFixed(digits);
  if (values.length === 1) return m;
  return `${m} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;
};

export interface Row {
  figure: string;
  project: string;
  baseline: string;
  ratio: string;
  goal: string;
  /** null where the row has no goal. */
  met: boolean | null;
}

export const ratio = (project: number, baseline: number) => (baseline > 0 ? project / baseline : Number.NaN);

export function renderTable(rows: readonly Row[]): string {
  const header: Row = {
    figure: 'figure',
    project: 'project',
    baseline: 'baseline',
    ratio: 'ratio',
    goal: 'goal',
    met: null,
  };
  const cells = (r: Row) => [
    r.figure,
    r.project,
    r.baseline,
    r.ratio,
    r.goal,
    r.met === null ? '' : r.met ? 'met' : 'NOT MET',
  ];
  const all = [header, ...rows].map(cells);
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(all[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...all.slice(1).map(line)].join('\n');
}
