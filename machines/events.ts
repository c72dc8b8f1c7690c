import { z } from 'zod';
import { ThemeSchema } from '../domain/themes';

/*
 * Event naming convention (one for the whole project):
 *   - UPPER_SNAKE_CASE, an imperative verb phrase naming what the sender asks for: ASSIGN_BODY, APPROVE, WITHDRAW.
 *   - Commands come from people (CLI, HTTP); system events are raised only by the workflow itself after an
 *     activity or a timer (CONFIRM_ELIGIBILITY, RECORD_VERIFIED_HOURS, LAPSE...) and are refused from outside.
 *   - Payload fields are camelCase; money is integer euro cents (`...Cents`), rates in basis points (`...Bps`),
 *     dates ISO 8601 (`YYYY-MM-DD`), times `HH:MM`.
 */

const cents = z.number().int().nonnegative();
const text = (max: number) => z.string().trim().min(1).max(max);
const isoDate = z.iso.date();
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM');

export const SessionSchema = z
  .object({
    date: isoDate,
    start: hhmm,
    end: hhmm,
    topic: text(500),
    attendees: z.array(text(200)).min(1, 'at least one attendee').max(50),
  })
  .strict()
  .refine((s) => s.start < s.end, { message: 'end must be after start', path: ['end'] });
export type SessionInput = z.infer<typeof SessionSchema>;

/** The company confirms one session with the single-use code it received by e-mail. */
export const SessionConfirmationSchema = z
  .object({ date: isoDate, start: hhmm, code: z.string().regex(/^\d{6}$/, 'the 6-digit code from the e-mail') })
  .strict();
export type SessionConfirmation = z.infer<typeof SessionConfirmationSchema>;

export const DOCUMENT_KINDS = ['pre_project', 'attachment', 'integration', 'funding'] as const;
export const DocumentUploadSchema = z
  .object({
    kind: z.enum(DOCUMENT_KINDS),
    filename: text(255),
    // A regex, not z.base64(): that one calls atob, which Temporal's workflow sandbox does not have.
    contentBase64: z
      .string()
      .min(1)
      .regex(/^(?:[0-9a-zA-Z+/]{4})*(?:[0-9a-zA-Z+/]{2}==|[0-9a-zA-Z+/]{3}=)?$/, 'standard base64'),
  })
  .strict();
export type DocumentUpload = z.infer<typeof DocumentUploadSchema>;

export const StoredDocumentSchema = z
  .object({
    documentId: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    kind: z.enum(DOCUMENT_KINDS),
    filename: z.string(),
    mediaType: z.string(),
    sizeBytes: z.number().int().positive(),
  })
  .strict();
export type StoredDocument = z.infer<typeof StoredDocumentSchema>;

export const LoanSchema = z
  .object({
    amountCents: cents.positive(),
    annualRateBps: z.number().int().min(0).max(5_000),
    months: z.number().int().min(1).max(360),
  })
  .strict();

export const ImpactIndicatorSchema = z
  .object({
    name: text(200),
    theme: ThemeSchema,
    unit: text(50),
    baseline: z.number().finite(),
    target: z.number().finite(),
    measurementMethod: text(1_000),
  })
  .strict()
  .refine((i) => i.target !== i.baseline, { message: 'target must differ from baseline', path: ['target'] });

export const COST_CATEGORIES = ['equipment', 'services', 'personnel', 'works', 'intangible', 'other'] as const;
export const CostLineSchema = z
  .object({ description: text(300), category: z.enum(COST_CATEGORIES), amountCents: cents.positive() })
  .strict();

export const PreProjectSchema = z
  .object({
    title: text(300),
    summary: text(5_000),
    themes: z.array(ThemeSchema),
    indicators: z.array(ImpactIndicatorSchema).min(1, 'at least one impact indicator'),
    costLines: z.array(CostLineSchema).min(1, 'at least one eligible cost line').max(200),
    grantCents: cents,
    loan: LoanSchema.optional(),
  })
  .strict();
export type PreProject = z.infer<typeof PreProjectSchema>;

/** Eligible cost is the sum of the cost lines: never a separate figure that could disagree with them. */
export const eligibleCostOf = (p: Pick<PreProject, 'costLines'>) =>
  p.costLines.reduce((sum, line) => sum + line.amountCents, 0);

export const IneligibilityReasonSchema = z
  .object({ code: z.string(), field: z.string(), message: z.string() })
  .strict();

const empty = z.object({}).strict();
const motivation = z.object({ motivation: text(5_000) }).strict();

/** Payload schemas of the commands people send, by event type. */
export const commandPayloads = {
  ASSIGN_BODY: z
    .object({
      implementingBody: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]*$/, 'the id of a registered implementing body, e.g. socialfare'),
      consultant: z.object({ name: text(200), email: z.email() }).strict(),
    })
    .strict(),
  LOG_SESSION: z.object({ session: SessionSchema }).strict(),
  CONFIRM_SESSION: SessionConfirmationSchema,
  ATTACH_DOCUMENT: z.object({ document: DocumentUploadSchema }).strict(),
  COMPLETE_ACCOMPANIMENT: empty,
  SUBMIT_PRE_PROJECT: z.object({ preProject: PreProjectSchema }).strict(),
  FORWARD_TO_COMMISSION: empty,
  DECLARE_CONFLICT: z.object({ member: text(200), conflicted: z.boolean() }).strict(),
  SUBMIT_EVALUATION: z
    .object({
      member: text(200),
      scores: z.record(z.string().regex(/^[a-z_]+$/), z.number().int().nonnegative()),
      recommendation: z.enum(['approve', 'reject', 'request_integration']),
      motivation: text(5_000),
    })
    .strict(),
  APPROVE: motivation,
  REJECT: motivation,
  REQUEST_INTEGRATION: motivation,
  RECORD_FUNDING: z.object({ amountCents: cents.positive(), disbursedOn: isoDate }).strict(),
  WITHDRAW: z.object({ reason: text(2_000) }).strict(),
} as const;

/** Payload schemas of the events only the workflow raises. */
export const systemPayloads = {
  CONFIRM_ELIGIBILITY: empty,
  REJECT_INELIGIBLE: z.object({ reasons: z.array(IneligibilityReasonSchema).min(1) }).strict(),
  RECORD_VERIFIED_HOURS: z
    .object({ verifiedMinutes: z.number().int().nonnegative(), discarded: z.array(z.string()) })
    .strict(),
  DOCUMENT_STORED: z.object({ document: StoredDocumentSchema }).strict(),
  LAPSE: z.object({ deadline: z.string(), dueAt: z.string() }).strict(),
  RECORD_BUDGET: z
    .object({ status: z.enum(['reserved', 'waiting']), position: z.number().int().positive().nullable() })
    .strict(),
} as const;

export type CommandType = keyof typeof commandPayloads;
export type SystemEventType = keyof typeof systemPayloads;
export const COMMAND_TYPES = Object.keys(commandPayloads) as CommandType[];
export const SYSTEM_EVENT_TYPES = Object.keys(systemPayloads) as SystemEventType[];

type Payloads = typeof commandPayloads & typeof systemPayloads;
// An empty strict object infers as Record<string, never>, which would forbid even `type`.
type PayloadOf<S extends z.ZodType> = z.infer<S> extends Record<string, never> ? unknown : z.infer<S>;
type EventOf<K extends keyof Payloads> = { type: K } & PayloadOf<Payloads[K]>;

export type ApplicationCommand = { [K in CommandType]: EventOf<K> }[CommandType];
export type SystemEvent = { [K in SystemEventType]: EventOf<K> }[SystemEventType];
export type ApplicationEvent = ApplicationCommand | SystemEvent;

function unionOf<T extends Record<string, z.ZodObject>>(payloads: T) {
  const members = Object.entries(payloads).map(([type, schema]) => schema.extend({ type: z.literal(type) }));
  return z.discriminatedUnion('type', members as unknown as [z.ZodObject, ...z.ZodObject[]]);
}

/** Validates a command from outside: unknown types, system events and bad payloads are all refused. */
export const ApplicationCommandSchema = unionOf(commandPayloads) as unknown as z.ZodType<ApplicationCommand>;

export function isCommandType(type: string): type is CommandType {
  return Object.prototype.hasOwnProperty.call(commandPayloads, type);
}
