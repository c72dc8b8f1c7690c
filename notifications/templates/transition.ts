import { z } from 'zod';
import { formatEuro, type Locale } from '../../domain/format';
import type { ApplicationState } from '../../machines/application.machine';
import {
  applicationStateSchema,
  applicationSubject,
  audienceSchema,
  deadlineFact,
  deadlineSchema,
  defineTemplate,
  greeting,
  ids,
  LABELS,
  nameSchema,
  roleSchema,
  stateWords,
  type Fact,
} from './common';

// What every `application.<state>` message shares: its payload contract and its frame (greeting, facts, quotes);
// applications.ts holds what each state's message says.

/** The payload of `application.<state>`: everything the message about entering `state` may say. */
const transitionSchema = <S extends ApplicationState>(to: S) =>
  z.strictObject({
    ...ids,
    audience: audienceSchema,
    /** The person greeted; null greets the role. */
    recipientName: nameSchema.nullable(),
    from: applicationStateSchema.nullable(),
    to: z.literal(to),
    event: z.string().min(1),
    /** Who caused the transition: a withdrawal reads differently from the company and from an operator. */
    actorRole: roleSchema,
    deadline: deadlineSchema.nullable(),
    motivation: z.string().min(1).nullable(),
    /** Ineligibility reasons in words; empty otherwise. */
    reasons: z.array(z.string().min(1)),
    amountCents: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable(),
    /** The accompaniment hours the application's pinned rules require. */
    minimumHours: z.number().positive(),
    companyName: z.string().min(1),
    bodyName: z.string().min(1).nullable(),
    consultantName: nameSchema.nullable(),
    /** An admission waiting for money: its place on the call's reserve list. Absent from messages queued before. */
    reserveListPosition: z.number().int().positive().nullable().default(null),
  });
export type TransitionPayload<S extends ApplicationState = ApplicationState> = z.output<
  ReturnType<typeof transitionSchema<S>>
>;

/** What one state's message says in one language; `stateTemplate` adds the greeting and the facts. */
export interface StateWording {
  /** The new state in plain words: it ends the subject and heads the message. */
  state: string;
  paragraphs: string[];
  /** How the amount is labelled (grant admitted, sum disbursed). */
  amountLabel?: string;
}

export function stateTemplate<S extends ApplicationState>(
  to: S,
  words: Record<Locale, (p: TransitionPayload<S>) => StateWording>,
) {
  const message = (locale: Locale) => (p: TransitionPayload<S>) => {
    const w = words[locale](p);
    const l = LABELS[locale];
    const facts: Fact[] = [
      [l.application, p.applicationId],
      [l.call, p.callId],
      [l.company, p.companyName],
      [l.state, w.state],
    ];
    if (p.from) facts.push([l.from, stateWords(p.from, locale)]);
    if (p.bodyName) facts.push([l.body, p.bodyName]);
    if (p.consultantName) facts.push([l.consultant, p.consultantName]);
    if (p.deadline) facts.push(deadlineFact(p.deadline, locale));
    if (p.amountCents !== null) facts.push([w.amountLabel ?? l.amount, formatEuro(p.amountCents, locale)]);
    const sections = [];
    if (p.motivation) sections.push({ title: l.motivation, text: p.motivation });
    if (p.reasons.length > 0) sections.push({ title: l.reasons, items: p.reasons });
    return {
      subject: applicationSubject(locale, p.applicationId, w.state),
      heading: w.state,
      greeting: greeting(locale, p.recipientName, p.audience),
      paragraphs: w.paragraphs,
      facts,
      sections,
    };
  };
  return defineTemplate({ schema: transitionSchema(to), secret: [], words: { it: message('it'), en: message('en') } });
}
