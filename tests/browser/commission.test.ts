/// <reference lib="dom" />
import { revokeUser } from '../../db/repositories/users';
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
import { preProject } from '../support/fixtures';
import { attach, decide, inCommission, send } from '../support/journeys';

let ps: PagesSystem;
beforeAll(async () => {
  ps = await startPagesSystem();
});
afterAll(() => ps?.stop());

const audit = (id: string, type: string) =>
  ps.sys.db
    .selectFrom('audit_events')
    .select(['actor', 'role'])
    .where('application_id', '=', id)
    .where('event_type', '=', type)
    .execute();

test('a member signs in by the e-mailed link, declares no conflict and evaluates; refusals show next to their field', async () => {
  const id = await inCommission(ps.sys);
  // A first version sent back for integration, then a second one: the page shows what changed.
  await decide(ps.sys, id, 'REQUEST_INTEGRATION', 'indicators too vague');
  await send(ps.sys, id, {
    type: 'SUBMIT_PRE_PROJECT',
    preProject: preProject({
      indicators: [
        {
          name: 'Jobs for people at risk of exclusion',
          theme: 'employment',
          unit: 'FTE',
          baseline: 0,
          target: 4,
          measurementMethod: 'payroll records, quarterly',
        },
        {
          name: 'Textiles reused',
          theme: 'environment',
          unit: 't/year',
          baseline: 1.5,
          target: 12,
          measurementMethod: 'weighbridge tickets',
        },
      ],
    }),
  });
  await send(ps.sys, id, { type: 'FORWARD_TO_COMMISSION' });
  await attach(ps.sys, id, 'pre_project');
  const member = ps.people.members[0];
  const tab = await openTab(ps.browser, true);

  expect(await signIn(ps, tab, member)).toBe(200);
  expect(tab.url()).toBe(`${ps.base}/commissione`);
  expect(await mainText(tab)).toContain('Officina Sociale Srl');
  expect(await accessibilityProblems(tab)).toEqual([]);
  expect(await tab.$eval('header', (h) => (h as HTMLElement).innerText)).toContain(member.name);

  expect(await go(tab, `${ps.base}/commissione/${id}`)).toBe(200);
  const shown = await mainText(tab);
  for (const fact of [
    'Ivrea',
    '62.01',
    'micro impresa',
    'Textiles reused',
    '1,5',
    'EUR 40.000,00',
    '50%',
    'versione 2',
  ]) {
    expect(shown).toContain(fact);
  }
  expect(shown).toMatch(/Dalla versione 1 alla versione 2: \d+ modifiche/);
  expect(shown).toContain('Social impact: relevance and measurability (da 0 a 40)');
  expect(await accessibilityProblems(tab)).toEqual([]);
  // The document downloads with the same session (a GET of the JSON API).
  const href = await tab.$eval('#h-docs + ul a', (a) => (a as HTMLAnchorElement).href);
  expect(await tab.evaluate((u) => fetch(u).then((r) => r.status), href)).toBe(200);

  // Evaluating before declaring: the machine refuses, the page says what to do first.
  const fillScores = async (scores: Record<string, string>) => {
    for (const [code, v] of Object.entries(scores)) await fill(tab, `#f-scores-${code}`, v);
  };
  await fillScores({ social_impact: '30', innovation: '15', feasibility: '20', territory: '10' });
  await tab.click('input[name=recommendation][value=approve]');
  await tab.type('#f-motivation', 'Indicatori chiari e misurabili.');
  expect(await submit(tab, 'form[action$="/valutazione"] button[type=submit]')).toBe(409);
  expect(await mainText(tab)).toContain('Prima di valutare, dichiari se ha un conflitto di interessi');
  expect(await tab.$eval('#f-motivation', (t) => (t as HTMLTextAreaElement).value)).toBe(
    'Indicatori chiari e misurabili.',
  );

  await tab.click('input[name=conflicted][value=no]');
  expect(await submit(tab, 'form[action$="/conflitto"] button[type=submit]')).toBe(200);
  expect(await mainText(tab)).toContain('Dichiarazione registrata.');
  await screenshot(tab, 'commission-application');

  // Missing and malformed: named next to each field, nothing sent.
  await fillScores({ social_impact: 'molto', innovation: '15', feasibility: '20', territory: '10' });
  expect(await submit(tab, 'form[action$="/valutazione"] button[type=submit]')).toBe(400);
  expect(await fieldError(tab, 'scores.social_impact')).toContain('punteggio intero');
  expect(await fieldError(tab, 'recommendation')).toContain('Scelga');
  expect(await fieldError(tab, 'motivation')).toContain('motivazione');
  expect(await accessibilityProblems(tab)).toEqual([]);

  // A score above the criterion's maximum: the machine's refusal, next to that criterion.
  await fillScores({ social_impact: '30', innovation: '25', feasibility: '20', territory: '10' });
  await tab.click('input[name=recommendation][value=approve]');
  await tab.type('#f-motivation', 'Buon progetto.');
  expect(await submit(tab, 'form[action$="/valutazione"] button[type=submit]')).toBe(409);
  expect(await fieldError(tab, 'scores.innovation')).toContain('supera il massimo di 20');
  expect(await tab.$eval('#f-scores-innovation', (i) => (i as HTMLInputElement).value)).toBe('25');
  expect(await audit(id, 'SUBMIT_EVALUATION')).toEqual([]);

  await fill(tab, '#f-scores-innovation', '18');
  expect(await submit(tab, 'form[action$="/valutazione"] button[type=submit]')).toBe(200);
  expect(await mainText(tab)).toContain('Valutazione registrata.');
  expect(await audit(id, 'SUBMIT_EVALUATION')).toEqual([{ actor: member.id, role: 'commission' }]);
  expect(tab.cspViolations).toEqual([]);

  // Revoking the member ends the session at once.
  await revokeUser(ps.sys.db, member.id);
  await go(tab, `${ps.base}/commissione/${id}`);
  expect(tab.url()).toContain('/accedi?next=');
  await tab.browserContext().close();
});

test('the chair decides; a missing choice is named, a forged CSRF token writes nothing', async () => {
  const id = await inCommission(ps.sys);
  const chair = ps.people.chair;
  const tab = await openTab(ps.browser, true);
  await signIn(ps, tab, chair);
  await go(tab, `${ps.base}/commissione/${id}`);
  await tab.click('input[name=conflicted][value=no]');
  await submit(tab, 'form[action$="/conflitto"] button[type=submit]');

  await tab.type('form[action$="/decisione"] textarea', 'Progetto solido.');
  expect(await submit(tab, 'form[action$="/decisione"] button[type=submit]')).toBe(400);
  expect(await fieldError(tab, 'decision')).toContain('Scelga la decisione');

  await tab.click('input[name=decision][value=approve]');
  await tab.$eval('form[action$="/decisione"] input[name=_csrf]', (i) => ((i as HTMLInputElement).value = 'forged'));
  expect(await submit(tab, 'form[action$="/decisione"] button[type=submit]')).toBe(403);
  expect(await audit(id, 'APPROVE')).toEqual([]);

  await go(tab, `${ps.base}/commissione/${id}`);
  await tab.click('input[name=decision][value=approve]');
  await tab.type('form[action$="/decisione"] textarea', 'Progetto solido.');
  expect(await submit(tab, 'form[action$="/decisione"] button[type=submit]')).toBe(200);
  expect(await mainText(tab)).toContain('Decisione registrata.');
  expect(await mainText(tab)).toContain('ammessa');
  expect(await audit(id, 'APPROVE')).toEqual([{ actor: chair.id, role: 'commission' }]);
  expect((await ps.sys.view(id)).state).toBe('admitted');
  expect(await accessibilityProblems(tab)).toEqual([]);
  await tab.browserContext().close();
});

test('the tally shows once the quorum is reached; English on request', async () => {
  const id = await inCommission(ps.sys);
  const [, second, third] = ps.people.members;
  for (const m of [second, third]) {
    const meta = { actor: m.id, role: 'commission' as const };
    await ps.sys.service.send(id, { type: 'DECLARE_CONFLICT', member: m.id, conflicted: false }, meta);
    await ps.sys.service.send(
      id,
      {
        type: 'SUBMIT_EVALUATION',
        member: m.id,
        scores: { social_impact: 35, innovation: 15, feasibility: 20, territory: 12 },
        recommendation: 'approve',
        motivation: 'convincing',
      },
      meta,
    );
  }
  const tab = await openTab(ps.browser, true);
  await go(tab, `${ps.base}/accedi?lang=en`);
  await tab.type('#f-token', ps.people.chair.token);
  await submit(tab, 'form[action="/accedi/token"] button[type=submit]');
  await go(tab, `${ps.base}/commissione/${id}`);
  await tab.click('input[name=conflicted][value=no]');
  await submit(tab, 'form[action$="/conflitto"] button[type=submit]');
  for (const [code, v] of Object.entries({
    social_impact: '30',
    innovation: '10',
    feasibility: '20',
    territory: '10',
  })) {
    await fill(tab, `#f-scores-${code}`, v);
  }
  await tab.click('input[name=recommendation][value=approve]');
  await tab.type('#f-motivation', 'Sound plan.');
  expect(await submit(tab, 'form[action$="/valutazione"] button[type=submit]')).toBe(200);
  const shown = await mainText(tab);
  expect(shown).toContain('Tally of the quorum');
  expect(shown).toContain('Outcome: Approve');
  expect(shown).toContain('admitted');
  expect(await accessibilityProblems(tab)).toEqual([]);
  await tab.browserContext().close();
});

test('/docs is the interactive reference from local assets: authorize with a token, try a call', async () => {
  const tab = await openTab(ps.browser, true);
  expect(await go(tab, `${ps.base}/docs`)).toBe(200);
  await tab.waitForSelector('.swagger-ui button.authorize', { timeout: 30_000 });
  expect(await tab.$eval('.swagger-ui', (s) => (s as HTMLElement).innerText)).toContain('InnoSocialMetro API');
  await tab.click('.swagger-ui button.authorize');
  await tab.waitForSelector('.modal-ux input[type=text]');
  await tab.type('.modal-ux input[type=text]', ps.people.operator.token);
  await tab.click('.modal-ux .auth-btn-wrapper button.authorize');
  await tab.click('.modal-ux button.btn-done');
  await screenshot(tab, 'api-docs', false);
  await tab.click('#operations-default-getMe .opblock-summary-control');
  await tab.waitForSelector('#operations-default-getMe button.execute');
  await tab.click('#operations-default-getMe button.execute');
  await tab.waitForSelector('#operations-default-getMe .live-responses-table .response-col_status');
  const answer = await tab.$eval(
    '#operations-default-getMe .live-responses-table',
    (t) => (t as HTMLElement).innerText,
  );
  expect(answer).toContain('200');
  expect(answer).toContain(ps.people.operator.name);
  expect(tab.blocked).toEqual([]);
  await tab.browserContext().close();
});
