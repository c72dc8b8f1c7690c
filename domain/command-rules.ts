/*
 * The rules of a command that a JSON Schema cannot say (one field compared with another). One definition for both
 * checks: the door's zod schemas refine with them (machines/events.ts), and the workflow's light check
 * (workflows/check.ts) applies them after the generated schema, so a command that skipped the door (a signal sent
 * with the keys but not through the API) is refused with the same words, never stored half-valid.
 */

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const hhmmOk = (v: unknown): v is string => typeof v === 'string' && HHMM.test(v);

export const COMMAND_RULES = {
  /** Compared only once both times are well formed: a malformed one gets its own message, not this one. */
  sessionTimesInOrder: {
    holds: (s: { start?: unknown; end?: unknown }) => !hhmmOk(s.start) || !hhmmOk(s.end) || s.start < s.end,
    path: 'end',
    message: 'end must be after start',
  },
  oneCredential: {
    holds: (a: { code?: unknown; link?: unknown }) => (a.code === undefined) !== (a.link === undefined),
    path: 'code',
    message: 'give either the code from the e-mail or the link token, not both',
  },
  targetDiffersFromBaseline: {
    holds: (i: { target?: unknown; baseline?: unknown }) => i.target !== i.baseline,
    path: 'target',
    message: 'target must differ from baseline',
  },
} as const;
