import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApplicationState } from '../machines/application.machine';
import type { Deadline } from '../machines/deadlines';
import type { ApplicationCommand, CommandType, StoredDocument } from '../machines/events';
import type { Theme } from '../domain/themes';

/*
 * The one place where the workflow's messages are defined; the CLI, the HTTP API and the tests import them.
 * Commands travel as Updates (validated, answered with the new view) or, fire-and-forget, as Signals.
 */

import type { Evaluation } from '../machines/commission';
import type { Role } from '../machines/permissions';
export { ROLES, type Role } from '../machines/permissions';

export interface CommandMeta {
  actor: string;
  role: Role;
}

export interface CommandRequest {
  event: ApplicationCommand;
  meta: CommandMeta;
}

export interface RefusedSignal {
  type: string;
  reason: string;
  at: string;
}

/** One line of the audit trail, as the workflow recorded it (the database holds the same rows, append-only). */
export interface TimelineEntry {
  seq: number;
  at: string;
  event: string;
  from: string | null;
  to: string;
  actor: string;
  role: Role;
}

export interface ApplicationView {
  applicationId: string;
  callId: string;
  rulesVersion: number;
  state: ApplicationState;
  final: boolean;
  allowedCommands: CommandType[];
  deadline: Deadline | null;
  transitions: number;
  facts: {
    themes: Theme[];
    eligibility: 'pending' | 'eligible' | 'ineligible';
    ineligibilityReasons: string[];
    implementingBody: string | null;
    consultant: string | null;
    sessionsLogged: number;
    verifiedHours: number;
    requiredHours: number;
    documents: StoredDocument[];
    preProject: { version: number; title: string; eligibleCostCents: number; grantCents: number } | null;
    integrationRequests: number;
    motivation: string | null;
    subsidyCents: number;
    admittedCents: number | null;
    budget: 'none' | 'reserved' | 'waiting';
    budgetPosition: number | null;
    fundedCents: number | null;
    conflicts: Record<string, boolean>;
    evaluations: Evaluation[];
    closingReason: string | null;
  };
  refusedSignals: RefusedSignal[];
  /** Filled by the `view` query; empty in the answer to a command, which is stored in the history. */
  timeline: TimelineEntry[];
}

export const commandUpdate = defineUpdate<ApplicationView, [CommandRequest]>('command');
export const commandSignal = defineSignal<[CommandRequest]>('command');
export const viewQuery = defineQuery<ApplicationView>('view');
/** Sent by the workflow whose release freed money: "check the ledger, you may have been promoted". */
export const budgetSignal = defineSignal('budgetChanged');

/** ApplicationFailure types the workflow raises: stable codes that clients map to messages and HTTP statuses. */
export const FAILURE = {
  refused: 'EventRefused',
  invalid: 'InvalidCommand',
  forbidden: 'CommandForbidden',
} as const;
