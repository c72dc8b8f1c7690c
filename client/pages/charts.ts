import { formatEuro, type Locale } from '../../domain/format';
import type { ImpactReport, ProjectStatusCode } from '../../domain/impact';
import { percent } from '../../domain/subsidy';
import type { Theme } from '../../domain/themes';

/**
 * Small server-side SVG charts for the staff's impact page: plain strings, no script, no external resource, so a
 * page can inline them and they print. Pure functions of their data.
 *
 * Accessible: each chart is one image (role="img") named by its <title> and described by its <desc>, and the
 * description repeats every figure in words, since a screen reader does not read the bars. Every text that comes
 * from data (theme codes, call ids, indicator figures) is escaped, in text and attributes alike.
 */

export interface ChartText {
  /** Prefix of the ids inside the SVG: unique in the page, letters, digits, dashes. */
  id: string;
  title: string;
  /** What the chart shows; the figures are appended to it. */
  description: string;
  /** The language of the words and numbers the chart writes itself (English unless said). */
  locale?: Locale;
}

/** The few words a chart writes itself, and its numbers, in the chart's language. */
function chartWords(locale: Locale = 'en') {
  const it = locale === 'it';
  return {
    notMeasured: it ? 'non misurato' : 'not measured',
    series: {
      grantedCents: it ? 'concesso' : 'granted',
      disbursedCents: it ? 'erogato' : 'disbursed',
      recoveredCents: it ? 'recuperato' : 'recovered',
    },
    euro: (cents: number) => formatEuro(cents, locale),
    percent: (bps: number) => (it ? percent(bps).replace('.', ',') : percent(bps)),
  };
}

export interface AchievementBar {
  label: string;
  /** Null: nothing measured yet, no bar. */
  bps: number | null;
  /** Said after the value, e.g. "3 of 4 indicators measured". */
  note?: string;
}

export interface MoneyBar {
  label: string;
  grantedCents: number;
  disbursedCents: number;
  recoveredCents: number;
}

export interface CountBar {
  label: string;
  count: number;
}

const WIDTH = 760;
const ROW = 26;
const BAR = 16;
const TOP = 12;
const FONT = 'font-family="system-ui, sans-serif" font-size="12"';
const MONEY_SERIES = [
  { key: 'grantedCents', name: 'granted', colour: '#1f5f99' },
  { key: 'disbursedCents', name: 'disbursed', colour: '#5b9bd5' },
  { key: 'recoveredCents', name: 'recovered', colour: '#c55a11' },
] as const;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function checkId(id: string): string {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(id)) throw new RangeError(`chart id must be letters, digits, dashes: ${id}`);
  return id;
}

/**
 * Label column wide enough for the longest label at about 7 px a character, within limits: the pages' theme and
 * status names run to some 45 characters in Italian, and a label cut at the left edge is a figure nobody can read.
 */
const labelWidth = (labels: readonly string[]) => Math.min(340, Math.max(80, ...labels.map((l) => l.length * 7 + 12)));

function svg(text: ChartText, height: number, figures: string, body: string[]): string {
  const id = checkId(text.id);
  const desc = figures ? `${text.description} ${figures}` : text.description;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="${id}-title ${id}-desc" ` +
      `width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<title id="${id}-title">${escapeXml(text.title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(desc)}</desc>`,
    ...body,
    '</svg>',
  ].join('\n');
}

const label = (x: number, y: number, s: string, anchor: 'start' | 'end' = 'end') =>
  `<text x="${x}" y="${y}" text-anchor="${anchor}" ${FONT} fill="#222">${escapeXml(s)}</text>`;

const rect = (cls: string, x: number, y: number, w: number, h: number, colour: string) =>
  `<rect class="${cls}" x="${x}" y="${y}" width="${w}" height="${h}" fill="${colour}"/>`;

/** Horizontal bars from 0 to 100%: one row per label, the value written after the bar. */
export function achievementChart(bars: readonly AchievementBar[], text: ChartText): string {
  const w = chartWords(text.locale);
  const left = labelWidth(bars.map((b) => b.label));
  const area = WIDTH - left - 150;
  const height = TOP * 2 + ROW * Math.max(1, bars.length);
  const body = bars.flatMap((b, i) => {
    const y = TOP + i * ROW;
    const value = b.bps === null ? w.notMeasured : w.percent(b.bps);
    const width = b.bps === null ? 0 : Math.round((area * Math.min(Math.max(b.bps, 0), 10_000)) / 10_000);
    return [
      label(left - 8, y + BAR - 3, b.label),
      rect('track', left, y, area, BAR, '#e8e8e8'),
      ...(width > 0 ? [rect('bar', left, y, width, BAR, '#2e7d32')] : []),
      label(left + area + 8, y + BAR - 3, value, 'start'),
    ];
  });
  const figures = bars
    .map((b) => `${b.label}: ${b.bps === null ? w.notMeasured : w.percent(b.bps)}${b.note ? ` (${b.note})` : ''}.`)
    .join(' ');
  return svg(text, height, figures, body);
}

/** Per label, three bars side by side (granted, disbursed, recovered) on one scale, with a legend. */
export function moneyChart(bars: readonly MoneyBar[], text: ChartText): string {
  const w = chartWords(text.locale);
  const left = labelWidth(bars.map((b) => b.label));
  const area = WIDTH - left - 130;
  const max = Math.max(1, ...bars.flatMap((b) => MONEY_SERIES.map((s) => b[s.key])));
  const groupHeight = MONEY_SERIES.length * 14 + 12;
  const legendY = TOP;
  const legend = MONEY_SERIES.flatMap((s, i) => [
    rect('legend', left + i * 110, legendY, 12, 12, s.colour),
    label(left + i * 110 + 16, legendY + 10, w.series[s.key], 'start'),
  ]);
  const top = legendY + 24;
  const body = bars.flatMap((b, g) => {
    const y0 = top + g * groupHeight;
    return [
      label(left - 8, y0 + 14 + 10, b.label),
      ...MONEY_SERIES.flatMap((s, i) => {
        const y = y0 + i * 14;
        const width = Math.max(0, Math.round((area * b[s.key]) / max));
        return [
          ...(width > 0 ? [rect(`bar ${s.name}`, left, y, width, 12, s.colour)] : []),
          label(left + width + 6, y + 10, w.euro(b[s.key]), 'start'),
        ];
      }),
    ];
  });
  const height = top + groupHeight * Math.max(1, bars.length) + TOP;
  const figures = bars
    .map((b) => `${b.label}: ${MONEY_SERIES.map((s) => `${w.series[s.key]} ${w.euro(b[s.key])}`).join(', ')}.`)
    .join(' ');
  return svg(text, height, figures, [...legend, ...body]);
}

/** How many projects are in each status: one horizontal bar per status, on the scale of the largest. */
export function statusChart(bars: readonly CountBar[], text: ChartText): string {
  const left = labelWidth(bars.map((b) => b.label));
  const area = WIDTH - left - 60;
  const max = Math.max(1, ...bars.map((b) => b.count));
  const height = TOP * 2 + ROW * Math.max(1, bars.length);
  const body = bars.flatMap((b, i) => {
    const y = TOP + i * ROW;
    const w = Math.max(0, Math.round((area * b.count) / max));
    return [
      label(left - 8, y + BAR - 3, b.label),
      ...(w > 0 ? [rect('bar', left, y, w, BAR, '#6a4c93')] : []),
      label(left + w + 6, y + BAR - 3, String(b.count), 'start'),
    ];
  });
  const figures = bars.map((b) => `${b.label}: ${b.count}.`).join(' ');
  return svg(text, height, figures, body);
}

export interface ImpactChartOptions {
  locale?: Locale;
  /** How a theme and a status are named; by default their codes with spaces. */
  themeLabel?: (theme: Theme) => string;
  statusLabel?: (status: ProjectStatusCode) => string;
}

const codeLabel = (code: string) => code.replace(/_/g, ' ');

/** The impact page's three charts, from the impact report (per theme; statuses of every project counted once). */
export function impactCharts(
  report: ImpactReport,
  options: ImpactChartOptions = {},
): { achievement: string; money: string; statuses: string } {
  const { locale = 'en', themeLabel = codeLabel, statusLabel = codeLabel } = options;
  const t = (it: string, en: string) => (locale === 'it' ? it : en);
  return {
    achievement: achievementChart(
      report.byTheme.map((g) => ({
        label: themeLabel(g.theme!),
        bps: g.averageAchievementBps,
        note: t(
          `${g.indicatorsMeasured} di ${g.indicators.length} indicatori misurati`,
          `${g.indicatorsMeasured} of ${g.indicators.length} indicators measured`,
        ),
      })),
      {
        id: 'impact-achievement',
        title: t('Raggiungimento degli obiettivi per tema', 'Achievement per theme'),
        description: t(
          'Quota media del percorso dal valore di partenza all’obiettivo raggiunta dagli indicatori misurati di ' +
            'ogni tema.',
          'Average share of the way from baseline to target reached by the measured indicators of each theme.',
        ),
        locale,
      },
    ),
    money: moneyChart(
      report.byTheme.map((g) => ({
        label: themeLabel(g.theme!),
        grantedCents: g.grantedCents,
        disbursedCents: g.disbursedCents,
        recoveredCents: g.recoveredCents,
      })),
      {
        id: 'impact-money',
        title: t('Risorse per tema', 'Money per theme'),
        description: t(
          'Agevolazioni concesse, erogate e recuperate per i progetti di ogni tema; ' +
            'un progetto con più temi conta sotto ciascuno.',
          'Support granted, disbursed and recovered for the projects of each theme; ' +
            'a project with several themes counts under each.',
        ),
        locale,
      },
    ),
    statuses: statusChart(
      (Object.entries(report.total.statuses) as [ProjectStatusCode, number][])
        .filter(([, count]) => count > 0)
        .map(([status, count]) => ({ label: statusLabel(status), count })),
      {
        id: 'impact-statuses',
        title: t('Progetti per stato', 'Projects by status'),
        description: t(
          'Quanti progetti finanziati sono in ogni stato.',
          'How many funded projects are in each status.',
        ),
        locale,
      },
    ),
  };
}
