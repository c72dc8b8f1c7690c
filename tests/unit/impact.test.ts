import {
  PROJECT_STATUSES,
  impactCsv,
  impactIndicatorsCsv,
  impactJson,
  impactReport,
  impactTable,
  type FundedProjectFigures,
} from '../../domain/impact';
import { PROJECT_STATES } from '../../machines/project.machine';

const C23 = 'innosocialmetro-2023';
const C24 = 'innosocialmetro-2024';

/** Four projects worked by hand below; achievement of each indicator in its comment. */
const projects: FundedProjectFigures[] = [
  {
    callId: C23,
    themes: ['employment', 'environment'],
    status: 'closed',
    indicators: [
      // 0 → 3, measured 3: reached, 10,000 bps
      {
        name: 'Jobs for people at risk of exclusion',
        theme: 'employment',
        unit: 'FTE',
        baseline: 0,
        target: 3,
        measured: 3,
      },
      // 12 → 8 (lower is better), measured 10: (12 − 10) / (12 − 8) = 5,000 bps
      {
        name: 'Textile waste to landfill',
        theme: 'environment',
        unit: 't/year',
        baseline: 12,
        target: 8,
        measured: 10,
      },
    ],
    grantedCents: 4_019_541,
    disbursedCents: 4_019_541,
    recoveredCents: 0,
  },
  {
    callId: C23,
    themes: ['employment'],
    status: 'reduced',
    // 2 → 6, measured 3: 1 / 4 = 2,500 bps
    indicators: [{ name: 'People hired', theme: 'employment', unit: 'people', baseline: 2, target: 6, measured: 3 }],
    grantedCents: 2_000_000,
    disbursedCents: 2_000_000,
    recoveredCents: 300_000,
  },
  {
    callId: C24,
    themes: ['community_wellbeing'],
    status: 'in_progress',
    indicators: [
      {
        name: 'Users of the service',
        theme: 'community_wellbeing',
        unit: 'users/month',
        baseline: 0,
        target: 500,
        measured: null,
      },
    ],
    grantedCents: 1_500_000,
    disbursedCents: 1_500_000,
    recoveredCents: 0,
  },
  {
    callId: C24,
    themes: ['environment'],
    status: 'revoked',
    // 100 → 60, measured 110: the wrong side of the baseline, 0 bps
    indicators: [
      { name: 'CO2 emitted', theme: 'environment', unit: 't CO2e', baseline: 100, target: 60, measured: 110 },
    ],
    grantedCents: 1_000_000,
    disbursedCents: 1_000_000,
    recoveredCents: 1_000_000,
  },
];

const report = impactReport(projects);
const figures = (g: ReturnType<typeof impactReport>['total']) => ({
  projects: g.projects,
  grantedCents: g.grantedCents,
  disbursedCents: g.disbursedCents,
  recoveredCents: g.recoveredCents,
  indicators: g.indicators.length,
  indicatorsMeasured: g.indicatorsMeasured,
  indicatorsReached: g.indicatorsReached,
  averageAchievementBps: g.averageAchievementBps,
});

describe('impactReport', () => {
  test('the statuses are the project machine states people read (settled shows what it settled)', () => {
    expect([...PROJECT_STATUSES].sort()).toEqual(PROJECT_STATES.filter((s) => s !== 'settled').sort());
  });

  test('the total counts each project once', () => {
    // granted 4,019,541 + 2,000,000 + 1,500,000 + 1,000,000 = 8,519,541 (all disbursed); recovered 300,000 +
    // 1,000,000; measured 4 of 5 indicators: (10,000 + 5,000 + 2,500 + 0) / 4 = 4,375.
    expect(figures(report.total)).toEqual({
      projects: 4,
      grantedCents: 8_519_541,
      disbursedCents: 8_519_541,
      recoveredCents: 1_300_000,
      indicators: 5,
      indicatorsMeasured: 4,
      indicatorsReached: 1,
      averageAchievementBps: 4_375,
    });
    expect(report.total.statuses).toEqual({
      in_progress: 1,
      final_report_due: 0,
      under_verification: 0,
      reduction_intended: 0,
      revocation_intended: 0,
      closed: 1,
      reduced: 1,
      revoked: 1,
      withdrawn: 0,
    });
  });

  test('per call', () => {
    expect(report.byCall.map((g) => [g.callId, figures(g)])).toEqual([
      // (10,000 + 5,000 + 2,500) / 3 = 5,833.33 → 5,833
      [
        C23,
        {
          projects: 2,
          grantedCents: 6_019_541,
          disbursedCents: 6_019_541,
          recoveredCents: 300_000,
          indicators: 3,
          indicatorsMeasured: 3,
          indicatorsReached: 1,
          averageAchievementBps: 5_833,
        },
      ],
      // one measured indicator, at 0
      [
        C24,
        {
          projects: 2,
          grantedCents: 2_500_000,
          disbursedCents: 2_500_000,
          recoveredCents: 1_000_000,
          indicators: 2,
          indicatorsMeasured: 1,
          indicatorsReached: 0,
          averageAchievementBps: 0,
        },
      ],
    ]);
  });

  test('per theme, a project with two themes counting under both', () => {
    expect(report.byTheme.map((g) => [g.theme, figures(g)])).toEqual([
      // the first two projects; (10,000 + 2,500) / 2 = 6,250
      [
        'employment',
        {
          projects: 2,
          grantedCents: 6_019_541,
          disbursedCents: 6_019_541,
          recoveredCents: 300_000,
          indicators: 2,
          indicatorsMeasured: 2,
          indicatorsReached: 1,
          averageAchievementBps: 6_250,
        },
      ],
      // the first and the last: 4,019,541 + 1,000,000; (5,000 + 0) / 2 = 2,500
      [
        'environment',
        {
          projects: 2,
          grantedCents: 5_019_541,
          disbursedCents: 5_019_541,
          recoveredCents: 1_000_000,
          indicators: 2,
          indicatorsMeasured: 2,
          indicatorsReached: 0,
          averageAchievementBps: 2_500,
        },
      ],
      // nothing measured yet: no average, not 0%
      [
        'community_wellbeing',
        {
          projects: 1,
          grantedCents: 1_500_000,
          disbursedCents: 1_500_000,
          recoveredCents: 0,
          indicators: 1,
          indicatorsMeasured: 0,
          indicatorsReached: 0,
          averageAchievementBps: null,
        },
      ],
    ]);
    // The overlap: 6,019,541 + 5,019,541 + 1,500,000 = 12,539,082 = the total 8,519,541 + the first project again.
    expect(report.byTheme.reduce((s, g) => s + g.grantedCents, 0)).toBe(8_519_541 + 4_019_541);
  });

  test('per call and theme', () => {
    expect(report.byCallAndTheme.map((g) => [g.callId, g.theme, g.projects, g.averageAchievementBps])).toEqual([
      [C23, 'employment', 2, 6_250],
      [C23, 'environment', 1, 5_000],
      [C24, 'environment', 1, 0],
      [C24, 'community_wellbeing', 1, null],
    ]);
  });

  test('each indicator carries its achievement and what it means', () => {
    expect(report.byCall[1]!.indicators).toEqual([
      {
        callId: C24,
        name: 'Users of the service',
        theme: 'community_wellbeing',
        unit: 'users/month',
        baseline: 0,
        target: 500,
        measured: null,
        achievementBps: null,
        reached: null,
        beyondTarget: false,
        wrongSide: false,
        note: 'not measured yet',
      },
      expect.objectContaining({
        name: 'CO2 emitted',
        achievementBps: 0,
        wrongSide: true,
        note: 'measured 110 is on the wrong side of the baseline 100 (above it): 0%',
      }),
    ]);
  });

  test('filtered by call', () => {
    const r = impactReport(projects, { callId: C24 });
    expect([r.total.projects, r.byCall.map((g) => g.callId), r.byTheme.map((g) => g.theme)]).toEqual([
      2,
      [C24],
      ['environment', 'community_wellbeing'],
    ]);
  });

  test('filtered by theme: the projects naming it, and of their indicators those measuring it', () => {
    const r = impactReport(projects, { theme: 'environment' });
    // projects 1 and 4; indicators waste (5,000) and CO2 (0); money counted whole: 4,019,541 + 1,000,000.
    expect(figures(r.total)).toMatchObject({
      projects: 2,
      grantedCents: 5_019_541,
      indicators: 2,
      averageAchievementBps: 2_500,
    });
    expect(r.total.theme).toBe('environment');
    expect(r.byTheme.map((g) => g.theme)).toEqual(['environment']);
    expect(r.byCall.map((g) => [g.callId, g.indicators.map((i) => i.name)])).toEqual([
      [C23, ['Textile waste to landfill']],
      [C24, ['CO2 emitted']],
    ]);
  });

  test('no projects: zeros and no average', () => {
    expect(figures(impactReport([]).total)).toEqual({
      projects: 0,
      grantedCents: 0,
      disbursedCents: 0,
      recoveredCents: 0,
      indicators: 0,
      indicatorsMeasured: 0,
      indicatorsReached: 0,
      averageAchievementBps: null,
    });
  });

  test('money that is not integer cents is a programming error', () => {
    expect(() => impactReport([{ ...projects[0]!, recoveredCents: 1.5 }])).toThrow(/project 1: recoveredCents/);
  });
});

describe('renderers', () => {
  test('CSV: one row per group, money in cents, RFC 4180 line ends', () => {
    const text = impactCsv(report);
    expect(text.split('\r\n')[0]).toBe(
      'call_id,theme,projects,projects_in_progress,projects_final_report_due,projects_under_verification,' +
        'projects_reduction_intended,projects_revocation_intended,projects_closed,projects_reduced,projects_revoked,' +
        'projects_withdrawn,granted_cents,disbursed_cents,recovered_cents,indicators,indicators_measured,' +
        'indicators_reached,average_achievement_bps',
    );
    // No field of this report needs quoting, so a plain split reads it.
    const rows = text
      .split('\r\n')
      .slice(0, -1)
      .map((line) => line.split(','));
    // total + 2 calls + 3 themes + 4 call × theme
    expect(rows).toHaveLength(1 + 1 + 2 + 3 + 4);
    expect(rows[1]).toEqual([
      'all',
      'all',
      '4',
      '1',
      '0',
      '0',
      '0',
      '0',
      '1',
      '1',
      '1',
      '0',
      '8519541',
      '8519541',
      '1300000',
      '5',
      '4',
      '1',
      '4375',
    ]);
    expect(rows[rows.length - 1]).toEqual([
      C24,
      'community_wellbeing',
      '1',
      '1',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '1500000',
      '1500000',
      '0',
      '1',
      '0',
      '0',
      '',
    ]);
  });

  test('indicator CSV: free text is quoted and spreadsheet formulas are neutralised; numbers stay numbers', () => {
    const tricky: FundedProjectFigures = {
      ...projects[2]!,
      indicators: [
        {
          name: '=HYPERLINK("http://evil.example","click")',
          theme: 'community_wellbeing',
          unit: 'clicks, monthly',
          baseline: -5,
          target: 5,
          measured: 0,
        },
        {
          name: '@SUM(A1)\nsecond line',
          theme: 'community_wellbeing',
          unit: '+1',
          baseline: 0,
          target: 1,
          measured: null,
        },
      ],
    };
    const text = impactIndicatorsCsv(impactReport([tricky]));
    expect(text).toBe(
      'call_id,theme,indicator,unit,baseline,target,measured,achievement_bps,beyond_target,wrong_side,note\r\n' +
        `${C24},community_wellbeing,"'=HYPERLINK(""http://evil.example"",""click"")","clicks, monthly",-5,5,0,5000,` +
        'false,false,50.00% of the way from the baseline -5 to the target 5\r\n' +
        `${C24},community_wellbeing,"'@SUM(A1)\nsecond line",'+1,0,1,,,false,false,not measured yet\r\n`,
    );
  });

  test('JSON carries the whole report', () => {
    expect(JSON.parse(impactJson(report))).toEqual(report);
  });

  test('plain text table: aligned columns, euros, percentages, and the overlap said in words', () => {
    const text = impactTable(impactReport(projects, { callId: C23 }));
    const lines = text.split('\n');
    // Right-aligned figures end every row at the same column; cells are separated by at least two spaces.
    const groupRows = lines.slice(0, lines.indexOf(''));
    expect(new Set(groupRows.map((l) => l.length)).size).toBe(1);
    expect(groupRows.map((l) => l.split(/ {2,}/))).toEqual([
      ['Call', 'Theme', 'Projects', 'Measured', 'Reached', 'Achievement', 'Granted', 'Disbursed', 'Recovered'],
      [
        '-'.repeat(20),
        '-'.repeat(11),
        '--------',
        '--------',
        '-------',
        '-----------',
        '-'.repeat(13),
        '-'.repeat(13),
        '-'.repeat(12),
      ],
      ['all calls', 'all themes', '2', '3/3', '1', '58.33%', 'EUR 60,195.41', 'EUR 60,195.41', 'EUR 3,000.00'],
      [C23, 'all themes', '2', '3/3', '1', '58.33%', 'EUR 60,195.41', 'EUR 60,195.41', 'EUR 3,000.00'],
      ['all calls', 'employment', '2', '2/2', '1', '62.50%', 'EUR 60,195.41', 'EUR 60,195.41', 'EUR 3,000.00'],
      ['all calls', 'environment', '1', '1/1', '0', '50.00%', 'EUR 40,195.41', 'EUR 40,195.41', 'EUR 0.00'],
      [C23, 'employment', '2', '2/2', '1', '62.50%', 'EUR 60,195.41', 'EUR 60,195.41', 'EUR 3,000.00'],
      [C23, 'environment', '1', '1/1', '0', '50.00%', 'EUR 40,195.41', 'EUR 40,195.41', 'EUR 0.00'],
    ]);
    expect(text).toContain('theme rows overlap, call rows and the total do not');
    expect(text).toMatch(
      /\ninnosocialmetro-2023 +environment +Textile waste to landfill +t\/year +12 +8 +10 +50\.00%\n/,
    );
    expect(text.endsWith('\n')).toBe(true);
  });

  test('plain text table: a line break in free text cannot break a row; capped and wrong-side are said', () => {
    const text = impactTable(
      impactReport([
        {
          ...projects[3]!,
          indicators: [
            { name: 'CO2\nemitted', theme: 'environment', unit: 't', baseline: 100, target: 60, measured: 50 },
            { name: 'Energy', theme: 'environment', unit: 'MWh', baseline: 10, target: 5, measured: 12 },
          ],
        },
      ]),
    );
    expect(text).toMatch(/CO2 emitted .* 100\.00% \(capped\)\n/);
    expect(text).toMatch(/Energy .* 0\.00% \(wrong side\)\n/);
  });
});
