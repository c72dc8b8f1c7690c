import { z } from 'zod';

/*
 * Events of a funded project (the machine in project.machine.ts), named as in events.ts: commands are UPPER_SNAKE_CASE
 * imperative verbs sent by people; system events (END_REALISATION, EXPIRE_REPORT_DEADLINE, END_OBSERVATION_PERIOD)
 * are raised only by the project's workflow when one of its timers fires, and are refused from outside.
 * Money is integer euro cents (`...Cents`), dates `YYYY-MM-DD`.
 *
 * Documents are uploaded and stored elsewhere (by SHA-256, like the application's); a report only names them by
 * digest, kind and size, so the workflow can check each one is stored before the report counts.
 */

const cents = z.number().int().nonnegative();
const text = (max: number) => z.string().trim().min(1).max(max);
const isoDate = z.iso.date();
/** The position of a line in the forwarded pre-project, counted from 1 as people read the list. */
const position = z.number().int().positive().max(1_000);

export const PROJECT_DOCUMENT_KINDS = [
  'indicator_evidence',
  'invoice',
  'payment_proof',
  'interim_report',
  'observations',
  'other',
] as const;

export const DocumentRefSchema = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the SHA-256 of a stored document: 64 lowercase hexadecimal digits'),
    kind: z.enum(PROJECT_DOCUMENT_KINDS),
    sizeBytes: z.number().int().positive(),
  })
  .strict();
export type DocumentRef = z.infer<typeof DocumentRefSchema>;

/** One indicator of the pre-project, measured. The name repeats the pre-project's, so a misnumbered line is caught. */
export const MeasuredIndicatorSchema = z
  .object({
    indicator: position,
    name: text(200),
    measured: z.number().finite(),
    measuredOn: isoDate,
    evidence: DocumentRefSchema,
  })
  .strict();
export type MeasuredIndicator = z.infer<typeof MeasuredIndicatorSchema>;

/** One cost line of the pre-project, with what was actually spent on it and the invoices that show it. */
export const SpentCostLineSchema = z
  .object({
    costLine: position,
    description: text(300),
    spentCents: cents,
    documents: z.array(DocumentRefSchema).max(200),
  })
  .strict();
export type SpentCostLine = z.infer<typeof SpentCostLineSchema>;

/**
 * The final report (rendicontazione). The schema checks each line's shape; that every indicator and cost line of
 * the pre-project is there exactly once, and nothing else, is the machine's guard (it has the pre-project).
 */
export const FinalReportSchema = z
  .object({
    narrative: text(10_000),
    indicators: z.array(MeasuredIndicatorSchema).min(1, 'at least one measured indicator').max(100),
    costLines: z.array(SpentCostLineSchema).min(1, 'at least one cost line').max(200),
  })
  .strict();
export type FinalReport = z.infer<typeof FinalReportSchema>;

/** An interim progress report (SAL): optional, any number of them while the project is carried out. */
export const InterimReportSchema = z
  .object({
    asOf: isoDate,
    narrative: text(5_000),
    spentToDateCents: cents,
    documents: z.array(DocumentRefSchema).max(200),
  })
  .strict();
export type InterimReport = z.infer<typeof InterimReportSchema>;

/** The operator's verdict on one cost line: what is accepted of what was spent; a cut needs its reason. */
export const CostLineDecisionSchema = z
  .object({ costLine: position, acceptedCents: cents, reason: text(2_000).optional() })
  .strict();
export type CostLineDecision = z.infer<typeof CostLineDecisionSchema>;

/** The company's observations on an intended reduction or revocation, as received (law 241/1990). */
export const ObservationsSchema = z
  .object({ receivedOn: isoDate, summary: text(10_000), documents: z.array(DocumentRefSchema).max(50) })
  .strict();
export type Observations = z.infer<typeof ObservationsSchema>;

const motivation = z.object({ motivation: text(5_000) }).strict();

/** Payload schemas of the commands people send, by event type. */
export const projectCommandPayloads = {
  SUBMIT_INTERIM_REPORT: z.object({ report: InterimReportSchema }).strict(),
  EXTEND_REALISATION: z.object({ months: z.number().int().positive().max(60), reason: text(2_000) }).strict(),
  SUBMIT_FINAL_REPORT: z.object({ report: FinalReportSchema }).strict(),
  VERIFY_REPORT: z.object({ costLines: z.array(CostLineDecisionSchema).min(1).max(200) }).strict(),
  START_REVOCATION: z.object({ reasons: z.array(text(2_000)).min(1, 'at least one reason').max(20) }).strict(),
  SUBMIT_OBSERVATIONS: z.object({ observations: ObservationsSchema }).strict(),
  CONFIRM_REDUCTION: motivation,
  DROP_REDUCTION: motivation,
  CONFIRM_REVOCATION: motivation,
  DROP_REVOCATION: motivation,
  WITHDRAW: z.object({ reason: text(2_000) }).strict(),
  RECORD_REPAYMENT: z.object({ amountCents: cents.positive(), repaidOn: isoDate }).strict(),
} as const;

/** Payload schemas of the events only the project's workflow raises, when a timer fires. */
export const projectSystemPayloads = {
  END_REALISATION: z.object({ endedOn: isoDate }).strict(),
  EXPIRE_REPORT_DEADLINE: z.object({ dueOn: isoDate }).strict(),
  END_OBSERVATION_PERIOD: z.object({ endedOn: isoDate }).strict(),
} as const;

export type ProjectCommandType = keyof typeof projectCommandPayloads;
export type ProjectSystemEventType = keyof typeof projectSystemPayloads;
export const PROJECT_COMMAND_TYPES = Object.keys(projectCommandPayloads) as ProjectCommandType[];
export const PROJECT_SYSTEM_EVENT_TYPES = Object.keys(projectSystemPayloads) as ProjectSystemEventType[];

type Payloads = typeof projectCommandPayloads & typeof projectSystemPayloads;
type EventOf<K extends keyof Payloads> = { type: K } & z.infer<Payloads[K]>;

export type ProjectCommand = { [K in ProjectCommandType]: EventOf<K> }[ProjectCommandType];
export type ProjectSystemEvent = { [K in ProjectSystemEventType]: EventOf<K> }[ProjectSystemEventType];
export type ProjectEvent = ProjectCommand | ProjectSystemEvent;

function unionOf<T extends Record<string, z.ZodObject>>(payloads: T) {
  const members = Object.entries(payloads).map(([type, schema]) => schema.extend({ type: z.literal(type) }));
  return z.discriminatedUnion('type', members as unknown as [z.ZodObject, ...z.ZodObject[]]);
}

/** Validates a command from outside: unknown types, system events and bad payloads are all refused. */
export const ProjectCommandSchema = unionOf(projectCommandPayloads) as unknown as z.ZodType<ProjectCommand>;

export function isProjectCommandType(type: string): type is ProjectCommandType {
  return Object.prototype.hasOwnProperty.call(projectCommandPayloads, type);
}
