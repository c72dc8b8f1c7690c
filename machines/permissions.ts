import type { Role } from '../domain/roles';
import type { ApplicationEvent, CommandType } from './events';
import type { ProjectCommandType } from './project.events';

/**
 * Which commands each role may send. The doors check who is asking (tokens, links, object ownership); the workflow
 * checks this again, so a command that slipped past a door is still refused.
 */
export const COMMANDS_BY_ROLE = {
  operator: [
    'ASSIGN_BODY',
    'LOG_SESSION',
    'CONFIRM_SESSION',
    'DISPUTE_SESSION',
    'RESEND_SESSION_CODE',
    'ATTACH_DOCUMENT',
    'COMPLETE_ACCOMPANIMENT',
    'SUBMIT_PRE_PROJECT',
    'FORWARD_TO_COMMISSION',
    'RECORD_FUNDING',
    'WITHDRAW',
  ],
  consultant: ['LOG_SESSION', 'RESEND_SESSION_CODE', 'ATTACH_DOCUMENT', 'COMPLETE_ACCOMPANIMENT', 'SUBMIT_PRE_PROJECT'],
  commission: ['DECLARE_CONFLICT', 'SUBMIT_EVALUATION', 'APPROVE', 'REJECT', 'REQUEST_INTEGRATION'],
  company: ['CONFIRM_SESSION', 'DISPUTE_SESSION', 'WITHDRAW'],
  auditor: [],
  system: [],
} as const satisfies Record<Role, readonly CommandType[]>;

// Every command has a sender: a command added to machines/events.ts without one is a compile error here.
type Unsent = Exclude<CommandType, (typeof COMMANDS_BY_ROLE)[Role][number]>;
const _everyCommandHasASender: [Unsent] extends [never] ? true : Unsent = true;

/** Every command type, in a stable order; no zod here, so workflow code can read it. */
export const COMMAND_TYPES: readonly CommandType[] = [...new Set(Object.values(COMMANDS_BY_ROLE).flat())];

/** Commands that speak for one person, named in the payload: the sender must be that person. */
const SPOKESPERSON: Partial<Record<CommandType, 'member' | 'chair'>> = {
  DECLARE_CONFLICT: 'member',
  SUBMIT_EVALUATION: 'member',
  APPROVE: 'chair',
  REJECT: 'chair',
  REQUEST_INTEGRATION: 'chair',
};

/**
 * A role's own entry, or undefined: `role` comes from a payload, and a name such as "constructor" must find no
 * inherited property (whose missing `includes` would throw inside a signal handler and fail the workflow task).
 */
const entryOf = <T>(table: Record<Role, T>, role: unknown): T | undefined =>
  typeof role === 'string' && Object.prototype.hasOwnProperty.call(table, role) ? table[role as Role] : undefined;

/** Null when `role` (acting as `actor`) may send this command, otherwise why not. */
export function permissionProblem(role: Role, actor: string, event: ApplicationEvent): string | null {
  const allowed = entryOf<readonly CommandType[]>(COMMANDS_BY_ROLE, role);
  if (!allowed?.includes(event.type as CommandType)) return `${event.type} is not a command the role ${role} can send`;
  const field = SPOKESPERSON[event.type as CommandType];
  const named = field && (event as Partial<Record<'member' | 'chair', unknown>>)[field];
  if (field && named !== undefined && named !== actor) return `${event.type} can only be sent by the ${field} it names`;
  return null;
}

/**
 * The funded project's commands by role. Companies act through operators and consultants (DOMAIN.md, "People"),
 * except to withdraw; only operators decide on money.
 */
export const PROJECT_COMMANDS_BY_ROLE = {
  operator: [
    'SUBMIT_INTERIM_REPORT',
    'EXTEND_REALISATION',
    'SUBMIT_FINAL_REPORT',
    'VERIFY_REPORT',
    'START_REVOCATION',
    'SUBMIT_OBSERVATIONS',
    'CONFIRM_REDUCTION',
    'DROP_REDUCTION',
    'CONFIRM_REVOCATION',
    'DROP_REVOCATION',
    'WITHDRAW',
    'RECORD_REPAYMENT',
  ],
  consultant: ['SUBMIT_INTERIM_REPORT', 'SUBMIT_FINAL_REPORT', 'SUBMIT_OBSERVATIONS'],
  commission: [],
  company: ['WITHDRAW'],
  auditor: [],
  system: [],
} as const satisfies Record<Role, readonly ProjectCommandType[]>;

/** Every project command type; no zod here, so workflow code can read it. */
export const PROJECT_COMMAND_TYPES: readonly ProjectCommandType[] = [
  ...new Set(Object.values(PROJECT_COMMANDS_BY_ROLE).flat()),
];

type UnsentProject = Exclude<ProjectCommandType, (typeof PROJECT_COMMANDS_BY_ROLE)[Role][number]>;
const _everyProjectCommandHasASender: [UnsentProject] extends [never] ? true : UnsentProject = true;

/** Null when `role` may send this project command, otherwise why not. */
export function projectPermissionProblem(role: Role, event: { type: ProjectCommandType }): string | null {
  const allowed = entryOf<readonly ProjectCommandType[]>(PROJECT_COMMANDS_BY_ROLE, role);
  return allowed?.includes(event.type) ? null : `${event.type} is not a project command the role ${role} can send`;
}
