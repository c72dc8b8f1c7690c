import { z } from 'zod';
import type { Locale } from '../../domain/format';
import {
  applicationStateSchema,
  applicationSubject,
  audienceSchema,
  daysWords,
  deadlineFact,
  deadlineSchema,
  deadlineWords,
  defineTemplate,
  greeting,
  ids,
  LABELS,
  nameSchema,
  stateWords,
  type Message,
} from './common';

const reminderSchema = z.strictObject({
  ...ids,
  audience: audienceSchema,
  /** The person greeted; null greets the role. */
  recipientName: nameSchema.nullable(),
  deadline: deadlineSchema,
  daysBefore: z.number().int().positive(),
  /** The state the application is in while the deadline runs. */
  state: applicationStateSchema,
});
// The escalation goes out when the deadline has passed: zero days before it.
const escalationSchema = reminderSchema.extend({ daysBefore: z.literal(0) });
type Reminder = z.output<typeof reminderSchema> | z.output<typeof escalationSchema>;

function deadlineMessage(locale: Locale, p: Reminder, heading: string, paragraph: string): Message {
  const l = LABELS[locale];
  return {
    subject: applicationSubject(locale, p.applicationId, heading),
    heading,
    greeting: greeting(locale, p.recipientName, p.audience),
    paragraphs: [paragraph],
    facts: [
      [l.application, p.applicationId],
      [l.call, p.callId],
      [l.current, stateWords(p.state, locale)],
      deadlineFact(p.deadline, locale),
    ],
  };
}

export const DEADLINE_TEMPLATES = {
  /** To whoever must act before a deadline, some days before it. */
  'deadline.reminder': defineTemplate({
    schema: reminderSchema,
    secret: [],
    words: {
      it: (p) =>
        deadlineMessage(
          'it',
          p,
          `promemoria: scadenza tra ${daysWords(p.daysBefore, 'it')}`,
          `per la domanda ${p.applicationId} si avvicina la scadenza "${deadlineWords(p.deadline.kind, 'it')}": ` +
            `mancano ${daysWords(p.daysBefore, 'it')}. Se la scadenza passa senza seguito la domanda decade.`,
        ),
      en: (p) =>
        deadlineMessage(
          'en',
          p,
          `reminder: deadline in ${daysWords(p.daysBefore, 'en')}`,
          `The deadline "${deadlineWords(p.deadline.kind, 'en')}" of application ${p.applicationId} is ` +
            `${daysWords(p.daysBefore, 'en')} away. If it passes without action the application lapses.`,
        ),
    },
  }),
  /** To the operators, when the rules escalate a missed deadline instead of ending the application. */
  'deadline.escalation': defineTemplate({
    schema: escalationSchema,
    secret: [],
    words: {
      it: (p) =>
        deadlineMessage(
          'it',
          p,
          'scadenza superata, serve un intervento',
          `la scadenza "${deadlineWords(p.deadline.kind, 'it')}" della domanda ${p.applicationId} è passata. ` +
            'Le regole del bando prevedono una segnalazione agli operatori anziché la decadenza: la domanda ' +
            'attende un intervento.',
        ),
      en: (p) =>
        deadlineMessage(
          'en',
          p,
          'deadline missed, action needed',
          `The deadline "${deadlineWords(p.deadline.kind, 'en')}" of application ${p.applicationId} has passed. ` +
            "The call's rules escalate it to the operators instead of ending the application: it waits for action.",
        ),
    },
  }),
};
