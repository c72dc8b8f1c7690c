import { centsToDecimal, formatDate, formatDateTime, formatDay, formatEuro, parseEuro } from '../../domain/format';
import { APPLICATION_STATES, type ApplicationState } from '../../machines/application.machine';
import { isPermanentSmtpError, messageIdFor } from '../../notifications/mailer';
import { recipientsOfReminder, recipientsOfState, type Interested } from '../../notifications/recipients';
import {
  render,
  secretFieldsOf,
  TEMPLATE_NAMES,
  TemplateError,
  type TemplateName,
  type TemplatePayload,
  type TransitionPayload,
} from '../../notifications/templates';

const base = { applicationId: 'innosocialmetro-2023.4f1c2a9e0b7d3c5a6e8f', callId: 'innosocialmetro-2023' };
const transition = <S extends ApplicationState>(
  from: ApplicationState | null,
  to: S,
  extra: Partial<TransitionPayload<S>> = {},
): TransitionPayload<S> => ({
  ...base,
  audience: 'company',
  recipientName: 'Giulia Ferraris',
  from,
  to,
  event: 'TEST',
  actorRole: 'operator',
  deadline: null,
  motivation: null,
  reasons: [],
  amountCents: null,
  minimumHours: 8,
  companyName: 'Cooperativa Esempio',
  bodyName: 'SocialFare impresa sociale srl',
  consultantName: 'Marco Bianchi',
  reserveListPosition: null,
  ...extra,
});
const sessionFacts = { date: '2026-11-26', start: '09:00', end: '13:00', topic: 'impact map' };
const confirmation = (extra: Partial<TemplatePayload<'session.confirmation'>> = {}) => ({
  ...base,
  ...sessionFacts,
  recipientName: 'Giulia Ferraris',
  companyName: 'Cooperativa Esempio',
  consultantName: 'Marco Bianchi',
  bodyName: 'SocialFare impresa sociale srl',
  code: '042917',
  expiresAt: '2026-12-10T09:00:00.000Z',
  link: null,
  ...extra,
});
const reminder = {
  ...base,
  audience: 'commission' as const,
  recipientName: null,
  deadline: { kind: 'commission_decision' as const, dueAt: '2027-01-20T10:00:00.000Z' },
  daysBefore: 3,
  state: 'commission' as const,
};

/** A valid payload for every template: the table and its schemas must agree with these. */
const samples: { [T in TemplateName]: TemplatePayload<T> } = {
  'application.submitted': { ...transition(null, 'submitted'), bodyName: null, consultantName: null },
  'application.accompaniment': transition('submitted', 'accompaniment'),
  'application.pre_project': transition('accompaniment', 'pre_project'),
  'application.commission': transition('pre_project', 'commission'),
  'application.admitted': transition('commission', 'admitted', { amountCents: 4_000_000 }),
  'application.rejected': transition('commission', 'rejected', { motivation: 'Impatto non misurabile.' }),
  'application.funded': transition('admitted', 'funded', { amountCents: 4_000_000 }),
  'application.withdrawn': transition('accompaniment', 'withdrawn'),
  'application.lapsed': transition('accompaniment', 'lapsed'),
  'session.confirmation': confirmation({ link: 'https://innosocial.example/confirm/abc' }),
  'session.confirmed': { ...base, ...sessionFacts, recipientName: 'Marco Bianchi', companyName: 'Cooperativa Esempio' },
  'session.disputed': {
    ...base,
    ...sessionFacts,
    audience: 'operator',
    recipientName: null,
    companyName: 'Cooperativa Esempio',
    consultantName: 'Marco Bianchi',
    bodyName: 'SocialFare impresa sociale srl',
  },
  'project.started': {
    ...base,
    audience: 'company',
    recipientName: 'Giulia Ferraris',
    companyName: 'Cooperativa Esempio',
    realisationEndsOn: '2027-12-31',
    finalReportDueOn: '2028-03-01',
  },
  'project.reminder': {
    ...base,
    audience: 'company',
    recipientName: 'Giulia Ferraris',
    companyName: 'Cooperativa Esempio',
    deadline: { kind: 'final_report', dueOn: '2028-03-01' },
    daysBefore: 14,
  },
  'project.intention': {
    ...base,
    audience: 'company',
    recipientName: 'Giulia Ferraris',
    companyName: 'Cooperativa Esempio',
    kind: 'reduction',
    reasons: ['Fattura n. 12 non quietanzata'],
    recoveryCents: 350_000,
    observationsDueOn: '2028-05-10',
  },
  'project.decision': {
    ...base,
    audience: 'company',
    recipientName: 'Giulia Ferraris',
    companyName: 'Cooperativa Esempio',
    kind: 'reduction',
    decision: 'confirmed',
    motivation: 'Le osservazioni non documentano il pagamento.',
    recoveryCents: 350_000,
  },
  'project.state': {
    ...base,
    audience: 'operator',
    recipientName: null,
    companyName: 'Cooperativa Esempio',
    to: 'closed',
    deadline: null,
    amountCents: 3_650_000,
  },
  'budget.reserved': {
    ...base,
    audience: 'company',
    recipientName: 'Giulia Ferraris',
    companyName: 'Cooperativa Esempio',
    amountCents: 4_019_541,
    deadline: { kind: 'funding', dueAt: '2027-05-20T10:00:00.000Z' },
  },
  'deadline.reminder': reminder,
  'deadline.escalation': { ...reminder, audience: 'operator', daysBefore: 0 },
  'user.sign-in': {
    recipientName: 'Anna Conti',
    link: 'https://innosocial.example/sign-in/xyz',
    expiresAt: '2026-11-26T09:15:00.000Z',
  },
};

describe('notification templates', () => {
  test('an admission waiting for money says where it waits; one queued before that field renders as before', () => {
    const waiting = render('application.admitted', 'it', {
      ...samples['application.admitted'],
      reserveListPosition: 3,
    });
    expect(waiting.text).toContain("in lista d'attesa, al posto 3");
    const { reserveListPosition: _omitted, ...older } = samples['application.admitted'];
    expect(render('application.admitted', 'en', older).text).not.toMatch(/reserve list/);
    expect(render('application.admitted', 'en', samples['application.admitted']).text).not.toMatch(/reserve list/);
  });

  test('one table: a template per state entered, the reserve list, sessions, deadlines, sign-in, the project', () => {
    expect([...TEMPLATE_NAMES].sort()).toEqual(
      [
        ...APPLICATION_STATES.map((s) => `application.${s}`),
        'session.confirmation',
        'session.confirmed',
        'session.disputed',
        'budget.reserved',
        'deadline.reminder',
        'deadline.escalation',
        'user.sign-in',
        ...['started', 'reminder', 'intention', 'decision', 'state'].map((t) => `project.${t}`),
      ].sort(),
    );
  });

  test.each(['it', 'en'] as const)('every template renders in %s: subject, text and an HTML document', (locale) => {
    for (const name of TEMPLATE_NAMES) {
      const mail = render(name, locale, samples[name]);
      expect(mail.subject).toMatch(/^InnoSocialMetro - /);
      for (const part of [mail.subject, mail.text, mail.html])
        expect(part).not.toMatch(/undefined|null|NaN|\[object|\$\{/);
      expect(mail.html).toMatch(new RegExp(`^<!DOCTYPE html>\\n<html lang="${locale}">`));
      expect(mail.html).toContain('<h1 ');
      if ('applicationId' in samples[name]) expect(mail.text).toContain(base.applicationId);
      const other = render(name, locale === 'it' ? 'en' : 'it', samples[name]);
      expect(other.text).not.toBe(mail.text);
    }
  });

  test('the plain text gives the facts one per line and ends with the footer', () => {
    const mail = render('application.admitted', 'it', samples['application.admitted']);
    expect(mail.text).toContain(`Domanda: ${base.applicationId}\nBando: ${base.callId}\nImpresa: Cooperativa Esempio`);
    expect(mail.text).toContain('Agevolazione concessa: EUR 40.000,00');
    expect(mail.text).toMatch(/\n-- \nMessaggio inviato automaticamente/);
  });

  test('people are greeted by name; where no person is meant, the role is', () => {
    const commission = samples['application.commission'];
    expect(render('application.commission', 'it', commission).text).toMatch(/^Gentile Giulia Ferraris,\n/);
    expect(render('application.commission', 'en', commission).text).toMatch(/^Dear Giulia Ferraris,\n/);
    const staff = { ...commission, recipientName: null };
    expect(render('application.commission', 'it', { ...staff, audience: 'operator' }).text).toMatch(
      /^Gentile operatore,/,
    );
    expect(render('application.commission', 'it', { ...staff, audience: 'commission' }).text).toMatch(
      /^Gentile componente della Commissione di Valutazione,/,
    );
    expect(render('application.commission', 'en', { ...staff, audience: 'company' }).text).toMatch(
      /^Dear legal representative,/,
    );
    expect(() => render('application.commission', 'en', { ...commission, audience: 'mallory' })).toThrow(/audience/);
  });

  test('the consultant is named by name and body, never by address', () => {
    const it = render('application.accompaniment', 'it', samples['application.accompaniment']).text;
    expect(it).toContain('con Marco Bianchi di SocialFare impresa sociale srl:');
    const en = render('session.confirmation', 'en', confirmation()).text;
    expect(en).toContain('Marco Bianchi of SocialFare impresa sociale srl logged an accompaniment session');
    expect(en).not.toMatch(/@/);
  });

  test('the accompaniment states the hours the pinned rules require', () => {
    const twelve = transition('submitted', 'accompaniment', { minimumHours: 12 });
    expect(render('application.accompaniment', 'it', twelve).text).toContain('almeno 12 ore');
    expect(render('application.accompaniment', 'en', twelve).text).toContain('at least 12 hours');
    const half = transition('submitted', 'accompaniment', { minimumHours: 7.5 });
    expect(render('application.accompaniment', 'it', half).text).toContain('almeno 7,5 ore');
    expect(render('application.accompaniment', 'it', twelve).text).not.toContain('8 ore');
  });

  test('a withdrawal says who withdrew', () => {
    const by = (actorRole: TransitionPayload['actorRole'], locale: 'it' | 'en') =>
      render('application.withdrawn', locale, transition('accompaniment', 'withdrawn', { actorRole }));
    expect(by('company', 'it').text).toContain('abbiamo registrato la rinuncia di Cooperativa Esempio');
    expect(by('company', 'en').subject).toContain('withdrawal recorded');
    expect(by('operator', 'it').text).toContain('è stata ritirata da un operatore del programma');
    expect(by('operator', 'en').subject).toContain('withdrawn by an operator');
    expect(by('system', 'en').text).not.toMatch(/operator|withdrawal of/);
  });

  test.each(['it', 'en'] as const)('the session confirmation, in %s: code, session, expiry', (locale) => {
    const mail = render('session.confirmation', locale, confirmation());
    expect(mail.subject).toContain(locale === 'it' ? '26/11/2026' : '26 November 2026');
    expect(mail.text).toMatch(locale === 'it' ? /^Gentile Giulia Ferraris,/ : /^Dear Giulia Ferraris,/);
    expect(mail.text).toContain(locale === 'it' ? 'Codice di conferma: 042917' : 'Confirmation code: 042917');
    expect(mail.text).toContain('09:00-13:00');
    expect(mail.text).toContain(locale === 'it' ? '10/12/2026, 10:00' : '10 December 2026, 10:00');
    expect(mail.html).not.toContain('<a ');
    const { code: _code, ...withoutCode } = confirmation();
    expect(() => render('session.confirmation', locale, withoutCode)).toThrow(/code: /);
  });

  test.each(['it', 'en'] as const)(
    'with a personal link (%s) the mail leads with it; the code still works',
    (locale) => {
      const link = 'https://innosocial.example/confirm/abc';
      const mail = render('session.confirmation', locale, confirmation({ link }));
      const [label, note] =
        locale === 'it'
          ? ['Apri la pagina di conferma:', 'su un altro dispositivo, può confermare anche con il codice 042917']
          : ['Open the confirmation page:', 'on another device? The code 042917 confirms too'];
      expect(mail.text).toContain(`${label}\n${link}\n`);
      expect(mail.text).toContain(note);
      // Where the code goes, for whoever reads the mail on a device the link cannot be opened on.
      expect(mail.text).toContain('https://innosocial.example/conferma');
      expect(mail.text.indexOf(link)).toBeLessThan(mail.text.indexOf(locale === 'it' ? 'Sessione:' : 'Session:'));
      expect(mail.html).toMatch(new RegExp(`<a href="${link}" style="display:inline-block;[^"]*">[^<]+</a>`));
      expect(() => render('session.confirmation', locale, confirmation({ link: 'javascript:alert(1)' }))).toThrow(
        /link: /,
      );
    },
  );

  test('a disputed session reaches the consultant and the operators in words meant for each', () => {
    const operator = render('session.disputed', 'it', samples['session.disputed']);
    expect(operator.text).toMatch(/^Gentile operatore,/);
    expect(operator.text).toContain('Cooperativa Esempio ha segnalato che la sessione');
    expect(operator.text).toContain('Consulente: Marco Bianchi di SocialFare impresa sociale srl');
    const consultant = { ...samples['session.disputed'], audience: 'consultant', recipientName: 'Marco Bianchi' };
    expect(render('session.disputed', 'en', consultant).text).toMatch(/^Dear Marco Bianchi,[\s\S]*did not take place/);
  });

  test('a reminder names the deadline, its date and how far it is; an escalation says it was missed', () => {
    const it = render('deadline.reminder', 'it', reminder);
    expect(it.subject).toContain('scadenza tra 3 giorni');
    expect(it.text).toContain('Scadenza (decisione della Commissione di Valutazione): 20/01/2027');
    expect(it.text).toMatch(/^Gentile componente della Commissione di Valutazione,/);
    expect(render('deadline.reminder', 'en', { ...reminder, daysBefore: 1 }).subject).toContain('deadline in 1 day');
    expect(render('deadline.escalation', 'en', samples['deadline.escalation']).text).toMatch(/has passed/);
    expect(() => render('deadline.reminder', 'en', { ...reminder, deadline: null })).toThrow(/deadline: /);
    expect(() => render('deadline.escalation', 'en', reminder)).toThrow(/daysBefore: /);
  });

  test('the sign-in link is about a person: the link, when it expires, what to do if unasked', () => {
    const mail = render('user.sign-in', 'en', samples['user.sign-in']);
    expect(mail.subject).toBe('InnoSocialMetro - your sign-in link');
    expect(mail.text).toMatch(/^Dear Anna Conti,/);
    expect(mail.text).toContain('Sign in:\nhttps://innosocial.example/sign-in/xyz\n');
    expect(mail.text).toContain('until 26 November 2026, 10:15');
    expect(mail.html).toContain('<a href="https://innosocial.example/sign-in/xyz"');
    expect(render('user.sign-in', 'it', { ...samples['user.sign-in'], recipientName: null }).text).toMatch(
      /^Gentile utente,/,
    );
  });

  test('every interpolated value is HTML-escaped; the plain text keeps it as written', () => {
    const hostile = '<script>alert("x")</script>';
    const payload = transition('commission', 'rejected', {
      recipientName: `Giulia "Giuly" O'Brien`,
      companyName: `Rossi & Figli <b>srl</b>`,
      motivation: `${hostile}\nsecond line`,
    });
    const mail = render('application.rejected', 'en', payload);
    expect(mail.html).not.toMatch(/<script|<b>|"Giuly"|O'Brien/);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>second line');
    expect(mail.html).toContain('Dear Giulia &quot;Giuly&quot; O&#39;Brien,');
    expect(mail.html).toContain('Rossi &amp; Figli &lt;b&gt;srl&lt;/b&gt;');
    expect(mail.text).toContain(hostile);
    const topic = render(
      'session.confirmation',
      'it',
      confirmation({ topic: hostile, link: "https://x.example/c?a=1&b='2'" }),
    );
    expect(topic.html).not.toContain('<script');
    expect(topic.html).toContain('href="https://x.example/c?a=1&amp;b=&#39;2&#39;"');
  });

  test('the HTML is a small accessible document: language, heading, facts as a definition list', () => {
    const { html } = render('application.admitted', 'en', samples['application.admitted']);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain(`<title>InnoSocialMetro - application ${base.applicationId}: admitted`);
    expect(html).toMatch(/<h1 style="[^"]*">Admitted to financial support<\/h1>/);
    expect(html).toMatch(/<dt style="[^"]*">Support granted<\/dt><dd style="[^"]*">EUR 40,000\.00<\/dd>/);
    expect(html).not.toMatch(/<style|<script|class=/);
  });

  test('the subject says the new state in plain words, in Italian and in English', () => {
    expect(render('application.admitted', 'it', samples['application.admitted']).subject).toBe(
      `InnoSocialMetro - domanda ${base.applicationId}: ammessa all'agevolazione`,
    );
    expect(render('application.rejected', 'it', samples['application.rejected']).subject).toContain('non ammessa');
    expect(render('application.lapsed', 'en', samples['application.lapsed']).subject).toContain('lapsed');
    expect(render('application.submitted', 'it', samples['application.submitted']).subject).toContain(
      'domanda ricevuta',
    );
  });

  test('a pre-project after the commission is an integration request', () => {
    const back = render('application.pre_project', 'it', transition('commission', 'pre_project'));
    expect(back.subject).toContain('richiesta di integrazioni');
    const forward = render('application.pre_project', 'en', transition('accompaniment', 'pre_project'));
    expect(forward.subject).toContain('pre-project in preparation');
  });

  test('the deadline date is stated in each locale, in Turin time', () => {
    const deadline = { kind: 'integration_answer' as const, dueAt: '2027-03-24T10:00:00.000Z' };
    const it = render('application.pre_project', 'it', transition('commission', 'pre_project', { deadline }));
    expect(it.text).toContain('Scadenza (risposta alla richiesta di integrazioni): 24/03/2027');
    const en = render('application.pre_project', 'en', transition('commission', 'pre_project', { deadline }));
    expect(en.text).toContain('Deadline (answer to the integration request): 24 March 2027');
    // 23:30 UTC is already the next day in Turin.
    const late = { kind: 'funding' as const, dueAt: '2027-06-30T23:30:00.000Z' };
    expect(
      render('application.admitted', 'it', transition('commission', 'admitted', { deadline: late })).text,
    ).toContain('01/07/2027');
    expect(render('application.withdrawn', 'it', samples['application.withdrawn']).text).not.toContain('Scadenza');
  });

  test('motivation and reasons are quoted when the payload has them', () => {
    expect(render('application.rejected', 'it', samples['application.rejected']).text).toContain(
      'Motivazione:\nImpatto non misurabile.',
    );
    const reasons = ['Operating site outside the metropolitan territory', 'Not a micro or small enterprise'];
    const ineligible = render('application.rejected', 'en', transition('submitted', 'rejected', { reasons }));
    expect(ineligible.text).toContain('is not eligible');
    expect(ineligible.text).toContain(`Reasons:\n- ${reasons[0]}\n- ${reasons[1]}`);
  });

  test('an unknown template, an unknown locale or a payload its schema refuses is a clear error', () => {
    const admitted = samples['application.admitted'];
    expect(() => render('application.archived', 'it', base)).toThrow(TemplateError);
    expect(() => render('application.archived', 'it', base)).toThrow(/"application\.archived": unknown template/);
    expect(() => render('application.admitted', 'de', admitted)).toThrow(/unknown locale "de"/);
    const { callId: _callId, ...noCall } = admitted;
    expect(() => render('application.admitted', 'it', noCall)).toThrow(
      /"application\.admitted": payload does not fit: callId: /,
    );
    expect(() => render('application.admitted', 'it', { ...admitted, extra: 1 })).toThrow(/extra/);
    expect(() => render('application.admitted', 'it', { ...admitted, to: 'rejected' })).toThrow(/to: /);
    const soon = { ...admitted, deadline: { kind: 'funding', dueAt: 'soon' } };
    expect(() => render('application.admitted', 'it', soon)).toThrow(/deadline\.dueAt: /);
    expect(() => render('application.funded', 'it', { ...admitted, to: 'funded', amountCents: 12.5 })).toThrow(
      /amountCents: /,
    );
    expect(() => render('application.admitted', 'it', null)).toThrow(/payload: /);
  });

  test('rendering is pure: the same input gives the same message', () => {
    const payload = samples['application.commission'];
    expect(render('application.commission', 'it', payload)).toEqual(
      render('application.commission', 'it', structuredClone(payload)),
    );
  });

  test('each template declares its secret fields', () => {
    expect(secretFieldsOf('session.confirmation')).toEqual(['code', 'link']);
    expect(secretFieldsOf('user.sign-in')).toEqual(['link']);
    expect(secretFieldsOf('application.admitted')).toEqual([]);
    expect(secretFieldsOf('application.archived')).toEqual([]);
  });
});

describe('who receives what', () => {
  const people: Interested = {
    company: { address: 'giulia@example.org', locale: 'en', name: 'Giulia Ferraris' },
    consultant: { address: 'marco@socialfare.example.org', name: 'Marco Bianchi' },
    operators: ['op1@example.org', 'op2@example.org'],
    commission: ['chair@example.org'],
  };
  const audiences = (list: { audience: string }[]) => list.map((r) => r.audience);

  test('the company hears of every state, in its language and by name; others when it concerns them', () => {
    expect(recipientsOfState('submitted', people)).toEqual([
      { audience: 'company', address: 'giulia@example.org', locale: 'en', name: 'Giulia Ferraris' },
    ]);
    expect(audiences(recipientsOfState('accompaniment', people))).toEqual(['company', 'consultant']);
    expect(audiences(recipientsOfState('commission', people))).toEqual(['company', 'consultant', 'commission']);
    expect(audiences(recipientsOfState('admitted', people))).toEqual(['company', 'consultant', 'operator', 'operator']);
    expect(audiences(recipientsOfState('funded', people))).toEqual(['company']);
    expect(recipientsOfState('withdrawn', { ...people, consultant: null }).map((r) => r.address)).toEqual([
      'giulia@example.org',
      'op1@example.org',
      'op2@example.org',
    ]);
    expect(recipientsOfState('pre_project', people)[1]).toEqual({
      audience: 'consultant',
      address: 'marco@socialfare.example.org',
      locale: 'it',
      name: 'Marco Bianchi',
    });
  });

  test('a reminder goes to whoever must act; an escalation to the operators alone', () => {
    expect(audiences(recipientsOfReminder('accompaniment', 14, people))).toEqual(['company', 'consultant']);
    expect(audiences(recipientsOfReminder('commission_decision', 3, people))).toEqual([
      'commission',
      'operator',
      'operator',
    ]);
    expect(audiences(recipientsOfReminder('funding', 3, people))).toEqual(['operator', 'operator']);
    expect(audiences(recipientsOfReminder('accompaniment', 0, people))).toEqual(['operator', 'operator']);
  });
});

describe('money and dates for people', () => {
  test('euro amounts the Italian and the English way, and the plain machine format', () => {
    expect(formatEuro(4_000_000, 'it')).toBe('EUR 40.000,00');
    expect(formatEuro(4_000_000, 'en')).toBe('EUR 40,000.00');
    expect(formatEuro(123_456_789_05, 'it')).toBe('EUR 123.456.789,05');
    expect(formatEuro(5, 'en')).toBe('EUR 0.05');
    expect(formatEuro(99_999, 'it')).toBe('EUR 999,99');
    expect(formatEuro(-150, 'it')).toBe('EUR -1,50');
    expect(() => formatEuro(1.5, 'it')).toThrow(/whole number/);
    expect(centsToDecimal(4_000_050)).toBe('40000.50');
    expect(centsToDecimal(5)).toBe('0.05');
    expect(centsToDecimal(-150)).toBe('-1.50');
    expect(() => centsToDecimal(0.5)).toThrow(/whole number/);
  });

  test('amounts typed by people: 40000, 40000.50, 40000,50, grouped the Italian or the English way', () => {
    expect(parseEuro('40000')).toBe(4_000_000);
    expect(parseEuro('40000.50')).toBe(4_000_050);
    expect(parseEuro(' 40000,5 ')).toBe(4_000_050);
    expect(parseEuro('0,07')).toBe(7);
    expect(parseEuro('40.000,50')).toBe(4_000_050);
    expect(parseEuro('40,000.50')).toBe(4_000_050);
    expect(parseEuro('1.234.567')).toBe(123_456_700);
    // A third decimal is never valid, so a single group of three can only be thousands.
    expect(parseEuro('1.234')).toBe(123_400);
    expect(parseEuro('1,234')).toBe(123_400);
    expect(parseEuro('999.999.999.999,99')).toBe(99_999_999_999_999);
  });

  test.each([
    ['a sign', '-5'],
    ['an exponent', '1e3'],
    ['trailing junk', '12,5x'],
    ['nothing', ''],
    ['a currency', 'EUR 5'],
    ['a third decimal', '40000,505'],
    ['mixed grouping', '40.000.00'],
    ['English grouping with an Italian decimal comma', '40,000,50'],
    ['a short group', '40.00,50'],
    ['more than 12 digits', '1234567890123'],
    // Grouped, 15 digits would be a sum in cents beyond exact integers.
    ['more than 12 grouped digits', '999.999.999.999.999,99'],
  ])('%s (%p) is refused with a RangeError saying what is expected', (_, bad) => {
    expect(() => parseEuro(bad)).toThrow(RangeError);
    expect(() => parseEuro(bad)).toThrow(/is not an amount in euro such as 40000, 40000\.50, 40000,50 or 40\.000,50/);
  });

  test('dates in Turin time', () => {
    expect(formatDate(new Date('2027-06-30T23:30:00Z'), 'it')).toBe('01/07/2027');
    expect(formatDate(new Date('2027-06-30T21:30:00Z'), 'en')).toBe('30 June 2027');
    expect(formatDateTime(new Date('2027-01-20T10:05:00Z'), 'it')).toBe('20/01/2027, 11:05');
    expect(formatDay('2026-11-26', 'en')).toBe('26 November 2026');
    expect(formatDay('2026-03-29', 'it')).toBe('29/03/2026');
    expect(() => formatDay('26/11/2026', 'it')).toThrow(/YYYY-MM-DD/);
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
