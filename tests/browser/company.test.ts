/// <reference lib="dom" />
import { GENERIC_COMPANY_REFUSAL } from '../../client/api/routes/accompaniment';
import { genericRefusal } from '../../client/pages/company';
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
  type PagesSystem,
} from '../support/browser';
import { dayFromToday, session } from '../support/fixtures';
import { inAccompaniment, registered, assign, send } from '../support/journeys';
import { PEOPLE } from '../support/people';
import { confirmationMail } from '../support/system';

let ps: PagesSystem;
beforeAll(async () => {
  ps = await startPagesSystem();
});
afterAll(() => ps?.stop());

const audit = async (id: string, type: string) =>
  (
    await ps.sys.db
      .selectFrom('audit_events')
      .select('actor')
      .where('application_id', '=', id)
      .where('event_type', '=', type)
      .execute()
  ).length;
const sessionRow = (id: string, date: string) =>
  ps.sys.db
    .selectFrom('accompaniment_sessions')
    .selectAll()
    .where('application_id', '=', id)
    .where('session_date', '=', date)
    .executeTakeFirstOrThrow();

async function logged(id: string, date: string, start = '09:00', end = '12:00') {
  await send(
    ps.sys,
    id,
    { type: 'LOG_SESSION', session: session(date, start, end, 'misurare l’impatto sociale') },
    PEOPLE.consultant,
  );
  return confirmationMail(ps.sys.db, id, date, start);
}

test('the company confirms from its e-mail link: the page only shows, the button confirms, a replay is told so', async () => {
  const id = await inAccompaniment(ps.sys);
  const mail = await logged(id, dayFromToday(1));
  const tab = await openTab(ps.browser);
  const stale = await openTab(ps.browser);

  // Opening the link (as a mail scanner would) changes nothing.
  expect(await go(tab, ps.local(mail.link))).toBe(200);
  expect(await go(stale, ps.local(mail.link))).toBe(200);
  const shown = await mainText(tab);
  expect(shown).toContain('Gentile Giulia Ferraris');
  expect(shown).toContain('misurare l’impatto sociale');
  expect(shown).toMatch(/Consulente\s+Anna /);
  expect(shown).toContain('I3P');
  expect(await audit(id, 'CONFIRM_SESSION')).toBe(0);
  expect(await accessibilityProblems(tab)).toEqual([]);
  await screenshot(tab, 'company-confirmation');

  expect(await submit(tab, 'button[value=confirm]')).toBe(200);
  expect(await mainText(tab)).toContain('la sessione è confermata');
  expect((await sessionRow(id, dayFromToday(1))).confirmed_at).not.toBeNull();
  expect(await audit(id, 'CONFIRM_SESSION')).toBe(1);
  expect(await accessibilityProblems(tab)).toEqual([]);

  // The page opened before, answered again: the link is used up, and nothing more is written.
  expect(await submit(stale, 'button[value=dispute]')).toBe(410);
  expect(await mainText(stale)).toContain('già stata confermata');
  expect(await go(tab, ps.local(mail.link))).toBe(410);
  expect((await sessionRow(id, dayFromToday(1))).disputed_at).toBeNull();
  expect(await audit(id, 'CONFIRM_SESSION')).toBe(1);
  expect(await audit(id, 'DISPUTE_SESSION')).toBe(0);
  expect([...tab.cspViolations, ...stale.cspViolations]).toEqual([]);
  await tab.close();
  await stale.close();
});

test('"It did not take place" records the dispute in English for an English-speaking company, and tells the consultant', async () => {
  const form = ps.sys.form({
    company: { legalRepresentative: { name: 'Jane Smith', email: 'jane@example.org', locale: 'en' } },
  });
  const id = await registered(ps.sys, form);
  await assign(ps.sys, id);
  const mail = await logged(id, dayFromToday(2));
  const tab = await openTab(ps.browser);
  await go(tab, ps.local(mail.link));
  expect(await tab.$eval('html', (h) => h.lang)).toBe('en');
  expect(await mainText(tab)).toContain('Dear Jane Smith');
  expect(await tab.$eval('button[value=dispute]', (b) => (b as HTMLElement).innerText)).toBe('It did not take place');
  expect(await submit(tab, 'button[value=dispute]')).toBe(200);
  expect(await mainText(tab)).toContain('did not take place');
  const row = await sessionRow(id, dayFromToday(2));
  expect(row.disputed_at).not.toBeNull();
  expect(row.confirmed_at).toBeNull();
  const told = await ps.sys.db
    .selectFrom('notification_outbox')
    .select('template')
    .where('application_id', '=', id)
    .where('template', '=', 'session.disputed')
    .execute();
  expect(told.length).toBeGreaterThan(0);
  expect((await ps.sys.view(id)).facts?.verifiedHours).toBe(0);
  await tab.close();
});

test('forged, tampered and retired links get the generic answer or say they expired; nothing is written', async () => {
  const id = await inAccompaniment(ps.sys);
  const first = await logged(id, dayFromToday(3));
  const tab = await openTab(ps.browser);

  expect(await go(tab, `${ps.base}/s/not-a-real-token`)).toBe(400);
  expect(await mainText(tab)).toContain(genericRefusal('it'));
  expect(await accessibilityProblems(tab)).toEqual([]);
  const token = new URL(first.link).pathname.split('/').pop()!;
  const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
  expect(await go(tab, `${ps.base}/s/${tampered}`)).toBe(400);
  expect(await mainText(tab)).toContain(genericRefusal('it'));

  // A new code retires the link sent before it.
  await send(ps.sys, id, { type: 'RESEND_SESSION_CODE', date: dayFromToday(3), start: '09:00' }, PEOPLE.consultant);
  expect(await go(tab, ps.local(first.link))).toBe(410);
  expect(await mainText(tab)).toContain('scaduto');
  expect(await audit(id, 'CONFIRM_SESSION')).toBe(0);
  expect((await sessionRow(id, dayFromToday(3))).confirmed_at).toBeNull();
  // The generic page and the JSON route's answer say the same thing.
  expect(GENERIC_COMPANY_REFUSAL).toMatch(/wrong, expired or already used/);
  await tab.close();
});

test('a forged CSRF token is refused with a page that says so, and the session stays unanswered', async () => {
  const id = await inAccompaniment(ps.sys);
  const mail = await logged(id, dayFromToday(4));
  const tab = await openTab(ps.browser);
  await go(tab, ps.local(mail.link));
  await tab.$eval('input[name=_csrf]', (i) => ((i as HTMLInputElement).value = 'forged-token'));
  expect(await submit(tab, 'button[value=confirm]')).toBe(403);
  expect(await mainText(tab)).toContain('Nulla è stato registrato');
  expect((await sessionRow(id, dayFromToday(4))).confirmed_at).toBeNull();
  expect(await audit(id, 'CONFIRM_SESSION')).toBe(0);
  // The real token still works afterwards.
  await go(tab, ps.local(mail.link));
  expect(await submit(tab, 'button[value=confirm]')).toBe(200);
  await tab.close();
});

test('the code page: a wrong date and a missing code are named next to their field, a wrong code gets the generic answer', async () => {
  const id = await inAccompaniment(ps.sys);
  const mail = await logged(id, dayFromToday(5), '14:00', '17:00');
  const tab = await openTab(ps.browser);
  expect(await go(tab, `${ps.base}/conferma`)).toBe(200);
  expect(await accessibilityProblems(tab)).toEqual([]);
  await tab.type('#f-application', id);
  // A date no calendar has (a browser without a date picker lets anything through).
  await tab.$eval('#f-date', (i) => ((i as HTMLInputElement).type = 'text'));
  await fill(tab, '#f-date', '2026-02-31x');
  await fill(tab, '#f-start', '14:00');
  expect(await submit(tab, 'button[value=confirm]')).toBe(400);
  expect(await fieldError(tab, 'date')).toContain('data valida');
  expect(await fieldError(tab, 'code')).toContain('sei cifre');
  expect(await tab.$eval('#f-application', (i) => (i as HTMLInputElement).value)).toBe(id);
  expect(await accessibilityProblems(tab)).toEqual([]);

  await fill(tab, '#f-date', dayFromToday(5));
  const wrong = mail.code === '000000' ? '111111' : '000000';
  await fill(tab, '#f-code', wrong);
  expect(await submit(tab, 'button[value=confirm]')).toBe(400);
  expect(await mainText(tab)).toContain(genericRefusal('it'));
  expect(await audit(id, 'CONFIRM_SESSION')).toBe(0);

  await fill(tab, '#f-code', mail.code);
  expect(await submit(tab, 'button[value=confirm]')).toBe(200);
  expect(await mainText(tab)).toContain('la sessione è confermata');
  expect(await audit(id, 'CONFIRM_SESSION')).toBe(1);
  await tab.close();
});
