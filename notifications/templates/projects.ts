import { z } from 'zod';
import { formatDay, formatEuro, type Locale } from '../../domain/format';
import { PROJECT_STATES, type ProjectState } from '../../machines/project.machine';
import {
  applicationSubject,
  audienceSchema,
  daysWords,
  defineTemplate,
  greeting,
  ids,
  LABELS,
  nameSchema,
  type Fact,
  type Message,
} from './common';

/*
 * The funded project's messages (rendicontazione): when it starts, before each of its deadlines, when a reduction or
 * revocation is intended (with its reasons, amount and the observations period of law 241/1990) and decided, and at
 * its other steps. To the company in its language; to the consultant and operators in Italian.
 */

const DAY = z.iso.date();
const PROJECT_DEADLINES = ['realisation_end', 'final_report', 'observations'] as const;

const base = {
  ...ids,
  audience: audienceSchema,
  recipientName: nameSchema.nullable(),
  companyName: nameSchema,
};
const deadline = z.strictObject({ kind: z.enum(PROJECT_DEADLINES), dueOn: DAY });

const DEADLINE_WORDS: Record<(typeof PROJECT_DEADLINES)[number], Record<Locale, string>> = {
  realisation_end: { it: 'fine del periodo di realizzazione', en: 'end of the realisation period' },
  final_report: { it: 'invio della rendicontazione finale', en: 'final report' },
  observations: { it: 'invio delle osservazioni', en: 'observations' },
};
const STATE_WORDS: Record<ProjectState, Record<Locale, string>> = {
  in_progress: { it: 'in realizzazione', en: 'in progress' },
  final_report_due: { it: 'rendicontazione attesa', en: 'final report due' },
  under_verification: { it: 'rendicontazione in verifica', en: 'final report under verification' },
  reduction_intended: { it: 'riduzione avviata', en: 'reduction intended' },
  revocation_intended: { it: 'revoca avviata', en: 'revocation intended' },
  reduced: { it: 'agevolazione ridotta', en: 'grant reduced' },
  revoked: { it: 'agevolazione revocata', en: 'grant revoked' },
  withdrawn: { it: 'rinuncia', en: 'withdrawn' },
  closed: { it: 'progetto concluso', en: 'project closed' },
  settled: { it: 'restituzione completata', en: 'repayment completed' },
};
const KIND_WORDS = {
  reduction: { it: 'riduzione', en: 'reduction' },
  revocation: { it: 'revoca', en: 'revocation' },
} as const;

const deadlineFact = (d: z.output<typeof deadline>, locale: Locale): Fact => [
  LABELS[locale].deadline(DEADLINE_WORDS[d.kind][locale]),
  formatDay(d.dueOn, locale),
];

function message(
  locale: Locale,
  p: z.output<z.ZodObject<typeof base>>,
  heading: string,
  paragraphs: string[],
  facts: Fact[],
  sections?: Message['sections'],
): Message {
  const l = LABELS[locale];
  return {
    subject: applicationSubject(locale, p.applicationId, heading),
    heading,
    greeting: greeting(locale, p.recipientName, p.audience),
    paragraphs,
    facts: [[l.application, p.applicationId], [l.company, p.companyName], [l.call, p.callId], ...facts],
    ...(sections?.length ? { sections } : {}),
  };
}

const startedSchema = z.strictObject({ ...base, realisationEndsOn: DAY, finalReportDueOn: DAY });
const reminderSchema = z.strictObject({ ...base, deadline, daysBefore: z.number().int().positive() });
const intentionSchema = z.strictObject({
  ...base,
  kind: z.enum(['reduction', 'revocation']),
  reasons: z.array(z.string().min(1)).min(1),
  recoveryCents: z.number().int().nonnegative(),
  observationsDueOn: DAY,
});
const decisionSchema = z.strictObject({
  ...base,
  kind: z.enum(['reduction', 'revocation']),
  decision: z.enum(['confirmed', 'dropped']),
  motivation: z.string().min(1),
  recoveryCents: z.number().int().nonnegative(),
});
const stateSchema = z.strictObject({
  ...base,
  to: z.enum(PROJECT_STATES as [ProjectState, ...ProjectState[]]),
  deadline: deadline.nullable(),
  amountCents: z.number().int().nonnegative().nullable(),
});

export const PROJECT_TEMPLATES = {
  /** The funded project begins: until when it is carried out, when the final report is due. */
  'project.started': defineTemplate({
    schema: startedSchema,
    secret: [],
    words: {
      it: (p) =>
        message(
          'it',
          p,
          'progetto finanziato: inizia la realizzazione',
          [
            `l'agevolazione della domanda ${p.applicationId} è stata erogata: il progetto va realizzato entro il ` +
              `${formatDay(p.realisationEndsOn, 'it')} e rendicontato (spese sostenute e indicatori di impatto misurati) ` +
              `entro il ${formatDay(p.finalReportDueOn, 'it')}.`,
          ],
          [],
        ),
      en: (p) =>
        message(
          'en',
          p,
          'project funded: its realisation begins',
          [
            `The financial support of application ${p.applicationId} has been disbursed: the project must be carried ` +
              `out by ${formatDay(p.realisationEndsOn, 'en')} and reported on (costs incurred and impact indicators ` +
              `measured) by ${formatDay(p.finalReportDueOn, 'en')}.`,
          ],
          [],
        ),
    },
  }),
  'project.reminder': defineTemplate({
    schema: reminderSchema,
    secret: [],
    words: {
      it: (p) =>
        message(
          'it',
          p,
          `promemoria: ${DEADLINE_WORDS[p.deadline.kind].it} tra ${daysWords(p.daysBefore, 'it')}`,
          [
            `per il progetto della domanda ${p.applicationId} si avvicina la scadenza "${DEADLINE_WORDS[p.deadline.kind].it}".`,
          ],
          [deadlineFact(p.deadline, 'it')],
        ),
      en: (p) =>
        message(
          'en',
          p,
          `reminder: ${DEADLINE_WORDS[p.deadline.kind].en} in ${daysWords(p.daysBefore, 'en')}`,
          [
            `The deadline "${DEADLINE_WORDS[p.deadline.kind].en}" of the project of application ${p.applicationId} is near.`,
          ],
          [deadlineFact(p.deadline, 'en')],
        ),
    },
  }),
  /** Law 241/1990, art. 10-bis: the intention, its reasons and amount, and the time to answer, before any effect. */
  'project.intention': defineTemplate({
    schema: intentionSchema,
    secret: [],
    words: {
      it: (p) =>
        message(
          'it',
          p,
          `avvio del procedimento di ${KIND_WORDS[p.kind].it}`,
          [
            `per il progetto della domanda ${p.applicationId} è avviato il procedimento di ${KIND_WORDS[p.kind].it} ` +
              `dell'agevolazione per i motivi indicati. L'impresa può presentare osservazioni, anche con documenti, ` +
              `entro il ${formatDay(p.observationsDueOn, 'it')}; poi l'ente conferma o archivia il procedimento.`,
          ],
          [[LABELS.it.amount, `${formatEuro(p.recoveryCents, 'it')} da restituire`]],
          [{ title: LABELS.it.reasons, items: p.reasons }],
        ),
      en: (p) =>
        message(
          'en',
          p,
          `${KIND_WORDS[p.kind].en} of the grant intended`,
          [
            `A ${KIND_WORDS[p.kind].en} of the financial support of application ${p.applicationId} is intended, for the ` +
              `reasons below. The company may send observations, with documents, by ` +
              `${formatDay(p.observationsDueOn, 'en')}; then the managing body confirms or drops it.`,
          ],
          [[LABELS.en.amount, `${formatEuro(p.recoveryCents, 'en')} to repay`]],
          [{ title: LABELS.en.reasons, items: p.reasons }],
        ),
    },
  }),
  'project.decision': defineTemplate({
    schema: decisionSchema,
    secret: [],
    words: {
      it: (p) =>
        message(
          'it',
          p,
          `${KIND_WORDS[p.kind].it} ${p.decision === 'confirmed' ? 'confermata' : 'archiviata'}`,
          [
            p.decision === 'confirmed'
              ? `la ${KIND_WORDS[p.kind].it} dell'agevolazione della domanda ${p.applicationId} è confermata: ` +
                `l'importo indicato va restituito.`
              : `il procedimento di ${KIND_WORDS[p.kind].it} della domanda ${p.applicationId} è archiviato: nulla è dovuto per esso.`,
          ],
          p.decision === 'confirmed' ? [[LABELS.it.amount, formatEuro(p.recoveryCents, 'it')]] : [],
          [{ title: LABELS.it.motivation, text: p.motivation }],
        ),
      en: (p) =>
        message(
          'en',
          p,
          `${KIND_WORDS[p.kind].en} ${p.decision}`,
          [
            p.decision === 'confirmed'
              ? `The ${KIND_WORDS[p.kind].en} of the financial support of application ${p.applicationId} is confirmed: ` +
                'the amount below must be repaid.'
              : `The ${KIND_WORDS[p.kind].en} of application ${p.applicationId} is dropped: nothing is owed for it.`,
          ],
          p.decision === 'confirmed' ? [[LABELS.en.amount, formatEuro(p.recoveryCents, 'en')]] : [],
          [{ title: LABELS.en.motivation, text: p.motivation }],
        ),
    },
  }),
  /** Every other step of the project (report received, closed, withdrawn, settled...). */
  'project.state': defineTemplate({
    schema: stateSchema,
    secret: [],
    words: {
      it: (p) =>
        message(
          'it',
          p,
          STATE_WORDS[p.to].it,
          [`il progetto della domanda ${p.applicationId} è ora: ${STATE_WORDS[p.to].it}.`],
          [
            ...(p.deadline ? [deadlineFact(p.deadline, 'it')] : []),
            ...(p.amountCents !== null ? ([[LABELS.it.amount, formatEuro(p.amountCents, 'it')]] as Fact[]) : []),
          ],
        ),
      en: (p) =>
        message(
          'en',
          p,
          STATE_WORDS[p.to].en,
          [`The project of application ${p.applicationId} is now: ${STATE_WORDS[p.to].en}.`],
          [
            ...(p.deadline ? [deadlineFact(p.deadline, 'en')] : []),
            ...(p.amountCents !== null ? ([[LABELS.en.amount, formatEuro(p.amountCents, 'en')]] as Fact[]) : []),
          ],
        ),
    },
  }),
};
