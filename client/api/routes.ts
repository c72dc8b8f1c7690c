import { z } from 'zod';
import { APPLICATION_STATES } from '../../machines/application.machine';
import {
  COMMAND_TYPES,
  DocumentUploadSchema,
  PreProjectSchema,
  SessionConfirmationSchema,
  SessionSchema,
} from '../../machines/events';
import { ThemeSchema } from '../../domain/themes';

/*
 * The schemas the routes validate with; the OpenAPI document is generated from these same objects.
 */

export const ApplicationIdParams = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9-]+\.[0-9a-f]{20}$/, 'an application id such as innosocialmetro-2023.0123456789abcdef0123'),
  })
  .strict();
export const DocumentParams = ApplicationIdParams.extend({ documentId: z.uuid() }).strict();
export const UserIdParams = z.object({ userId: z.uuid() }).strict();
export const CallParams = z.object({ callId: z.string().regex(/^[a-z0-9][a-z0-9-]{1,40}$/, 'a call id') }).strict();

export const ListQuery = z
  .object({
    state: z.enum(APPLICATION_STATES as unknown as [string, ...string[]]).optional(),
    call: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,40}$/)
      .optional(),
    body: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .optional(),
    theme: ThemeSchema.optional(),
  })
  .strict();

export const DecisionBody = z
  .object({
    decision: z.enum(['approve', 'reject', 'request_integration']),
    motivation: z.string().trim().min(1).max(5_000),
  })
  .strict();

export const decisionEvent = {
  approve: 'APPROVE',
  reject: 'REJECT',
  request_integration: 'REQUEST_INTEGRATION',
} as const;

export const ConflictBody = z.object({ conflicted: z.boolean() }).strict();
export const EvaluationBody = z
  .object({
    scores: z.record(z.string().regex(/^[a-z_]+$/), z.number().int().nonnegative().max(1_000)),
    recommendation: z.enum(['approve', 'reject', 'request_integration']),
    motivation: z.string().trim().min(1).max(5_000),
  })
  .strict();
export const SessionBody = z.object({ session: SessionSchema }).strict();
export const DocumentBody = z.object({ document: DocumentUploadSchema }).strict();
export const PreProjectBody = z.object({ preProject: PreProjectSchema }).strict();
export const ConfirmationBody = SessionConfirmationSchema;

export const NewUserBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    role: z.enum(['operator', 'consultant', 'commission', 'auditor']),
    body: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .optional(),
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

export const IdempotencyKeyHeader = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{8,128}$/, '8 to 128 characters of A-Z a-z 0-9 . _ : -');

export const ApplicationViewSchema = z
  .object({
    applicationId: z.string(),
    callId: z.string(),
    rulesVersion: z.number().int(),
    state: z.enum(APPLICATION_STATES as unknown as [string, ...string[]]),
    final: z.boolean(),
    allowedCommands: z.array(z.enum(COMMAND_TYPES as unknown as [string, ...string[]])),
    deadline: z.object({ kind: z.string(), dueAt: z.string() }).nullable(),
    transitions: z.number().int(),
    facts: z.record(z.string(), z.unknown()),
    refusedSignals: z.array(z.object({ type: z.string(), reason: z.string(), at: z.string() })),
    timeline: z.array(z.record(z.string(), z.unknown())),
  })
  .describe('ApplicationView');

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum([
      'invalid_input',
      'unauthorized',
      'forbidden',
      'rate_limited',
      'document_unavailable',
      'not_found',
      'already_applied',
      'event_refused',
      'temporal_unavailable',
      'payload_too_large',
      'unsupported_media_type',
      'internal',
    ]),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string().optional(), message: z.string() })).optional(),
  })
  .describe('Problem');

export const HealthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.object({ ok: z.boolean(), detail: z.string() }),
  temporal: z.object({ ok: z.boolean(), detail: z.string() }),
});
