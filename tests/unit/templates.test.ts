import { isPermanentSmtpError, messageIdFor } from '../../notifications/mailer';
import { formatEuro, render, TEMPLATE_NAMES, TemplateError } from '../../notifications/templates';

const base = { applicationId: 'innosocialmetro-2023.4f1c2a9e0b7d3c5a6e8f', callId: 'innosocialmetro-2023' };
const transition = (from: string | null, to: string, extra: Record<string, unknown> = {}) => ({
  ...base,
  from,
  to,
  event: 'TEST',
  deadline: null,
  ...extra,
});

describe('notification templates', () => {
  test('every state the system writes has a template', () => {
    const states = [
      'submitted',
      'accompaniment',
      'pre_project',
      'commission',
      'admitted',
      'rejected',
      'funded',
      'withdrawn',
      'lapsed',
    ];
    expect([...TEMPLATE_NAMES].sort()).toEqual(
      [
        ...states.map((s) => `application.${s}`),
        'session.confirmation',
        'session.confirmed',
        'deadline.reminder',
        'deadline.escalation',
      ].sort(),
    );
  });

  test.each(['it', 'en'] as const)(
    'the session confirmation carries the code, the session and its expiry (%s)',
    (locale) => {
      const payload = {
        ...base,
        date: '2026-11-26',
        start: '09:00',
        end: '13:00',
        topic: 'impact map',
        consultant: 'marco@example.org',
        code: '042917',
        expiresAt: '2026-12-10T09:00:00.000Z',
      };
      const mail = render('session.confirmation', locale, payload);
      expect(mail.subject).toContain('2026-11-26');
      expect(mail.text).toContain('042917');
      expect(mail.text).toContain('09:00-13:00');
      expect(mail.text).toContain(locale === 'it' ? '10/12/2026' : '10 December 2026');
      const { code: _code, ...withoutCode } = payload;
      expect(() => render('session.confirmation', locale, withoutCode)).toThrow(/"code" is missing/);
    },
  );

  test('a reminder names the deadline, its date and how far it is; an escalation says it was missed', () => {
    const payload = {
      ...base,
      deadline: { kind: 'commission_decision', dueAt: '2027-01-20T10:00:00.000Z' },
      daysBefore: 3,
      audience: 'commission',
    };
    const it = render('deadline.reminder', 'it', payload);
    expect(it.subject).toContain('scadenza tra 3 giorni');
    expect(it.text).toContain('20/01/2027');
    expect(it.text).toMatch(/^Gentile componente della Commissione di Valutazione,/);
    expect(render('deadline.escalation', 'en', { ...payload, daysBefore: 0, audience: 'operator' }).text).toMatch(
      /has passed/,
    );
    expect(() => render('deadline.reminder', 'en', { ...payload, deadline: null })).toThrow(/"deadline" is missing/);
  });

  test('the greeting follows the audience', () => {
    const payload = transition('pre_project', 'commission');
    expect(render('application.commission', 'it', payload).text).toMatch(/^Gentile legale rappresentante,/);
    expect(render('application.commission', 'it', { ...payload, audience: 'commission' }).text).toMatch(
      /^Gentile componente della Commissione di Valutazione,/,
    );
    expect(render('application.commission', 'en', { ...payload, audience: 'consultant' }).text).toMatch(
      /^Dear consultant,/,
    );
    expect(() => render('application.commission', 'en', { ...payload, audience: 'mallory' })).toThrow(/audience/);
  });

  test.each(['it', 'en'] as const)(
    'every template renders in %s with the application, the call and its state',
    (locale) => {
      for (const name of TEMPLATE_NAMES.filter((n) => n.startsWith('application.'))) {
        const payload =
          name === 'application.submitted' ? base : transition('submitted', name.replace('application.', ''));
        const mail = render(name, locale, payload);
        expect(mail.subject).toContain(base.applicationId);
        expect(mail.text).toContain(base.applicationId);
        expect(mail.text).toContain(base.callId);
        expect(mail.text).not.toMatch(/undefined|null|NaN|\[object/);
      }
    },
  );

  test('the subject says the new state in plain words, in Italian and in English', () => {
    expect(render('application.admitted', 'it', transition('commission', 'admitted')).subject).toBe(
      `InnoSocialMetro - domanda ${base.applicationId}: ammessa all'agevolazione`,
    );
    expect(render('application.admitted', 'en', transition('commission', 'admitted')).subject).toContain(
      'admitted to financial support',
    );
    expect(render('application.rejected', 'it', transition('commission', 'rejected')).subject).toContain('non ammessa');
    expect(render('application.lapsed', 'en', transition('accompaniment', 'lapsed')).subject).toContain('lapsed');
    expect(render('application.submitted', 'it', base).subject).toContain('domanda ricevuta');
  });

  test('a pre-project after the commission is an integration request', () => {
    const back = render('application.pre_project', 'it', transition('commission', 'pre_project'));
    expect(back.subject).toContain('richiesta di integrazioni');
    const forward = render('application.pre_project', 'en', transition('accompaniment', 'pre_project'));
    expect(forward.subject).toContain('pre-project in preparation');
  });

  test('the deadline date is stated in each locale, in Turin time', () => {
    const deadline = { kind: 'integration_answer', dueAt: '2027-03-24T10:00:00.000Z' };
    const it = render('application.pre_project', 'it', transition('commission', 'pre_project', { deadline }));
    expect(it.text).toContain('Scadenza (risposta alla richiesta di integrazioni): 24/03/2027');
    const en = render('application.pre_project', 'en', transition('commission', 'pre_project', { deadline }));
    expect(en.text).toContain('Deadline (answer to the integration request): 24 March 2027');
    // 23:30 UTC is already the next day in Turin.
    const late = render(
      'application.admitted',
      'it',
      transition('commission', 'admitted', { deadline: { kind: 'funding', dueAt: '2027-06-30T23:30:00.000Z' } }),
    );
    expect(late.text).toContain('01/07/2027');
    expect(render('application.withdrawn', 'it', transition('accompaniment', 'withdrawn')).text).not.toContain(
      'Scadenza',
    );
  });

  test('euro amounts are formatted the Italian and the English way', () => {
    expect(formatEuro(4_000_000, 'it')).toBe('EUR 40.000,00');
    expect(formatEuro(4_000_000, 'en')).toBe('EUR 40,000.00');
    expect(formatEuro(123_456_789_05, 'it')).toBe('EUR 123.456.789,05');
    expect(formatEuro(5, 'en')).toBe('EUR 0.05');
    expect(formatEuro(99_999, 'it')).toBe('EUR 999,99');
    expect(() => formatEuro(1.5, 'it')).toThrow(/whole number/);
    const it = render('application.funded', 'it', transition('admitted', 'funded', { amountCents: 4_000_000 }));
    expect(it.text).toContain('Importo erogato: EUR 40.000,00');
    const en = render('application.admitted', 'en', transition('commission', 'admitted', { amountCents: 4_000_000 }));
    expect(en.text).toContain('Support granted: EUR 40,000.00');
  });

  test('motivation and reasons are quoted when the payload has them', () => {
    const mail = render(
      'application.rejected',
      'it',
      transition('commission', 'rejected', { motivation: 'Impatto sociale non misurabile.' }),
    );
    expect(mail.text).toContain('Motivazione:\nImpatto sociale non misurabile.');
    const ineligible = render(
      'application.rejected',
      'en',
      transition('submitted', 'rejected', {
        reasons: [
          'Operating site outside the metropolitan territory',
          { code: 'size', field: 'company.headcount', message: 'Not a micro or small enterprise' },
        ],
      }),
    );
    expect(ineligible.text).toContain('is not eligible');
    expect(ineligible.text).toContain(
      'Reasons:\n- Operating site outside the metropolitan territory\n- Not a micro or small enterprise',
    );
  });

  test('an unknown template, an unknown locale or a missing field is a clear error, never a blank mail', () => {
    expect(() => render('application.archived', 'it', base)).toThrow(TemplateError);
    expect(() => render('application.archived', 'it', base)).toThrow(/"application\.archived": unknown template/);
    expect(() => render('application.admitted', 'de' as 'it', base)).toThrow(/unknown locale "de"/);
    expect(() => render('application.admitted', 'it', { applicationId: base.applicationId })).toThrow(
      /"application\.admitted": required payload field "callId" is missing/,
    );
    expect(() => render('application.submitted', 'en', { callId: base.callId, applicationId: '' })).toThrow(
      /"applicationId" must be a non-empty string/,
    );
    expect(() =>
      render(
        'application.admitted',
        'it',
        transition('commission', 'admitted', { deadline: { kind: 'funding', dueAt: 'soon' } }),
      ),
    ).toThrow(/"deadline\.dueAt" must be an ISO 8601 date/);
    expect(() => render('application.funded', 'it', transition('admitted', 'funded', { amountCents: 12.5 }))).toThrow(
      /"amountCents"/,
    );
    expect(() => render('application.admitted', 'it', transition('commission', 'rejected'))).toThrow(
      /"to" is "rejected"/,
    );
    expect(() => render('application.admitted', 'it', null)).toThrow(/payload must be a JSON object/);
  });

  test('rendering is pure: the same input gives the same message', () => {
    const payload = transition('pre_project', 'commission', {
      deadline: { kind: 'commission_decision', dueAt: '2027-01-15T08:00:00.000Z' },
    });
    expect(render('application.commission', 'it', payload)).toEqual(
      render('application.commission', 'it', structuredClone(payload)),
    );
  });
});

describe('mailer helpers', () => {
  test('the Message-ID is derived from the idempotency key, valid and one-to-one', () => {
    expect(messageIdFor('innosocialmetro-2023.4f1c:3:company')).toBe(
      '<innosocialmetro-2023.4f1c%3A3%3Acompany@innosocialmetro>',
    );
    expect(messageIdFor('plain-key')).toBe('<plain-key@innosocialmetro>');
    expect(messageIdFor('a b')).not.toBe(messageIdFor('a_b'));
    expect(messageIdFor('x%3Ay')).toBe('<x%253Ay@innosocialmetro>'); // % itself is escaped, so x:y and x%3Ay differ
  });

  test('only a definitive refusal is permanent; connection trouble and 4xx are retried', () => {
    expect(isPermanentSmtpError(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }))).toBe(true);
    expect(isPermanentSmtpError(Object.assign(new Error('bad sequence'), { responseCode: 503 }))).toBe(false);
    expect(isPermanentSmtpError(Object.assign(new Error('try later'), { responseCode: 451 }))).toBe(false);
    expect(isPermanentSmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toBe(false);
    expect(isPermanentSmtpError(Object.assign(new Error('refused'), { responseCode: 550, permanent: false }))).toBe(
      false,
    );
  });
});
