/// <reference lib="dom" />
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { ProjectViewSchema } from '../../client/api/schemas';
import { projectView } from '../../client/service/projects';
import { PROJECT_DOCUMENT_KINDS } from '../../machines/project.events';
import { addDays } from '../../machines/project.deadlines';
import {
  accessibilityProblems,
  fieldError,
  fill,
  go,
  mainText,
  openTab,
  screenshot,
  signIn,
  startPagesSystem,
  submit,
  type PagesSystem,
} from '../support/browser';
import { dayFromToday, pdfBytes } from '../support/fixtures';
import { PEOPLE } from '../support/people';
import { finalReport, fundedProject, projectIn, reportDue, toProject } from '../support/project-journeys';

let ps: PagesSystem;
beforeAll(async () => {
  ps = await startPagesSystem();
});
afterAll(() => ps?.stop());

const projectEvents = (id: string, type: string) =>
  ps.sys.db
    .selectFrom('project_events')
    .select(['actor', 'role'])
    .where('application_id', '=', id)
    .where('event_type', '=', type)
    .execute();

const projectDocumentCount = async (id: string) =>
  (
    await ps.sys.db
      .selectFrom('documents')
      .select('id')
      .where('application_id', '=', id)
      .where('kind', 'in', [...PROJECT_DOCUMENT_KINDS])
      .execute()
  ).length;

/** Distinct PDFs on disk, as a person picks them in the file dialog. */
function pdfFiles(names: readonly string[]): Record<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'innosocial-report-'));
  return Object.fromEntries(
    names.map((name) => {
      const file = path.join(dir, `${name}.pdf`);
      writeFileSync(file, pdfBytes(name));
      return [name, file];
    }),
  );
}

async function chooseFile(tab: Page, selector: string, file: string) {
  await ((await tab.$(selector)) as ElementHandle<HTMLInputElement>).uploadFile(file);
}

/**
 * A form the page does not offer, posted from it with the page's own CSRF token: what a person who edits the page
 * (or a consultant who guesses the operators' address) can send. Answers the HTTP status.
 */
async function postFromPage(tab: Page, action: string, multipart: boolean) {
  await tab.evaluate(
    (url, asMultipart) => {
      const token = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const form = document.createElement('form');
      form.method = 'post';
      form.action = url;
      if (asMultipart) form.enctype = 'multipart/form-data';
      form.innerHTML = `<input type="hidden" name="_csrf" value="${token}" />
        <input type="hidden" name="costLines.0.acceptedCents" value="0" />
        <input type="hidden" name="narrative" value="forged" /><button type="submit" id="forged">go</button>`;
      document.body.append(form);
    },
    action,
    multipart,
  );
  return submit(tab, '#forged');
}

test('a consultant submits the final report, evidence uploaded on the page; a refusal shows by its field', async () => {
  // PROJECT_PLAN: jobs 0 -> 3 FTE, waste 12 -> 8 t/year; equipment EUR 50,000, training EUR 30,000.
  const id = await reportDue(ps.sys);
  const { disbursedOn } = await projectView(ps.sys.db, id);
  const files = pdfFiles(['payroll-2026', 'weighbridge-2026', 'invoice-equipment', 'invoice-training']);
  const tab = await openTab(ps.browser, true);
  expect(await signIn(ps, tab, ps.people.consultant)).toBe(200);

  expect(await go(tab, `${ps.base}/consulente/${id}`)).toBe(200);
  expect(await mainText(tab)).toContain('relazione finale da inviare');
  expect(await accessibilityProblems(tab)).toEqual([]);

  const fillReport = async (firstMeasuredOn: string, narrative: string) => {
    await fill(tab, '#f-indicators-0-measured', '2');
    await fill(tab, '#f-indicators-0-measuredOn', firstMeasuredOn);
    await fill(tab, '#f-indicators-1-measured', '9,5');
    await fill(tab, '#f-indicators-1-measuredOn', dayFromToday(0));
    await fill(tab, '#f-costLines-0-spentCents', '50.000');
    await fill(tab, '#f-costLines-1-spentCents', '1.500,00');
    await fill(tab, '#f-narrative', narrative);
  };
  const chooseAllFiles = async () => {
    await chooseFile(tab, '#f-indicators-0-file', files['payroll-2026']!);
    await chooseFile(tab, '#f-indicators-1-file', files['weighbridge-2026']!);
    await chooseFile(tab, '#f-costLines-0-file', files['invoice-equipment']!);
    await chooseFile(tab, '#f-costLines-1-file', files['invoice-training']!);
  };
  const send = () => submit(tab, 'form[action$="/relazione-finale"] button[name=action][value=submit]');

  // No narrative: the page's own check. Nothing is stored, and the chosen files are named as not uploaded.
  await fillReport(dayFromToday(0), '');
  await chooseAllFiles();
  expect(await send()).toBe(400);
  expect(await fieldError(tab, 'narrative')).toContain('breve relazione');
  expect(await fieldError(tab, 'indicators.0.file')).toContain('payroll-2026.pdf non è stato caricato');
  expect(await tab.$eval('#f-costLines-1-spentCents', (i) => (i as HTMLInputElement).value)).toBe('1.500,00');
  expect(await projectDocumentCount(id)).toBe(0);

  // Measured before the project started: the machine's refusal, next to that date. The files went in first and
  // stay chosen in their rows, so the second attempt uploads nothing again.
  await fillReport(addDays(disbursedOn, -3), 'Laboratorio avviato, tre persone assunte su due turni.');
  await chooseAllFiles();
  expect(await send()).toBe(409);
  expect(await fieldError(tab, 'indicators.0.measuredOn')).toContain('precede l’avvio del progetto');
  expect(await fieldError(tab, 'indicators.1.measuredOn')).toBe('');
  expect(await tab.$eval('#h-final + .notice', (n) => (n as HTMLElement).innerText)).toContain(
    'Nulla è stato registrato',
  );
  expect(await projectEvents(id, 'SUBMIT_FINAL_REPORT')).toEqual([]);
  expect(await projectDocumentCount(id)).toBe(4);
  const chosenEvidence = await tab.$eval(
    '#f-indicators-0-evidence',
    (s) => (s as HTMLSelectElement).selectedOptions[0]!.textContent,
  );
  expect(chosenEvidence).toContain('payroll-2026.pdf');
  expect(await tab.$$eval('input[name="costLines.1.documents"]:checked', (c) => c.length)).toBe(1);
  expect(await accessibilityProblems(tab)).toEqual([]);
  await screenshot(tab, 'project-final-report');

  await fill(tab, '#f-indicators-0-measuredOn', dayFromToday(0));
  expect(await send()).toBe(200);
  expect(await mainText(tab)).toContain('Relazione finale inviata');
  expect((await projectIn(ps.sys, id, 'under_verification')).state).toBe('under_verification');
  expect(await projectEvents(id, 'SUBMIT_FINAL_REPORT')).toEqual([
    { actor: ps.people.consultant.id, role: 'consultant' },
  ]);
  const report = (await projectView(ps.sys.db, id)).finalReport as {
    indicators: { measured: number; evidence: { sha256: string } }[];
    costLines: { spentCents: number; documents: unknown[] }[];
  };
  expect(report.indicators.map((i) => i.measured)).toEqual([2, 9.5]);
  expect(report.indicators[0]!.evidence.sha256).toBe(
    createHash('sha256').update(pdfBytes('payroll-2026')).digest('hex'),
  );
  expect(report.costLines.map((l) => [l.spentCents, l.documents.length])).toEqual([
    [5_000_000, 1],
    [150_000, 1],
  ]);
  // Named by the report, the evidence downloads with the same session.
  const href = await tab.$eval('#t-reported-indicators a', (a) => (a as HTMLAnchorElement).href);
  expect(await tab.evaluate((u) => fetch(u).then((r) => r.status), href)).toBe(200);
  // The JSON door answers the same project, and its published schema names every field the page read.
  const json = await tab.evaluate((u) => fetch(u).then((r) => r.json()), `${ps.base}/applications/${id}/project`);
  expect(ProjectViewSchema.strict().safeParse(json).error?.issues ?? []).toEqual([]);
  expect(await accessibilityProblems(tab)).toEqual([]);
  expect(tab.cspViolations).toEqual([]);
});

test('an interim report while the project runs: a date before the disbursement is refused, then recorded', async () => {
  const id = await fundedProject(ps.sys, { disbursedOn: dayFromToday(-10) });
  const files = pdfFiles(['sal-1']);
  const tab = await openTab(ps.browser, true);
  expect(await signIn(ps, tab, ps.people.consultant)).toBe(200);
  expect(await go(tab, `${ps.base}/consulente/${id}`)).toBe(200);
  expect(await mainText(tab)).toContain('in realizzazione');
  // The final report waits for the end of the realisation: its form is not offered yet.
  expect(await tab.$('form[action$="/relazione-finale"]')).toBeNull();

  const record = async (asOf: string) => {
    await fill(tab, '#f-interim-asOf', asOf);
    await fill(tab, '#f-interim-spentToDateCents', '12.500');
    await fill(tab, '#f-interim-narrative', 'Macchine installate, formazione avviata.');
    await chooseFile(tab, '#f-interim-file', files['sal-1']!);
    return submit(tab, 'form[action$="/relazione-intermedia"] button[type=submit]');
  };
  expect(await record(dayFromToday(-20))).toBe(409);
  expect(await fieldError(tab, 'interim.asOf')).toContain('precede l’avvio del progetto');
  expect(await projectEvents(id, 'SUBMIT_INTERIM_REPORT')).toEqual([]);
  expect(await accessibilityProblems(tab)).toEqual([]);

  // The file went in with the first attempt and stays chosen: the second one only corrects the date.
  await fill(tab, '#f-interim-asOf', dayFromToday(0));
  expect(await submit(tab, 'form[action$="/relazione-intermedia"] button[type=submit]')).toBe(200);
  expect(await mainText(tab)).toContain('Relazione intermedia registrata.');
  expect(await projectEvents(id, 'SUBMIT_INTERIM_REPORT')).toEqual([
    { actor: ps.people.consultant.id, role: 'consultant' },
  ]);
  const view = await projectView(ps.sys.db, id);
  expect(view.interimReports).toBe(1);
  expect(view.reports.map((r) => [r.kind, r.number])).toEqual([['interim', 1]]);
  expect(await projectDocumentCount(id)).toBe(1);
});

test('an operator verifies the final report and cuts a cost line; a cut without its reason is refused', async () => {
  const id = await reportDue(ps.sys);
  const report = await finalReport(ps.sys, id, { measured: [2, 9.5], spentCents: [5_000_000, 3_000_000] });
  await toProject(ps.sys, id, { type: 'SUBMIT_FINAL_REPORT', report }, PEOPLE.consultant);
  const tab = await openTab(ps.browser, true);
  expect(await signIn(ps, tab, ps.people.operator)).toBe(200);
  expect(await tab.$('a[href="/consulente"]')).not.toBeNull();

  expect(await go(tab, `${ps.base}/consulente/${id}`)).toBe(200);
  expect(await tab.$eval('#t-reported-costs', (t) => (t as HTMLElement).innerText)).toContain('EUR 30.000,00');
  expect(await accessibilityProblems(tab)).toEqual([]);

  // More than was spent on one line, a cut without its reason on the other: both the machine's, each on its line.
  await fill(tab, '#f-costLines-0-acceptedCents', '60.000');
  await fill(tab, '#f-costLines-1-acceptedCents', '1.000');
  const verify = () => submit(tab, 'form[action$="/verifica"] button[type=submit]');
  expect(await verify()).toBe(409);
  expect(await fieldError(tab, 'costLines.0.acceptedCents')).toContain('più di quanto speso (EUR 50.000,00)');
  expect(await fieldError(tab, 'costLines.1.reason')).toContain('Accetta EUR 1.000,00 su EUR 30.000,00 spesi');
  expect(await projectEvents(id, 'VERIFY_REPORT')).toEqual([]);
  expect(await tab.$eval('#h-verify ~ .notice', (n) => (n as HTMLElement).innerText)).toContain('Nulla è stato');
  expect(await accessibilityProblems(tab)).toEqual([]);
  await screenshot(tab, 'project-verification');

  await fill(tab, '#f-costLines-0-acceptedCents', '50.000');
  await fill(tab, '#f-costLines-1-reason', 'Fatture della formazione non quietanzate');
  expect(await verify()).toBe(200);
  expect(await mainText(tab)).toContain('Verifica registrata');
  expect((await projectIn(ps.sys, id, 'reduction_intended')).state).toBe('reduction_intended');
  expect(await projectEvents(id, 'VERIFY_REPORT')).toEqual([{ actor: ps.people.operator.id, role: 'operator' }]);
  // By hand: EUR 51,000 of the 80,000 planned accepted. Grant: half of it, 25,500.00 (under the 40,000 admitted).
  // Interest subsidy: 195.41 x 51,000 / 80,000 = 124.57. Justified 25,624.57 of the 40,195.41 disbursed: 14,570.84.
  const { verification } = (await projectView(ps.sys.db, id)) as unknown as {
    verification: { lines: { acceptedCents: number; reason: string | null }[]; money: Record<string, number> };
  };
  expect(verification.lines.map((l) => [l.acceptedCents, l.reason])).toEqual([
    [5_000_000, null],
    [100_000, 'Fatture della formazione non quietanzate'],
  ]);
  expect(verification.money).toMatchObject({
    justifiedGrantCents: 2_550_000,
    justifiedSubsidyCents: 12_457,
    recoveryCents: 1_457_084,
  });
  const shown = await mainText(tab);
  expect(shown).toContain('da recuperare EUR 14.570,84');
  expect(shown).toContain('Fatture della formazione non quietanzate');
  expect(await tab.$('form[action$="/verifica"]')).toBeNull();
  expect(await accessibilityProblems(tab)).toEqual([]);
  expect(tab.cspViolations).toEqual([]);
});

test('another body, another role or nobody signed in: refused, nothing recorded', async () => {
  const id = await reportDue(ps.sys);
  const page = `${ps.base}/consulente/${id}`;

  const stranger = await openTab(ps.browser, true);
  expect(await signIn(ps, stranger, ps.people.otherConsultant)).toBe(200);
  expect(await go(stranger, page)).toBe(403);
  // From her own list page, with her own valid token: the project is not her body's.
  await go(stranger, `${ps.base}/consulente`);
  expect(await postFromPage(stranger, `${page}/progetto/relazione-finale`, true)).toBe(403);
  expect(await accessibilityProblems(stranger)).toEqual([]);

  // The body's own consultant may report, not verify.
  const consultant = await openTab(ps.browser, true);
  expect(await signIn(ps, consultant, ps.people.consultant)).toBe(200);
  await go(consultant, page);
  expect(await consultant.$('form[action$="/verifica"]')).toBeNull();
  expect(await postFromPage(consultant, `${page}/progetto/verifica`, false)).toBe(403);
  expect(await mainText(consultant)).toContain('non è per il suo ruolo');
  // A forged token on her own form: refused before anything is read.
  await go(consultant, page);
  await consultant.$eval('form[action$="/relazione-finale"] input[name=_csrf]', (i) => {
    (i as HTMLInputElement).value = 'forged';
  });
  expect(await submit(consultant, 'form[action$="/relazione-finale"] button[value=submit]')).toBe(403);
  expect(await mainText(consultant)).toContain('Il modulo non è più valido');

  const member = await openTab(ps.browser, true);
  expect(await signIn(ps, member, ps.people.members[0])).toBe(200);
  expect(await go(member, page)).toBe(403);

  const nobody = await openTab(ps.browser, true);
  await go(nobody, page);
  expect(new URL(nobody.url()).pathname).toBe('/accedi');

  expect(await projectEvents(id, 'SUBMIT_FINAL_REPORT')).toEqual([]);
  expect(await projectEvents(id, 'VERIFY_REPORT')).toEqual([]);
  expect(await projectDocumentCount(id)).toBe(0);
  expect((await projectView(ps.sys.db, id)).state).toBe('final_report_due');
});
