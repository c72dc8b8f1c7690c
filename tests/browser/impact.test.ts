/// <reference lib="dom" />
import type { Page } from 'puppeteer-core';
import {
  accessibilityProblems,
  go,
  mainText,
  openTab,
  screenshot,
  signIn,
  startPagesSystem,
  type CheckedPage,
  type PagesSystem,
} from '../support/browser';
import { dayFromToday, type PreProjectOverrides } from '../support/fixtures';
import { closedProject, fundedProject, projectIn, toProject } from '../support/project-journeys';

/*
 * Three projects of this file's own call, with figures worked out by hand (the page must show what the impact
 * service computed, formatted, and nothing it made up):
 * - A, closed: employment + environment; jobs 0 -> 4 measured 3 (75%); virgin fabric 10 -> 4 t/year, lower is
 *   better, measured 2 (beyond the target: capped at 100%, reached); EUR 40,000 granted and disbursed.
 * - B, withdrawn: employment; jobs 0 -> 2 never measured; EUR 30,000 granted and disbursed, EUR 10,000 repaid.
 * - C, in progress: community well-being; help-desk users 100 -> 400 not measured yet; EUR 20,000 granted,
 *   EUR 15,000 disbursed.
 * Per theme: employment (A, B) 1 of 2 measured, 0 reached, 75.00%, EUR 70,000 / 70,000 / 10,000; environment (A)
 * 1 of 1, 1 reached, 100.00%, EUR 40,000 / 40,000 / 0; community well-being (C) 0 of 1, EUR 20,000 / 15,000 / 0.
 * Total: 3 projects, 2 of 4 measured, 1 reached, (7,500 + 10,000) / 2 = 87.50%, EUR 90,000 / 85,000 / 10,000.
 */

let ps: PagesSystem;
let auditor: CheckedPage;
let impactUrl: string;

// Plans of their own, with no loan (PROJECT_PLAN's would add an interest subsidy to every figure).
const closedPlan: PreProjectOverrides = {
  themes: ['employment', 'environment'],
  indicators: [
    {
      name: 'Jobs for people at risk of exclusion',
      theme: 'employment',
      unit: 'FTE',
      baseline: 0,
      target: 4,
      measurementMethod: 'payroll records, yearly',
    },
    {
      name: 'Virgin fabric bought',
      theme: 'environment',
      unit: 't/year',
      baseline: 10,
      target: 4,
      measurementMethod: 'purchase invoices',
    },
  ],
  costLines: [{ description: 'Sewing and repair equipment', category: 'equipment', amountCents: 8_000_000 }],
  grantCents: 4_000_000,
  loan: undefined,
};
const withdrawnPlan: PreProjectOverrides = {
  themes: ['employment'],
  indicators: [
    {
      name: 'Apprentices hired',
      theme: 'employment',
      unit: 'people',
      baseline: 0,
      target: 2,
      measurementMethod: 'employment contracts',
    },
  ],
  costLines: [{ description: 'Workshop fit-out', category: 'equipment', amountCents: 6_000_000 }],
  grantCents: 3_000_000,
  loan: undefined,
};
const runningPlan: PreProjectOverrides = {
  themes: ['community_wellbeing'],
  indicators: [
    {
      name: 'Help-desk users',
      theme: 'community_wellbeing',
      unit: 'people/year',
      baseline: 100,
      target: 400,
      measurementMethod: 'booking system',
    },
  ],
  costLines: [{ description: 'Help-desk software', category: 'services', amountCents: 4_000_000 }],
  grantCents: 2_000_000,
  loan: undefined,
};

async function withdrawnWithARepayment() {
  const id = await fundedProject(ps.sys, { plan: withdrawnPlan });
  await toProject(ps.sys, id, { type: 'WITHDRAW', reason: 'The company gave up the project.' });
  await toProject(ps.sys, id, { type: 'RECORD_REPAYMENT', amountCents: 1_000_000, repaidOn: dayFromToday(0) });
  return id;
}

beforeAll(async () => {
  ps = await startPagesSystem();
  const closed = await closedProject(ps.sys, { measured: [3, 2], spentCents: [8_000_000] }, closedPlan);
  const withdrawn = await withdrawnWithARepayment();
  await fundedProject(ps.sys, { plan: runningPlan, amountCents: 1_500_000 });
  expect((await projectIn(ps.sys, closed, 'closed')).state).toBe('closed');
  expect((await projectIn(ps.sys, withdrawn, 'withdrawn')).state).toBe('withdrawn');
  auditor = await openTab(ps.browser, true);
  expect(await signIn(ps, auditor, ps.people.auditor)).toBe(200);
  // Filtered by this file's call: the register may hold other files' projects.
  impactUrl = `${ps.base}/impatto?call=${ps.sys.callId}`;
});
afterAll(() => ps?.stop());

/** A table's body rows, each as its cells' text (row header first). */
const rows = (tab: Page, selector: string) =>
  tab.$$eval(`${selector} tbody tr`, (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('th, td')).map((c) => (c as HTMLElement).innerText.trim())),
  );

/** The widths of a chart's bars of one class, in drawing order. */
const barWidths = (tab: Page, chart: string, cls: string) =>
  tab.$$eval(
    `svg[aria-labelledby^="${chart}-title"] rect`,
    (rects, c) => rects.filter((r) => r.getAttribute('class') === c).map((r) => Number(r.getAttribute('width'))),
    cls,
  );

test('the impact page shows the hand-worked figures in charts and in the tables under them', async () => {
  expect(await go(auditor, impactUrl)).toBe(200);
  expect(await mainText(auditor)).toContain('3 (1 in realizzazione, 1 chiuso, 1 rinuncia)');
  const total = await auditor.$eval('#total', (d) => (d as HTMLElement).innerText);
  for (const fact of [
    /Indicatori misurati\s+2 di 4/,
    /Obiettivi raggiunti\s+1/,
    /Raggiungimento medio\s+87,50%/,
    /Agevolazioni concesse\s+EUR 90\.000,00/,
    /Erogato\s+EUR 85\.000,00/,
    /Recuperato \(restituito\)\s+EUR 10\.000,00/,
  ])
    expect(total).toMatch(fact);
  expect(await rows(auditor, '#t-achievement')).toEqual([
    ['Occupazione e inclusione lavorativa', '1 di 2', '0', '75,00%'],
    ['Ambiente e transizione verde', '1 di 1', '1', '100,00%'],
    ['Benessere delle comunità', '0 di 1', '0', 'nessuna misura'],
  ]);
  expect(await rows(auditor, '#t-money')).toEqual([
    ['Occupazione e inclusione lavorativa', '2', 'EUR 70.000,00', 'EUR 70.000,00', 'EUR 10.000,00'],
    ['Ambiente e transizione verde', '1', 'EUR 40.000,00', 'EUR 40.000,00', 'EUR 0,00'],
    ['Benessere delle comunità', '1', 'EUR 20.000,00', 'EUR 15.000,00', 'EUR 0,00'],
  ]);
  expect(await rows(auditor, '#t-statuses')).toEqual([
    ['in realizzazione', '1'],
    ['chiuso', '1'],
    ['rinuncia', '1'],
  ]);

  // The charts draw the same figures: 75% is three quarters of the full bar, nothing measured draws no bar.
  const [employment, environment, ...none] = await barWidths(auditor, 'impact-achievement', 'bar');
  const [track] = await barWidths(auditor, 'impact-achievement', 'track');
  expect(none).toEqual([]);
  expect(environment).toBe(track);
  expect(employment).toBe(Math.round((track! * 7_500) / 10_000));
  const granted = await barWidths(auditor, 'impact-money', 'bar granted');
  expect(granted.map((w) => w / granted[0]!)).toEqual([1, expect.closeTo(4 / 7, 2), expect.closeTo(2 / 7, 2)]);
  // Each chart is one image named by its title and described with every figure, for whoever cannot see the bars.
  const described = await auditor.$eval('#impact-achievement-desc', (d) => d.textContent);
  expect(described).toContain('Occupazione e inclusione lavorativa: 75,00% (1 di 2 indicatori misurati).');
  expect(described).toContain('Benessere delle comunità: non misurato (0 di 1 indicatori misurati).');
  expect(await auditor.$$eval('figure.chart svg[role=img]', (s) => s.length)).toBe(3);

  // Per indicator: capped beyond the target, and the direction said where lower is better.
  const environmentRows = await rows(auditor, '#t-theme-environment');
  expect(environmentRows).toHaveLength(1);
  expect(environmentRows[0]!.slice(1)).toEqual([
    'Virgin fabric bought',
    't/year',
    '10',
    '4\nminore è meglio',
    '2',
    '100,00%, limitato al 100%: il valore misurato 2 va oltre l’obiettivo',
  ]);
  expect(await accessibilityProblems(auditor)).toEqual([]);
  expect(auditor.cspViolations).toEqual([]);
  expect(auditor.blocked).toEqual([]);
  await screenshot(auditor, 'impact-report');
});

test('the same figures in English, filtered by theme, and as open data', async () => {
  expect(await go(auditor, `${impactUrl}&theme=environment&lang=en`)).toBe(200);
  expect(await rows(auditor, '#t-money')).toEqual([
    ['Environment and green transition', '1', 'EUR 40,000.00', 'EUR 40,000.00', 'EUR 0.00'],
  ]);
  expect(await auditor.$eval('#total', (d) => (d as HTMLElement).innerText)).toContain('1 (1 closed)');
  expect(await accessibilityProblems(auditor)).toEqual([]);

  const csv = await auditor.$eval('#open-data-csv', (a) => (a as HTMLAnchorElement).href);
  const answer = await auditor.evaluate(
    (u) =>
      fetch(u).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.text() })),
    csv,
  );
  expect(answer.status).toBe(200);
  expect(answer.type).toMatch(/^text\/csv/);
  expect(answer.body).toContain(`${ps.sys.callId},environment,1,`);

  // A theme that is not one: said next to the filter, no figures shown.
  expect(await go(auditor, `${impactUrl}&theme=happiness&lang=it`)).toBe(400);
  expect(await auditor.$eval('#f-theme-error', (e) => (e as HTMLElement).innerText)).toContain('Scelga uno dei temi');
  expect(await auditor.$('#t-money')).toBeNull();
});

test('the impact page is for operators and auditors only', async () => {
  const operator = await openTab(ps.browser, true);
  expect(await signIn(ps, operator, ps.people.operator)).toBe(200);
  expect(await go(operator, impactUrl)).toBe(200);

  for (const who of [ps.people.consultant, ps.people.members[0]]) {
    const tab = await openTab(ps.browser, true);
    expect(await signIn(ps, tab, who)).toBe(200);
    expect(await go(tab, impactUrl)).toBe(403);
    expect(await mainText(tab)).not.toContain('EUR 90.000,00');
    expect(await accessibilityProblems(tab)).toEqual([]);
  }

  const nobody = await openTab(ps.browser, true);
  await go(nobody, impactUrl);
  expect(new URL(nobody.url()).pathname).toBe('/accedi');
  // The JSON door says the same to a token of the wrong role.
  const json = await fetch(`${ps.base}/impact?call=${ps.sys.callId}`, {
    headers: { authorization: `Bearer ${ps.people.consultant.token}` },
  });
  expect(json.status).toBe(403);
});
