import type { CommandType } from './events';
import { PROJECT_COMMAND_TYPES, type ProjectCommandType } from './project.events';

export const ROLES = ['operator', 'consultant', 'commission', 'company', 'auditor', 'system'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Which commands each role may send. The interfaces check who is asking (tokens, object ownership); the workflow
 * checks this again, so a command that slipped past an interface is still refused.
 */
export const COMMANDS_BY_ROLE: Record<Role, readonly CommandType[]> = {
  operator: [
    'ASSIGN_BODY',
    'LOG_SESSION',
    'CONFIRM_SESSION',
    'ATTACH_DOCUMENT',
    'COMPLETE_ACCOMPANIMENT',
    'SUBMIT_PRE_PROJECT',
    'FORWARD_TO_COMMISSION',
    'RECORD_FUNDING',
    'WITHDRAW',
  ],
  consultant: ['LOG_SESSION', 'ATTACH_DOCUMENT', 'COMPLETE_ACCOMPANIMENT', 'SUBMIT_PRE_PROJECT'],
  commission: ['DECLARE_CONFLICT', 'SUBMIT_EVALUATION', 'APPROVE', 'REJECT', 'REQUEST_INTEGRATION'],
  company: ['CONFIRM_SESSION', 'WITHDRAW'],
  auditor: [],
  system: [],
};

/** Commands that speak for one member: the member must be the sender. */
const PERSONAL: readonly CommandType[] = ['DECLARE_CONFLICT', 'SUBMIT_EVALUATION'];

/** Null when `role` (acting as `actor`) may send this command, otherwise why not. */
export function permissionProblem(
  role: Role,
  actor: string,
  event: { type: CommandType; member?: string },
): string | null {
  if (!COMMANDS_BY_ROLE[role]?.includes(event.type)) return `${event.type} is not a command the role ${role} can send`;
  if (PERSONAL.includes(event.type) && event.member !== actor)
    return `${event.type} can only be sent by the member it names`;
  return null;
}

/**
 * The funded project's commands by role. Companies act through operators and consultants (DOMAIN.md, "People"),
 * except to withdraw; only operators decide on money.
 */
export const PROJECT_COMMANDS_BY_ROLE: Record<Role, readonly ProjectCommandType[]> = {
  operator: PROJECT_COMMAND_TYPES,
  consultant: ['SUBMIT_INTERIM_REPORT', 'SUBMIT_FINAL_REPORT', 'SUBMIT_OBSERVATIONS'],
  commission: [],
  company: ['WITHDRAW'],
  auditor: [],
  system: [],
};

/** Null when `role` may send this project command, otherwise why not. */
export function projectPermissionProblem(role: Role, event: { type: ProjectCommandType }): string | null {
  return PROJECT_COMMANDS_BY_ROLE[role]?.includes(event.type)
    ? null
    : `${event.type} is not a project command the role ${role} can send`;
}
