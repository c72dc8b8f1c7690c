import type { FastifyReply } from 'fastify';
import { ERRORS, type ErrorCode, type FieldProblem, type UserError } from '../errors';

/** RFC 9457 problem details; `code` is stable and documented, `errors` names the offending fields. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  errors?: FieldProblem[];
}

export function problem(code: ErrorCode, detail: string, errors?: FieldProblem[]): Problem {
  const { status, title } = ERRORS[code];
  return { type: `urn:innosocial:problem:${code}`, title, status, code, detail, ...(errors?.length ? { errors } : {}) };
}

export const fromUserError = (err: UserError) => problem(err.code, err.message, err.details);

export function sendProblem(reply: FastifyReply, p: Problem) {
  return reply.status(p.status).type('application/problem+json').send(p);
}
