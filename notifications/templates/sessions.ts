import { z } from 'zod';
import { formatDateTime, formatDay, type Locale } from '../../domain/format';
import {
  applicationSubject,
  consultantWords,
  defineTemplate,
  greeting,
  ids,
  instantSchema,
  LABELS,
  linkSchema,
  nameSchema,
  sessionTimeSchema,
  type Fact,
  type Message,
} from './common';

const session = {
  ...ids,
  /** The person greeted; null greets the role. */
  recipientName: nameSchema.nullable(),
  companyName: z.string().min(1),
  date: z.iso.date(),
  start: sessionTimeSchema,
  end: sessionTimeSchema,
  topic: z.string().min(1),
};

/** The consultant who logged the session, and their body: null only for a consultant the registry lacks. */
const loggedBy = { consultantName: nameSchema, bodyName: z.string().min(1).nullable() };

const confirmationSchema = z.strictObject({
  ...session,
  ...loggedBy,
  code: z.string().regex(/^\d{6}$/, 'six digits'),
  expiresAt: instantSchema,
  /** The company's personal confirmation page; null while there is none, and the code is the only way. */
  link: linkSchema.nullable(),
});
const confirmedSchema = z.strictObject(session);
const disputedSchema = z.strictObject({
  ...session,
  audience: z.enum(['consultant', 'operator']),
  ...loggedBy,
});

type Session = z.output<typeof confirmedSchema>;

const WORDS = {
  it: { session: 'Sessione', topic: 'Argomento', code: 'Codice di conferma' },
  en: { session: 'Session', topic: 'Topic', code: 'Confirmation code' },
};
const when = (s: Session, locale: Locale) => `${formatDay(s.date, locale)}, ${s.start}-${s.end}`;

function sessionMessage(
  locale: Locale,
  s: Session,
  m: Pick<Message, 'heading' | 'greeting' | 'paragraphs' | 'action'>,
  facts: Fact[] = [],
): Message {
  const l = LABELS[locale];
  return {
    ...m,
    subject: applicationSubject(locale, s.applicationId, m.heading),
    facts: [
      [WORDS[locale].session, when(s, locale)],
      [WORDS[locale].topic, s.topic],
      ...facts,
      [l.application, s.applicationId],
      [l.call, s.callId],
      [l.company, s.companyName],
    ],
  };
}

/** The page where the code confirms (client/pages/company.ts), on the same site as the personal link. */
const codePage = (link: string) => `${new URL(link).origin}/conferma`;

export const SESSION_TEMPLATES = {
  /** To the company: confirm a logged session, by its personal link or with the code. */
  'session.confirmation': defineTemplate({
    schema: confirmationSchema,
    secret: ['code', 'link'],
    words: {
      it: (p) => {
        const expires = formatDateTime(new Date(p.expiresAt), 'it');
        const confirm = p.link
          ? 'Se la sessione si è svolta, apra il link personale qui sotto: la pagina mostra la sessione con due ' +
            `pulsanti, "Conferma" e "Non si è svolta". Il link vale una sola volta, fino al ${expires}.`
          : 'Se la sessione si è svolta, la confermi con il codice qui sotto (valido una sola volta, fino al ' +
            `${expires}).`;
        return sessionMessage(
          'it',
          p,
          {
            heading: `conferma della sessione del ${formatDay(p.date, 'it')}`,
            greeting: greeting('it', p.recipientName, 'company'),
            paragraphs: [
              `${consultantWords('it', p.consultantName, p.bodyName)} ha registrato una sessione del percorso di ` +
                `accompagnamento della domanda ${p.applicationId}. Solo le sessioni confermate contano per le ore ` +
                'del percorso.',
              confirm,
            ],
            ...(p.link
              ? {
                  action: {
                    label: 'Apri la pagina di conferma',
                    href: p.link,
                    note:
                      'Se legge questa e-mail su un altro dispositivo, può confermare anche con il codice ' +
                      `${p.code} alla pagina ${codePage(p.link)}, fino alla stessa data.`,
                  },
                }
              : {}),
          },
          [
            [LABELS.it.consultant, consultantWords('it', p.consultantName, p.bodyName)],
            [WORDS.it.code, p.code],
          ],
        );
      },
      en: (p) => {
        const expires = formatDateTime(new Date(p.expiresAt), 'en');
        const confirm = p.link
          ? 'If the session took place, open your personal link below: the page shows the session with two ' +
            `buttons, "Confirm" and "It did not take place". The link works once, until ${expires}.`
          : `If the session took place, confirm it with the code below (single use, valid until ${expires}).`;
        return sessionMessage(
          'en',
          p,
          {
            heading: `confirm the session of ${formatDay(p.date, 'en')}`,
            greeting: greeting('en', p.recipientName, 'company'),
            paragraphs: [
              `${consultantWords('en', p.consultantName, p.bodyName)} logged an accompaniment session for ` +
                `application ${p.applicationId}. Only confirmed sessions count towards the accompaniment hours.`,
              confirm,
            ],
            ...(p.link
              ? {
                  action: {
                    label: 'Open the confirmation page',
                    href: p.link,
                    note:
                      `Reading this e-mail on another device? The code ${p.code} confirms too, at ` +
                      `${codePage(p.link)}, until the same date.`,
                  },
                }
              : {}),
          },
          [
            [LABELS.en.consultant, consultantWords('en', p.consultantName, p.bodyName)],
            [WORDS.en.code, p.code],
          ],
        );
      },
    },
  }),
  /** To the consultant: the company confirmed, the session counts. */
  'session.confirmed': defineTemplate({
    schema: confirmedSchema,
    secret: [],
    words: {
      it: (p) =>
        sessionMessage('it', p, {
          heading: `sessione del ${formatDay(p.date, 'it')} confermata`,
          greeting: greeting('it', p.recipientName, 'consultant'),
          paragraphs: [
            `${p.companyName} ha confermato la sessione di accompagnamento del ${when(p, 'it')} (${p.topic}) ` +
              `della domanda ${p.applicationId}: ora conta per le ore del percorso.`,
          ],
        }),
      en: (p) =>
        sessionMessage('en', p, {
          heading: `session of ${formatDay(p.date, 'en')} confirmed`,
          greeting: greeting('en', p.recipientName, 'consultant'),
          paragraphs: [
            `${p.companyName} confirmed the accompaniment session of ${when(p, 'en')} (${p.topic}) of ` +
              `application ${p.applicationId}: it now counts towards the accompaniment hours.`,
          ],
        }),
    },
  }),
  /** To the consultant and the operators: the company says the session did not take place. */
  'session.disputed': defineTemplate({
    schema: disputedSchema,
    secret: [],
    words: {
      it: (p) =>
        sessionMessage(
          'it',
          p,
          {
            heading: `sessione del ${formatDay(p.date, 'it')} contestata dall'impresa`,
            greeting: greeting('it', p.recipientName, p.audience),
            paragraphs: [
              `${p.companyName} ha segnalato che la sessione di accompagnamento del ${when(p, 'it')} ` +
                `(${p.topic}) della domanda ${p.applicationId} non si è svolta. La sessione resta non confermata ` +
                'e non conta per le ore del percorso.',
              p.audience === 'operator'
                ? "Verifichi l'accaduto con il soggetto attuatore e con l'impresa."
                : "Se la sessione si è svolta, ne parli con l'impresa e con gli operatori del programma.",
            ],
          },
          [[LABELS.it.consultant, consultantWords('it', p.consultantName, p.bodyName)]],
        ),
      en: (p) =>
        sessionMessage(
          'en',
          p,
          {
            heading: `session of ${formatDay(p.date, 'en')} disputed by the company`,
            greeting: greeting('en', p.recipientName, p.audience),
            paragraphs: [
              `${p.companyName} reports that the accompaniment session of ${when(p, 'en')} (${p.topic}) of ` +
                `application ${p.applicationId} did not take place. The session stays unconfirmed and does not ` +
                'count towards the accompaniment hours.',
              p.audience === 'operator'
                ? 'Please check what happened with the implementing body and the company.'
                : 'If the session did take place, please talk to the company and to the programme operators.',
            ],
          },
          [[LABELS.en.consultant, consultantWords('en', p.consultantName, p.bodyName)]],
        ),
    },
  }),
};
