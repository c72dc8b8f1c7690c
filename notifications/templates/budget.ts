import { z } from 'zod';
import { formatEuro, type Locale } from '../../domain/format';
import {
  applicationSubject,
  audienceSchema,
  deadlineFact,
  deadlineSchema,
  defineTemplate,
  greeting,
  ids,
  LABELS,
  nameSchema,
  type Message,
} from './common';

const reservedSchema = z.strictObject({
  ...ids,
  audience: audienceSchema,
  /** The person greeted; null greets the role. */
  recipientName: nameSchema.nullable(),
  companyName: z.string().min(1),
  /** Grant plus interest subsidy, now reserved on the call's budget. */
  amountCents: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** The disbursement's deadline, which starts with the reservation. */
  deadline: deadlineSchema.nullable(),
});
type Reserved = z.output<typeof reservedSchema>;

const HEADING: Record<Locale, string> = {
  it: 'risorse disponibili, domanda fuori dalla lista di attesa',
  en: 'money available, application off the reserve list',
};

function reservedMessage(locale: Locale, p: Reserved, paragraph: string): Message {
  const l = LABELS[locale];
  return {
    subject: applicationSubject(locale, p.applicationId, HEADING[locale]),
    heading: HEADING[locale],
    greeting: greeting(locale, p.recipientName, p.audience),
    paragraphs: [paragraph],
    facts: [
      [l.application, p.applicationId],
      [l.call, p.callId],
      [l.company, p.companyName],
      [l.amount, formatEuro(p.amountCents, locale)],
      ...(p.deadline ? [deadlineFact(p.deadline, locale)] : []),
    ],
  };
}

export const BUDGET_TEMPLATES = {
  /**
   * An admission that waited on the reserve list has its money reserved (a withdrawal, a lapse, a repayment or a
   * larger budget freed it): the company learns its support is secured, the operators that they can disburse.
   */
  'budget.reserved': defineTemplate({
    schema: reservedSchema,
    secret: [],
    words: {
      it: (p) =>
        reservedMessage(
          'it',
          p,
          p.audience === 'operator'
            ? `per la domanda ${p.applicationId} di ${p.companyName}, ammessa e in lista d'attesa, le risorse ` +
                "sono ora riservate sul bilancio del bando: si può registrare l'erogazione."
            : `le risorse per la domanda ${p.applicationId} di ${p.companyName} sono ora riservate sul bilancio ` +
                "del bando: la domanda non è più in lista d'attesa e l'agevolazione sarà erogata.",
        ),
      en: (p) =>
        reservedMessage(
          'en',
          p,
          p.audience === 'operator'
            ? `Application ${p.applicationId} of ${p.companyName}, admitted and on the reserve list, now has ` +
                "its money reserved on the call's budget: the disbursement can be recorded."
            : `The money for application ${p.applicationId} of ${p.companyName} is now reserved on the call's ` +
                'budget: the application is off the reserve list and the support will be disbursed.',
        ),
    },
  }),
};
