/// <reference lib="dom" />
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ElementHandle } from 'puppeteer-core';
import {
  accessibilityProblems,
  fieldError,
  fill,
  go,
  mainText,
  openTab,
  screenshot,
  startPagesSystem,
  submit,
  type CheckedPage,
  type PagesSystem,
} from '../support/browser';
import { dayFromToday, pdfBytes } from '../support/fixtures';
import { inAccompaniment, send } from '../support/journeys';
import { PEOPLE } from '../support/people';
import { confirmationCode } from '../support/system';

let ps: PagesSystem;
let tab: CheckedPage;
beforeAll(async () => {
  ps = await startPagesSystem();
  tab = await openTab(ps.browser, true);
  // The consultant pastes the token the operators gave her.
  await go(tab, `${ps.base}/accedi`);
  await tab.type('#f-token', ps.people.consultant.token);
  await submit(tab, 'form[action="/accedi/token"] button[type=submit]');
});
afterAll(() => ps?.stop());

const count = async (id: string, type: string) =>
  (
    await ps.sys.db
      .selectFrom('audit_events')
      .select('seq')
      .where('application_id', '=', id)
      .where('event_type', '=', type)
      .execute()
  ).length;

async function logSession(date: string, start: string, end: string, topic = 'Piano di impatto') {
  await fill(tab, '#f-date', date);
  await fill(tab, '#f-start', start);
  await fill(tab, '#f-end', end);
  await fill(tab, '#f-topic', topic);
  await fill(tab, '#f-attendees', 'Giulia Ferraris\nLuca Bianco');
  return submit(tab, 'form[action$="/sessioni"] button[type=submit]');
}

test('a consultant logs two sessions and submits a pre-project with two indicators and two cost lines', async () => {
  const id = await inAccompaniment(ps.sys, 'i3p');
  const elsewhere = await inAccompaniment(ps.sys, 'nemo');
  expect(await go(tab, `${ps.base}/consulente`)).toBe(200);
  const list = await mainText(tab);
  expect(list).toContain('Officina Sociale Srl');
  expect(await tab.$(`a[href="/consulente/${elsewhere}"]`)).toBeNull();
  expect(await tab.$(`a[href="/consulente/${id}"]`)).not.toBeNull();
  expect(await accessibilityProblems(tab)).toEqual([]);
  expect(await go(tab, `${ps.base}/consulente/${elsewhere}`)).toBe(403);

  await go(tab, `${ps.base}/consulente/${id}`);
  expect(await accessibilityProblems(tab)).toEqual([]);
  // An end before the start and no topic: both named, nothing sent.
  expect(await logSession(dayFromToday(1), '13:00', '09:00', '')).toBe(400);
  expect(await fieldError(tab, 'topic')).toContain('argomento');
  expect(await tab.$eval('#f-attendees', (t) => (t as HTMLTextAreaElement).value)).toContain('Luca Bianco');
  expect(await logSession(dayFromToday(1), '13:00', '09:00')).toBe(400);
  expect(await fieldError(tab, 'end')).toContain('fine deve seguire');
  expect(await count(id, 'LOG_SESSION')).toBe(0);

  expect(await logSession(dayFromToday(1), '09:00', '13:00')).toBe(200);
  expect(await mainText(tab)).toContain('Sessione registrata');
  expect(await logSession(dayFromToday(2), '14:00', '18:00')).toBe(200);
  // The same start again: refused by the step, next to the start.
  expect(await logSession(dayFromToday(2), '14:00', '16:00')).toBe(409);
  expect(await fieldError(tab, 'start')).toContain('già registrata');
  expect(await count(id, 'LOG_SESSION')).toBe(2);
  expect(await mainText(tab)).toContain('in attesa dell’impresa');

  // The company confirms both (its code, as from the e-mail); the page shows the verified hours.
  for (const [date, start] of [
    [dayFromToday(1), '09:00'],
    [dayFromToday(2), '14:00'],
  ] as const) {
    const code = await confirmationCode(ps.sys.db, id, date, start);
    await send(ps.sys, id, { type: 'CONFIRM_SESSION', date, start, code }, PEOPLE.company);
  }
  await go(tab, `${ps.base}/consulente/${id}`);
  expect(await mainText(tab)).toContain('Ore verificate: 8 di 8 minime');
  expect(await submit(tab, 'form[action$="/completa"] button[type=submit]')).toBe(200);
  expect((await ps.sys.view(id)).state).toBe('pre_project');

  await fill(tab, '#f-title', 'Laboratorio di riuso tessile');
  await fill(tab, '#f-summary', 'Un laboratorio che ripara e riusa tessuti con persone a rischio di esclusione.');
  await tab.click('input[name=themes][value=employment]');
  await tab.click('input[name=themes][value=environment]');
  await fill(tab, '#f-indicators-0-name', 'Posti di lavoro per persone svantaggiate');
  await tab.select('#f-indicators-0-theme', 'employment');
  await fill(tab, '#f-indicators-0-unit', 'ULA');
  await fill(tab, '#f-indicators-0-baseline', '0');
  await fill(tab, '#f-indicators-0-target', '3');
  await fill(tab, '#f-indicators-0-measurementMethod', 'Libro unico del lavoro, annuale');
  // "Add a row" re-renders the form with what was typed and one more row: nothing is sent.
  expect(await submit(tab, 'button[name=add][value=indicator]')).toBe(200);
  expect(await tab.$eval('#f-indicators-0-name', (i) => (i as HTMLInputElement).value)).toBe(
    'Posti di lavoro per persone svantaggiate',
  );
  expect(await tab.$('#f-indicators-2-name')).not.toBeNull();
  await fill(tab, '#f-indicators-1-name', 'Tessuti riusati');
  await tab.select('#f-indicators-1-theme', 'environment');
  await fill(tab, '#f-indicators-1-unit', 't/anno');
  await fill(tab, '#f-indicators-1-baseline', '1,5');
  await fill(tab, '#f-indicators-1-target', 'dodici');
  await fill(tab, '#f-costLines-0-description', 'Macchine da cucire industriali');
  await tab.select('#f-costLines-0-category', 'equipment');
  await fill(tab, '#f-costLines-0-amountCents', '30.000');
  await fill(tab, '#f-costLines-1-description', 'Formazione del personale');
  await tab.select('#f-costLines-1-category', 'services');
  await fill(tab, '#f-costLines-1-amountCents', '10000,50');
  await fill(tab, '#f-grantCents', '25000');
  // A target that is not a number and a missing method: named on their row.
  expect(await submit(tab, 'button[name=add][value=""]')).toBe(400);
  expect(await fieldError(tab, 'indicators.1.target')).toContain('Un numero');
  expect(await fieldError(tab, 'indicators.1.measurementMethod')).toContain('obbligatorio');
  await fill(tab, '#f-indicators-1-target', '12');
  await fill(tab, '#f-indicators-1-measurementMethod', 'Bolle di pesatura');
  // A grant over half the eligible cost: the machine's reason, in euro, next to the grant.
  expect(await submit(tab, 'button[name=add][value=""]')).toBe(409);
  expect(await fieldError(tab, 'grantCents')).toContain('al massimo EUR 20.000,25');
  expect(await count(id, 'SUBMIT_PRE_PROJECT')).toBe(0);
  expect(await accessibilityProblems(tab)).toEqual([]);

  await fill(tab, '#f-grantCents', '20.000');
  expect(await submit(tab, 'button[name=add][value=""]')).toBe(200);
  expect(await mainText(tab)).toContain('Pre-progetto inviato.');
  const stored = await ps.sys.db
    .selectFrom('pre_projects')
    .select('content')
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  const content = (typeof stored.content === 'string' ? JSON.parse(stored.content) : stored.content) as {
    indicators: { baseline: number; target: number }[];
    costLines: { amountCents: number }[];
    grantCents: number;
  };
  expect(content.indicators.map((i) => [i.baseline, i.target])).toEqual([
    [0, 3],
    [1.5, 12],
  ]);
  expect(content.costLines.map((c) => c.amountCents)).toEqual([3_000_000, 1_000_050]);
  expect(content.grantCents).toBe(2_000_000);
  expect(tab.cspViolations).toEqual([]);
});

test('a consultant uploads a document; a file that is not a document is named next to the field, nothing attached', async () => {
  const id = await inAccompaniment(ps.sys, 'i3p');
  const dir = mkdtempSync(path.join(tmpdir(), 'innosocial-upload-'));
  const pdf = path.join(dir, 'pre-progetto.pdf');
  const text = path.join(dir, 'note.pdf');
  writeFileSync(pdf, pdfBytes('pre-progetto firmato'));
  writeFileSync(text, 'just some text, not a PDF');
  await go(tab, `${ps.base}/consulente/${id}`);

  const file = (await tab.$('#f-file')) as ElementHandle<HTMLInputElement>;
  await file.uploadFile(text);
  expect(await submit(tab, 'form[action$="/documenti"] button[type=submit]')).toBe(400);
  expect(await fieldError(tab, 'file')).toContain('non è un PDF');
  expect(await count(id, 'ATTACH_DOCUMENT')).toBe(0);

  expect(await submit(tab, 'form[action$="/documenti"] button[type=submit]')).toBe(400);
  expect(await fieldError(tab, 'file')).toContain('Scelga un file');

  await tab.select('#f-kind', 'attachment');
  const again = (await tab.$('#f-file')) as ElementHandle<HTMLInputElement>;
  await again.uploadFile(pdf);
  expect(await submit(tab, 'form[action$="/documenti"] button[type=submit]')).toBe(200);
  expect(await mainText(tab)).toContain('Documento caricato.');
  expect(await mainText(tab)).toContain('pre-progetto.pdf');
  expect(await count(id, 'ATTACH_DOCUMENT')).toBe(1);
  expect((await ps.sys.view(id)).documents.map((d) => d.kind)).toEqual(['attachment']);
  await logSession(dayFromToday(3), '10:00', '12:00');
  await go(tab, `${ps.base}/consulente/${id}`);
  await screenshot(tab, 'consultant-application');
  expect(await accessibilityProblems(tab)).toEqual([]);
});
