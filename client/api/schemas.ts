import { z } from 'zod';
import { USER_ROLES } from '../../domain/roles';
import { APPLICATION_STATES } from '../../machines/application.machine';
import { DOCUMENT_KINDS, PreProjectSchema, SessionSchema } from '../../machines/events';
import {
  CostLineDecisionSchema,
  FinalReportSchema,
  InterimReportSchema,
  ObservationsSchema,
  PROJECT_DOCUMENT_KINDS,
} from '../../machines/project.events';
import { THEMES } from '../../domain/themes';
import { PROJECT_STATUSES } from '../../domain/impact';
import { PROJECT_STATES, type ProjectState } from '../../machines/project.machine';
import { COMMAND_TYPES } from '../../machines/permissions';
import { ERROR_CODES } from '../errors';

/*
 * Every route's schemas, each named once: the routes validate with them, the OpenAPI document is generated from
 * them, and the CLI sends what they accept.
 */

const isoDate = z.iso.date({ error: 'a date as YYYY-MM-DD' });
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM');
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,60}$/, 'lowercase letters, digits and dashes');
const motivation = z.string().trim().min(1).max(5_000);

export const ApplicationIdParams = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9-]+\.[0-9a-f]{20}$/, 'an application id such as innosocialmetro-2023.0123456789abcdef0123'),
  })
  .strict();
export const DocumentParams = ApplicationIdParams.extend({ documentId: z.uuid() }).strict();
export const UserIdParams = z.object({ userId: z.uuid() }).strict();
export const CallParams = z.object({ callId: slug.describe('a call id such as innosocialmetro-2023') }).strict();
export const MailParams = z.object({ messageId: z.string().regex(/^\d{1,18}$/, 'an outbox message id') }).strict();

export const AssignmentBody = z
  .object({
    implementingBody: slug,
    consultant: z.object({ name: z.string().trim().min(1).max(200), email: z.email() }).strict(),
    /** When the assignment was decided: today unless said otherwise; never in the future, never before submission. */
    effectiveOn: isoDate.optional(),
  })
  .strict();
export const SessionBody = z.object({ session: SessionSchema }).strict();
export const SessionSlotBody = z.object({ date: isoDate, start: hhmm }).strict();
/** The company's answer with the code from its e-mail (the code is the credential). */
export const ConfirmationBody = SessionSlotBody.extend({
  code: z.string().regex(/^\d{6}$/, 'the 6-digit code from the e-mail'),
}).strict();
export const UploadBody = z
  .object({
    document: z
      .object({
        kind: z.enum(DOCUMENT_KINDS),
        filename: z.string().trim().min(1).max(255),
        contentBase64: z.base64({ error: 'the file as standard base64' }),
      })
      .strict(),
  })
  .strict();
export const PreProjectBody = z.object({ preProject: PreProjectSchema }).strict();
export const ConflictBody = z.object({ conflicted: z.boolean() }).strict();
export const EvaluationBody = z
  .object({
    scores: z.record(z.string().regex(/^[a-z_]+$/), z.number().int().nonnegative().max(1_000)),
    recommendation: z.enum(['approve', 'reject', 'request_integration']),
    motivation,
  })
  .strict();
export const DecisionBody = z
  .object({ decision: z.enum(['approve', 'reject', 'request_integration']), motivation })
  .strict();
export const decisionEvent = {
  approve: 'APPROVE',
  reject: 'REJECT',
  request_integration: 'REQUEST_INTEGRATION',
} as const;
export const FundingBody = z.object({ amountCents: z.number().int().positive(), disbursedOn: isoDate }).strict();
export const WithdrawalBody = z.object({ reason: z.string().trim().min(1).max(2_000) }).strict();
export const CommandBody = z
  .object({ type: z.enum(COMMAND_TYPES as [string, ...string[]]) })
  .catchall(z.unknown())
  .describe('Any command: its type and payload (machines/events.ts)');
export const BudgetBody = z.object({ totalCents: z.number().int().nonnegative() }).strict();
export const NewUserBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    role: z.enum(USER_ROLES),
    /** Where sign-in links are sent; a consultant's is also their address in the registry. */
    email: z.email().optional(),
    body: slug.optional(),
    chair: z.boolean().default(false),
  })
  .strict()
  .refine((u) => (u.role === 'consultant') === (u.body !== undefined), {
    message: 'a consultant needs a body, and only a consultant has one',
    path: ['body'],
  })
  .refine((u) => !u.chair || u.role === 'commission', {
    message: 'only a commission member can chair',
    path: ['chair'],
  });
export const MailQuery = z
  .object({
    status: z.enum(['pending', 'sent', 'failed']).optional(),
    application: ApplicationIdParams.shape.id.optional(),
  })
  .strict();
export const RequeueBody = z.object({ allFailed: z.literal(true) }).strict();
export const CodecBody = z
  .object({
    payloads: z
      .array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() }).loose())
      .max(1_000),
  })
  .loose();

export const IdempotencyKeyHeader = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{8,128}$/, '8 to 128 characters of A-Z a-z 0-9 . _ : -');

// ---------------------------------------------------------------------------------------------------------------
// Answers

const deadline = z.object({ kind: z.string(), dueAt: z.string() }).nullable();
export const StepResultSchema = z
  .object({
    applicationId: z.string(),
    state: z.enum(APPLICATION_STATES as [string, ...string[]]),
    seq: z.number(),
    deadline,
  })
  .describe('StepResult');
export const ApplicationSummarySchema = z
  .object({
    applicationId: z.string(),
    callId: z.string(),
    state: z.enum(APPLICATION_STATES as [string, ...string[]]),
    companyName: z.string(),
    comune: z.string().nullable(),
    implementingBody: z.string().nullable(),
    themes: z.array(z.string()),
    requestedCents: z.number().nullable(),
    admittedCents: z.number().nullable(),
    fundedCents: z.number().nullable(),
    deadline,
    submittedAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .describe('ApplicationSummary');
export const ApplicationListSchema = z
  .object({ items: z.array(ApplicationSummarySchema), next: z.string().nullable() })
  .describe('ApplicationList');
export const ApplicationViewSchema = ApplicationSummarySchema.extend({
  rulesVersion: z.number(),
  final: z.boolean(),
  seq: z.number(),
  allowedCommands: z.array(z.string()),
  company: z.record(z.string(), z.unknown()),
  consultant: z.record(z.string(), z.unknown()).nullable(),
  facts: z.record(z.string(), z.unknown()).nullable(),
  documents: z.array(z.record(z.string(), z.unknown())),
  timeline: z.array(z.record(z.string(), z.unknown())),
}).describe('ApplicationView');
export const RegistrationSchema = z
  .object({
    applicationId: z.string(),
    eligible: z.boolean(),
    reasons: z.array(z.object({ code: z.string(), field: z.string(), message: z.string() })),
    sizeClass: z.enum(['micro', 'small']).nullable(),
    state: z.string(),
  })
  .describe('Registration');
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(ERROR_CODES),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .describe('Problem');
export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    database: z.object({ ok: z.boolean(), detail: z.string() }),
    temporal: z.object({ ok: z.boolean(), detail: z.string() }),
  })
  .describe('Health');
export const CriteriaSchema = z
  .object({
    callId: z.string(),
    rulesVersion: z.number(),
    quorum: z.number(),
    minimumScoreBps: z.number(),
    criteria: z.array(
      z.object({ code: z.string(), label: z.string(), maxScore: z.number(), guidance: z.string().optional() }),
    ),
  })
  .describe('Criteria');
export const UserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(USER_ROLES),
    email: z.string().nullable(),
    body_id: z.string().nullable(),
    chair: z.boolean(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .describe('User');

// ---------------------------------------------------------------------------------------------------------------
// The funded project (rendicontazione)

export const InterimReportBody = z.object({ report: InterimReportSchema }).strict();
export const FinalReportBody = z.object({ report: FinalReportSchema }).strict();
export const VerificationBody = z.object({ costLines: z.array(CostLineDecisionSchema).min(1).max(200) }).strict();
export const RevocationBody = z
  .object({ reasons: z.array(z.string().trim().min(1).max(2_000)).min(1).max(20) })
  .strict();
export const ObservationsBody = z.object({ observations: ObservationsSchema }).strict();
export const ProjectDecisionBody = z.object({ decision: z.enum(['confirm', 'drop']), motivation }).strict();
export const ExtensionBody = z
  .object({ months: z.number().int().positive().max(60), reason: z.string().trim().min(1).max(2_000) })
  .strict();
export const RepaymentBody = z.object({ amountCents: z.number().int().positive(), repaidOn: isoDate }).strict();
export const ProjectUploadBody = z
  .object({
    document: z
      .object({
        kind: z.enum(PROJECT_DOCUMENT_KINDS),
        filename: z.string().trim().min(1).max(255),
        contentBase64: z.base64({ error: 'the file as standard base64' }),
      })
      .strict(),
  })
  .strict();
export const ImpactQuery = z
  .object({
    call: slug.optional(),
    theme: z.enum(THEMES).optional(),
    format: z.enum(['json', 'csv', 'indicators.csv']).default('json'),
  })
  .strict();
export const DeliveredSchema = z
  .object({ delivered: z.literal(true), applicationId: z.string() })
  .describe('Delivered: the command travels as a signal (Prefer: respond-async)');
/** The company's answers: they say it was taken, and nothing of the application. */
export const ConfirmedSchema = z
  .object({ confirmed: z.literal(true) })
  .strict()
  .describe('Confirmed');
export const DisputedSchema = z
  .object({ disputed: z.literal(true) })
  .strict()
  .describe('Disputed');
export const UserListSchema = z.array(UserSchema).describe('Users');
export const NewUserSchema = z
  .object({ user: UserSchema, token: z.string().describe('The bearer token, shown this once') })
  .describe('NewUser');
export const RevokedSchema = z.object({ revoked: z.string() }).describe('Revoked');
export const BodyListSchema = z
  .array(
    z.object({
      id: z.string(),
      name: z.string(),
      active: z.boolean(),
      consultants: z.array(z.object({ id: z.string(), name: z.string(), email: z.string(), active: z.boolean() })),
    }),
  )
  .describe('Bodies');
export const PreProjectVersionsSchema = z
  .array(
    z.object({
      version: z.number(),
      content: z.record(z.string(), z.unknown()),
      digest: z.string(),
      submittedAt: z.string(),
      forwardedAt: z.string().nullable(),
    }),
  )
  .describe('PreProjectVersions');
const budgetEntry = z.object({ applicationId: z.string(), amountCents: z.number(), reservedAt: z.string().nullable() });
export const BudgetSchema = z
  .object({
    callId: z.string(),
    totalCents: z.number(),
    committedCents: z.number(),
    availableCents: z.number(),
    reserved: z.array(budgetEntry),
    consumed: z.array(budgetEntry),
    waiting: z.array(
      z.object({ applicationId: z.string(), amountCents: z.number(), position: z.number(), requestedAt: z.string() }),
    ),
  })
  .describe('Budget');
export const BudgetListSchema = z.array(BudgetSchema).describe('Budgets');
export const BudgetSetSchema = BudgetSchema.extend({ promoted: z.array(z.string()) }).describe('BudgetSet');
export const OutboxSchema = z
  .array(
    z.object({
      id: z.string(),
      applicationId: z.string().nullable(),
      recipient: z.string(),
      template: z.string(),
      locale: z.string(),
      status: z.enum(['pending', 'sent', 'failed']),
      createdAt: z.string(),
      sentAt: z.string().nullable(),
      attempts: z.number(),
      lastError: z.string().nullable(),
    }),
  )
  .describe('Outbox');
export const RequeuedSchema = z.object({ requeued: z.array(z.string()) }).describe('Requeued');
export const CodecAnswerSchema = z
  .object({ payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()), data: z.string() })) })
  .describe('Decoded payloads');
export const KeyUsageQuery = z.object({ call: slug.optional() }).strict();
export const KeyUsageSchema = z
  .object({
    active: z.string(),
    keys: z.array(z.object({ id: z.string(), inRing: z.boolean(), active: z.boolean(), workflows: z.number() })),
    workflows: z.number(),
  })
  .describe('KeyUsage');
export const OpenApiSchema = z
  .object({
    openapi: z.string(),
    info: z.object({ title: z.string(), version: z.string() }).loose(),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .loose()
  .describe('OpenAPI');

// The funded project's answers.
const projectDeadline = z
  .object({ kind: z.string(), startsOn: z.string(), dueOn: z.string(), dueAt: z.string() })
  .nullable();
export const ProjectViewSchema = z
  .object({
    applicationId: z.string(),
    callId: z.string(),
    state: z.enum(PROJECT_STATES as [ProjectState, ...ProjectState[]]),
    status: z.enum(PROJECT_STATUSES),
    final: z.boolean(),
    seq: z.number(),
    deadline: projectDeadline,
    allowedCommands: z.array(z.string()),
    preProject: z
      .object({
        version: z.number(),
        title: z.string(),
        indicators: z.array(z.record(z.string(), z.unknown())),
        costLines: z.array(z.record(z.string(), z.unknown())),
      })
      .describe(
        "The admitted pre-project's indicators and cost lines: what the final report accounts for, by position",
      ),
    admittedGrantCents: z.number(),
    admittedSubsidyCents: z.number(),
    disbursedCents: z.number(),
    disbursedOn: z.string(),
    realisationEndsOn: z.string(),
    finalReportDueOn: z.string().nullable().describe('Null once the final report is in'),
    interimReports: z.number(),
    extension: z.record(z.string(), z.unknown()).nullable(),
    finalReport: z.record(z.string(), z.unknown()).nullable().describe('The final report as submitted'),
    verification: z.record(z.string(), z.unknown()).nullable().describe('Cost lines accepted or cut, and the money'),
    intention: z.record(z.string(), z.unknown()).nullable().describe('An intended reduction or revocation'),
    pastIntentions: z.array(z.record(z.string(), z.unknown())),
    recovery: z
      .object({
        kind: z.string(),
        orderedCents: z.number(),
        repaidCents: z.number(),
        outstandingCents: z.number(),
      })
      .nullable(),
    reports: z.array(z.object({ kind: z.string(), number: z.number(), submittedAt: z.unknown() })),
    timeline: z.array(
      z.object({
        seq: z.number(),
        at: z.string(),
        event: z.string(),
        from: z.string().nullable(),
        to: z.string(),
        role: z.string(),
        summary: z.unknown(),
      }),
    ),
  })
  .describe('Project');
export const ProjectDocumentSchema = z
  .object({ sha256: z.string(), kind: z.enum(PROJECT_DOCUMENT_KINDS), sizeBytes: z.number(), documentId: z.string() })
  .describe('ProjectDocument');
const impactGroup = z.object({
  callId: z.string().nullable(),
  theme: z.string().nullable(),
  projects: z.number(),
  statuses: z.record(z.enum(PROJECT_STATUSES), z.number()),
  grantedCents: z.number(),
  disbursedCents: z.number(),
  recoveredCents: z.number(),
  indicators: z.array(
    z.object({
      callId: z.string(),
      name: z.string(),
      theme: z.string(),
      unit: z.string(),
      baseline: z.number(),
      target: z.number(),
      measurementMethod: z.string().optional(),
      measured: z.number().nullable(),
      achievementBps: z.number().nullable(),
      reached: z.boolean().nullable(),
      beyondTarget: z.boolean(),
      wrongSide: z.boolean(),
      note: z.string(),
    }),
  ),
  indicatorsMeasured: z.number(),
  indicatorsReached: z.number(),
  averageAchievementBps: z.number().nullable(),
});
export const ImpactReportSchema = z
  .object({
    total: impactGroup,
    byCall: z.array(impactGroup),
    byTheme: z.array(impactGroup),
    byCallAndTheme: z.array(impactGroup),
  })
  .describe('ImpactReport (format=json; the CSV formats answer text/csv)');
