import { z } from 'zod';
import { COMMAND_RULES } from '../domain/command-rules';
import { ThemeSchema } from '../domain/themes';
import { PROJECT_DOCUMENT_KINDS } from './project.events';

/*
 * Event naming convention (one for the whole project):
 *   - UPPER_SNAKE_CASE, an imperative verb phrase naming what the sender asks for: ASSIGN_BODY, APPROVE, WITHDRAW.
 *   - Commands come from people (CLI, HTTP, pages); system events are raised only by the workflow itself after an
 *     activity or a timer (CONFIRM_ELIGIBILITY, RECORD_VERIFIED_HOURS, LAPSE...) and are refused from outside.
 *   - Payload fields are camelCase; money is integer euro cents (`...Cents`), rates in basis points (`...Bps`),
 *     dates ISO 8601 (`YYYY-MM-DD`), times `HH:MM`.
 *
 * These zod schemas validate every payload at the door (API, service). Workflow code never imports zod: it reads
 * the types from here (`import type`) and checks payloads against the JSON Schemas generated from these
 * (workflows/command-schemas.json: `npx tsx scripts/generate-command-schemas.ts`).
 */

const cents = z.number().int().nonnegative();
const text = (max: number) => z.string().trim().min(1).max(max);
const isoDate = z.iso.date({ error: 'a date as YYYY-MM-DD' });
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 digest (64 hex digits)');

export const SessionSchema = z
  .object({
    date: isoDate,
    start: hhmm,
    end: hhmm,
    topic: text(500),
    attendees: z.array(text(200)).min(1, 'at least one attendee').max(50),
  })
  .strict()
  .refine(COMMAND_RULES.sessionTimesInOrder.holds, {
    message: COMMAND_RULES.sessionTimesInOrder.message,
    path: [COMMAND_RULES.sessionTimesInOrder.path],
  });
export type SessionInput = z.infer<typeof SessionSchema>;

/** The session a company answers for, and its credential: the 6-digit code, or the personal link's token. */
const SessionAnswer = z
  .object({
    date: isoDate,
    start: hhmm,
    code: z
      .string()
      .regex(/^\d{6}$/, 'the 6-digit code from the e-mail')
      .optional(),
    link: z.string().min(20).max(400).optional(),
  })
  .strict()
  .refine(COMMAND_RULES.oneCredential.holds, {
    message: COMMAND_RULES.oneCredential.message,
    path: [COMMAND_RULES.oneCredential.path],
  });
export type SessionAnswer = z.infer<typeof SessionAnswer>;

/** What a document is: the application's kinds, then those a funded project's reports refer to. */
export const APPLICATION_DOCUMENT_KINDS = ['pre_project', 'attachment', 'integration', 'funding'] as const;
export const DOCUMENT_KINDS = [...APPLICATION_DOCUMENT_KINDS, ...PROJECT_DOCUMENT_KINDS] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** A document the API has already stored (PostgreSQL, by SHA-256): the command carries its reference only. */
export const StoredDocumentSchema = z
  .object({
    documentId: z.uuid(),
    sha256,
    kind: z.enum(DOCUMENT_KINDS),
    mediaType: z.string().min(1).max(100),
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
  .refine(COMMAND_RULES.targetDiffersFromBaseline.holds, {
    message: COMMAND_RULES.targetDiffersFromBaseline.message,
    path: [COMMAND_RULES.targetDiffersFromBaseline.path],
  });

export const COST_CATEGORIES = ['equipment', 'services', 'personnel', 'works', 'intangible', 'other'] as const;
export const CostLineSchema = z
  .object({ description: text(300), category: z.enum(COST_CATEGORIES), amountCents: cents.positive() })
  .strict();

export const PreProjectSchema = z
  .object({
    title: text(300),
    summary: text(5_000),
    themes: z.array(ThemeSchema),
    indicators: z.array(ImpactIndicatorSchema).min(1, 'at least one impact indicator').max(50),
    costLines: z.array(CostLineSchema).min(1, 'at least one eligible cost line').max(200),
    grantCents: cents,
    loan: LoanSchema.optional(),
  })
  .strict();

export type PreProjectPayload = z.infer<typeof PreProjectSchema>;

export const IneligibilityReasonSchema = z
  .object({ code: z.string(), field: z.string(), message: z.string().optional() })
  .strict();
export type IneligibilityReason = z.infer<typeof IneligibilityReasonSchema>;

const empty = z.object({}).strict();
const member = z.uuid({ error: "a commission member's user id" });
/** The chair (or the quorum's spokesperson) who records a decision: a declared conflict of interest bars them. */
const decision = z.object({ motivation: text(5_000), chair: member }).strict();
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'the id of a registered implementing body, e.g. socialfare');

/** Payload schemas of the commands people send, by event type. */
export const commandPayloads = {
  ASSIGN_BODY: z
    .object({
      implementingBody: slug,
      consultantId: z.uuid({ error: "the consultant's id in the registry" }),
      /** When the assignment was decided: it starts the accompaniment's clock. */
      effectiveOn: isoDate,
    })
    .strict(),
  LOG_SESSION: z.object({ session: SessionSchema }).strict(),
  CONFIRM_SESSION: SessionAnswer,
  DISPUTE_SESSION: SessionAnswer,
  RESEND_SESSION_CODE: z.object({ date: isoDate, start: hhmm }).strict(),
  ATTACH_DOCUMENT: z.object({ document: StoredDocumentSchema }).strict(),
  COMPLETE_ACCOMPANIMENT: empty,
  SUBMIT_PRE_PROJECT: z.object({ preProject: PreProjectSchema }).strict(),
  FORWARD_TO_COMMISSION: empty,
  DECLARE_CONFLICT: z.object({ member, conflicted: z.boolean() }).strict(),
  SUBMIT_EVALUATION: z
    .object({
      member,
      scores: z.record(z.string().regex(/^[a-z_]+$/), z.number().int().nonnegative().max(1_000)),
      recommendation: z.enum(['approve', 'reject', 'request_integration']),
      motivation: text(5_000),
    })
    .strict(),
  APPROVE: decision,
  REJECT: decision,
  REQUEST_INTEGRATION: decision,
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
  LAPSE: z.object({ deadline: z.string(), dueAt: z.string() }).strict(),
  RECORD_BUDGET: z
    .object({ status: z.enum(['reserved', 'waiting']), position: z.number().int().positive().nullable() })
    .strict(),
} as const;

export type CommandType = keyof typeof commandPayloads;
export type SystemEventType = keyof typeof systemPayloads;

type Payloads = typeof commandPayloads & typeof systemPayloads;
// An empty strict object infers as Record<string, never>, which would forbid even `type`.
type PayloadOf<S extends z.ZodType> = z.infer<S> extends Record<string, never> ? unknown : z.infer<S>;
type EventOf<K extends keyof Payloads> = { type: K } & PayloadOf<Payloads[K]>;

export type ApplicationCommand = { [K in CommandType]: EventOf<K> }[CommandType];
export type SystemEvent = { [K in SystemEventType]: EventOf<K> }[SystemEventType];
export type ApplicationEvent = ApplicationCommand | SystemEvent;
export type CommandOf<K extends CommandType> = EventOf<K>;

const isCommandType = (type: unknown): type is CommandType =>
  typeof type === 'string' && Object.prototype.hasOwnProperty.call(commandPayloads, type);

/**
 * Validates a command from outside: unknown types, system events and bad payloads are all refused, each issue
 * with its path inside the payload (`session.end`, `preProject.costLines.0.amountCents`).
 */
export function parseCommand(raw: unknown): z.ZodSafeParseResult<ApplicationCommand> {
  const { type, ...payload } = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if (!isCommandType(type)) {
    const message =
      typeof type === 'string' && type in systemPayloads
        ? `${type} is raised by the system, not sent`
        : `unknown command; one of ${Object.keys(commandPayloads).join(', ')}`;
    const error = new z.ZodError([{ code: 'custom', path: ['type'], message, input: type }]);
    return { success: false, error: error as z.ZodError<ApplicationCommand> };
  }
  const parsed = (commandPayloads[type] as z.ZodType).safeParse(payload);
  if (!parsed.success) return parsed as z.ZodSafeParseResult<ApplicationCommand>;
  return { success: true, data: { type, ...(parsed.data as object) } as ApplicationCommand };
}
