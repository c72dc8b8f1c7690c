import { achievementOf } from './achievement';
import { euro, percent } from './subsidy';
import { THEMES, type Theme } from './themes';

/**
 * The programme's impact, for the people who answer for it (issue 13): per call and per theme, how many projects,
 * what their indicators reached, and the money granted, disbursed and recovered.
 *
 * Open data by design: the input has no company, person or project identity, only figures, so nothing personal can
 * reach the output. (Indicator names are free text written in the pre-project; they describe what is measured.)
 *
 * Counting rules:
 * - a project with several themes counts under each of them, money included: per-theme rows overlap and do not add
 *   up to the call's total; per-call rows and the grand total count each project once;
 * - an indicator belongs to its own theme (the application's guard keeps it among its project's themes);
 * - the average achievement weighs each measured indicator the same, whatever its unit, rounded down; indicators
 *   not yet measured are listed but not averaged.
 */

export const PROJECT_STATUSES = [
  'in_progress',
  'final_report_due',
  'under_verification',
  'reduction_intended',
  'revocation_intended',
  'closed',
  'reduced',
  'revoked',
  'withdrawn',
] as const;
export type ProjectStatusCode = (typeof PROJECT_STATUSES)[number];

export interface IndicatorInput {
  name: string;
  theme: Theme;
  unit: string;
  baseline: number;
  target: number;
  /** How the pre-project said it would be measured. */
  measurementMethod?: string;
  /** Null until the final report measures it. */
  measured: number | null;
}

/** One funded project, as plain figures. */
export interface FundedProjectFigures {
  callId: string;
  themes: Theme[];
  status: ProjectStatusCode;
  indicators: IndicatorInput[];
  /** The support admitted: grant plus interest subsidy. */
  grantedCents: number;
  disbursedCents: number;
  /** Repaid to the call after a reduction, revocation or withdrawal (not merely ordered). */
  recoveredCents: number;
}

export interface IndicatorFigure extends IndicatorInput {
  callId: string;
  achievementBps: number | null;
  reached: boolean | null;
  beyondTarget: boolean;
  wrongSide: boolean;
  note: string;
}

export interface ImpactGroup {
  /** Null: every call. */
  callId: string | null;
  /** Null: every theme. */
  theme: Theme | null;
  projects: number;
  statuses: Record<ProjectStatusCode, number>;
  grantedCents: number;
  disbursedCents: number;
  recoveredCents: number;
  indicators: IndicatorFigure[];
  indicatorsMeasured: number;
  indicatorsReached: number;
  averageAchievementBps: number | null;
}

export interface ImpactReport {
  total: ImpactGroup;
  byCall: ImpactGroup[];
  byTheme: ImpactGroup[];
  byCallAndTheme: ImpactGroup[];
}

export interface ImpactFilter {
  callId?: string;
  theme?: Theme;
}

function figureOf(callId: string, i: IndicatorInput): IndicatorFigure {
  if (i.measured === null)
    return {
      ...i,
      callId,
      achievementBps: null,
      reached: null,
      beyondTarget: false,
      wrongSide: false,
      note: 'not measured yet',
    };
  const a = achievementOf({ baseline: i.baseline, target: i.target, measured: i.measured });
  return {
    ...i,
    callId,
    achievementBps: a.bps,
    reached: a.reached,
    beyondTarget: a.beyondTarget,
    wrongSide: a.wrongSide,
    note: a.note,
  };
}

function group(callId: string | null, theme: Theme | null, projects: readonly FundedProjectFigures[]): ImpactGroup {
  const statuses = Object.fromEntries(PROJECT_STATUSES.map((s) => [s, 0])) as Record<ProjectStatusCode, number>;
  for (const p of projects) statuses[p.status] += 1;
  const indicators = projects.flatMap((p) =>
    p.indicators.filter((i) => theme === null || i.theme === theme).map((i) => figureOf(p.callId, i)),
  );
  const measured = indicators.filter((i) => i.achievementBps !== null);
  const sum = (f: (p: FundedProjectFigures) => number) => projects.reduce((total, p) => total + f(p), 0);
  return {
    callId,
    theme,
    projects: projects.length,
    statuses,
    grantedCents: sum((p) => p.grantedCents),
    disbursedCents: sum((p) => p.disbursedCents),
    recoveredCents: sum((p) => p.recoveredCents),
    indicators,
    indicatorsMeasured: measured.length,
    indicatorsReached: measured.filter((i) => i.reached).length,
    averageAchievementBps: measured.length
      ? Math.floor(measured.reduce((total, i) => total + i.achievementBps!, 0) / measured.length)
      : null,
  };
}

function assertFigures(p: FundedProjectFigures, n: number): void {
  for (const field of ['grantedCents', 'disbursedCents', 'recoveredCents'] as const)
    if (!Number.isSafeInteger(p[field]) || p[field] < 0)
      throw new RangeError(`project ${n}: ${field} must be a non-negative integer number of cents, got ${p[field]}`);
}

/**
 * The report over `projects`. `filter.callId` keeps one call's projects; `filter.theme` keeps the projects naming
 * that theme and, of their indicators, those measuring it (their money is counted whole, as in any theme row).
 */
export function impactReport(projects: readonly FundedProjectFigures[], filter: ImpactFilter = {}): ImpactReport {
  projects.forEach((p, i) => assertFigures(p, i + 1));
  const kept = projects.filter(
    (p) =>
      (filter.callId === undefined || p.callId === filter.callId) &&
      (filter.theme === undefined || p.themes.includes(filter.theme)),
  );
  const themeScope = filter.theme ?? null;
  const calls = [...new Set(kept.map((p) => p.callId))].sort();
  const themes = THEMES.filter((t) => kept.some((p) => p.themes.includes(t)) && (!filter.theme || t === filter.theme));
  const ofCall = (c: string) => kept.filter((p) => p.callId === c);
  const ofTheme = (ps: readonly FundedProjectFigures[], t: Theme) => ps.filter((p) => p.themes.includes(t));
  return {
    total: group(null, themeScope, kept),
    byCall: calls.map((c) => group(c, themeScope, ofCall(c))),
    byTheme: themes.map((t) => group(null, t, ofTheme(kept, t))),
    byCallAndTheme: calls.flatMap((c) =>
      themes.filter((t) => ofTheme(ofCall(c), t).length > 0).map((t) => group(c, t, ofTheme(ofCall(c), t))),
    ),
  };
}

/** Every row of the report, widest first: the total, then each call, each theme, each call and theme. */
const rowsOf = (r: ImpactReport) => [r.total, ...r.byCall, ...r.byTheme, ...r.byCallAndTheme];

// The same RFC 4180 quoting as client/csv.ts (domain code does not depend on the clients), with one difference:
// numbers are written as numbers, so a negative baseline stays -5 and does not become the text '-5.
const csvCell = (v: string | number | boolean | null) => {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};
const csv = (header: string[], rows: (string | number | boolean | null)[][]) =>
  [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';

/** One row per group; `all` where a row spans every call or theme. Money in integer cents. */
export function impactCsv(report: ImpactReport): string {
  return csv(
    [
      'call_id',
      'theme',
      'projects',
      ...PROJECT_STATUSES.map((s) => `projects_${s}`),
      'granted_cents',
      'disbursed_cents',
      'recovered_cents',
      'indicators',
      'indicators_measured',
      'indicators_reached',
      'average_achievement_bps',
    ],
    rowsOf(report).map((g) => [
      g.callId ?? 'all',
      g.theme ?? 'all',
      g.projects,
      ...PROJECT_STATUSES.map((s) => g.statuses[s]),
      g.grantedCents,
      g.disbursedCents,
      g.recoveredCents,
      g.indicators.length,
      g.indicatorsMeasured,
      g.indicatorsReached,
      g.averageAchievementBps,
    ]),
  );
}

/** One row per indicator of every project, each once. */
export function impactIndicatorsCsv(report: ImpactReport): string {
  return csv(
    [
      'call_id',
      'theme',
      'indicator',
      'unit',
      'baseline',
      'target',
      'measured',
      'achievement_bps',
      'beyond_target',
      'wrong_side',
      'note',
    ],
    report.byCall.flatMap((g) =>
      g.indicators.map((i) => [
        i.callId,
        i.theme,
        i.name,
        i.unit,
        i.baseline,
        i.target,
        i.measured,
        i.achievementBps,
        i.beyondTarget,
        i.wrongSide,
        i.note,
      ]),
    ),
  );
}

export const impactJson = (report: ImpactReport) => JSON.stringify(report, null, 2) + '\n';

/** Free text in a one-line table cell: no line breaks or tabs to break the columns. */
const oneLine = (s: string) => s.replace(/[\r\n\t\v\f]+/g, ' ');

function table(header: string[], rows: string[][], rightAligned: readonly number[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (rightAligned.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The report as plain text: the groups, then every indicator. */
export function impactTable(report: ImpactReport): string {
  const groups = table(
    ['Call', 'Theme', 'Projects', 'Measured', 'Reached', 'Achievement', 'Granted', 'Disbursed', 'Recovered'],
    rowsOf(report).map((g) => [
      g.callId ?? 'all calls',
      g.theme ?? 'all themes',
      String(g.projects),
      `${g.indicatorsMeasured}/${g.indicators.length}`,
      String(g.indicatorsReached),
      g.averageAchievementBps === null ? '-' : percent(g.averageAchievementBps),
      euro(g.grantedCents),
      euro(g.disbursedCents),
      euro(g.recoveredCents),
    ]),
    [2, 3, 4, 5, 6, 7, 8],
  );
  const indicators = table(
    ['Call', 'Theme', 'Indicator', 'Unit', 'Baseline', 'Target', 'Measured', 'Achievement'],
    report.byCall.flatMap((g) =>
      g.indicators.map((i) => [
        i.callId,
        i.theme,
        oneLine(i.name),
        oneLine(i.unit),
        String(i.baseline),
        String(i.target),
        i.measured === null ? '-' : String(i.measured),
        i.achievementBps === null
          ? 'not measured'
          : percent(i.achievementBps) + (i.beyondTarget ? ' (capped)' : i.wrongSide ? ' (wrong side)' : ''),
      ]),
    ),
    [4, 5, 6, 7],
  );
  return (
    `${groups}\n\n` +
    'A project with several themes counts under each of them: theme rows overlap, call rows and the total do not.\n\n' +
    `${indicators}\n`
  );
}
