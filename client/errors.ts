/**
 * Every error a person can meet, once: its HTTP status, its problem title, and the CLI's exit code. The API's
 * problem+json, the OpenAPI enum and the CLI's exit codes are all read from this table.
 */
export const ERRORS = {
  invalid_input: { status: 400, title: 'Invalid input', exit: 2 },
  unauthorized: { status: 401, title: 'Authentication required', exit: 5 },
  forbidden: { status: 403, title: 'Not allowed', exit: 5 },
  not_found: { status: 404, title: 'Not found', exit: 3 },
  already_applied: { status: 409, title: 'Already applied', exit: 4 },
  event_refused: { status: 409, title: 'Refused by the application lifecycle', exit: 4 },
  document_unavailable: { status: 410, title: 'Document unavailable', exit: 1 },
  payload_too_large: { status: 413, title: 'Payload too large', exit: 2 },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', exit: 2 },
  rate_limited: { status: 429, title: 'Too many requests', exit: 1 },
  internal: { status: 500, title: 'Internal error', exit: 1 },
  temporal_unavailable: { status: 503, title: 'Workflow service unavailable', exit: 1 },
  database_unavailable: { status: 503, title: 'Database unavailable', exit: 1 },
  /** The CLI's own: the API did not answer (the API never sends it). */
  api_unavailable: { status: 503, title: 'API unavailable', exit: 1 },
} as const satisfies Record<string, { status: number; title: string; exit: number }>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

export interface FieldProblem {
  path: string;
  message: string;
}

/** An error a person can act on: a stable code, a one-line message, and where the problem is. */
export class UserError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
  }
}

/** zod issues as "where: what" pairs, for one-line errors and problem+json alike. */
export function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }, prefix = '') {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: i.message,
  }));
}

/** A refusal of invalid input, naming every problem and where it is. */
export function invalid(what: string, error: Parameters<typeof issuesOf>[0], prefix?: string): UserError {
  const issues = issuesOf(error, prefix);
  return new UserError(
    'invalid_input',
    `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  );
}
