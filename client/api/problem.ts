import type { FastifyReply } from 'fastify';
import { statusOf, type ErrorCode, type UserError } from '../errors';

/** RFC 9457 problem details; `code` is stable and documented, `errors` names the offending fields. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  errors?: { path?: string; message: string }[];
}

const titles: Record<string, string> = {
  invalid_input: 'Invalid input',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  rate_limited: 'Too many requests',
  document_unavailable: 'Document unavailable',
  not_found: 'Not found',
  already_applied: 'Already applied',
  event_refused: 'Refused by the application lifecycle',
  temporal_unavailable: 'Workflow service unavailable',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  internal: 'Internal error',
};

export function problem(
  code: ErrorCode | 'payload_too_large' | 'unsupported_media_type',
  status: number,
  detail: string,
  errors?: Problem['errors'],
): Problem {
  return {
    type: `urn:innosocial:problem:${code}`,
    title: titles[code] ?? code,
    status,
    code,
    detail,
    ...(errors?.length ? { errors } : {}),
  };
}

export const fromUserError = (err: UserError) => problem(err.code, statusOf(err.code), err.message, err.details);

export function sendProblem(reply: FastifyReply, p: Problem) {
  return reply.status(p.status).type('application/problem+json').send(p);
}
