import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Role } from '../domain/roles';
import type { ApplicationContext, ApplicationState } from '../machines/application.machine';
import type { Deadline } from '../machines/deadlines';
import type { ApplicationCommand } from '../machines/events';
import type { ProjectDeadline } from '../machines/project.deadlines';
import type { ProjectCommand } from '../machines/project.events';
import type { ProjectContext, ProjectState } from '../machines/project.machine';
import { INPUT_ERROR } from '../domain/errors';

/*
 * The one place where the workflow's messages are defined; the HTTP API, the service and the tests import them.
 * Commands travel as Updates (validated, answered with where the application now stands) or, fire and forget,
 * as Signals. People read the register in PostgreSQL; the `view` query is for staff and tests.
 */

export interface CommandMeta {
  /** Who sends it: a user id from the token, the company's link or code, or the system. */
  actor: string;
  role: Role;
}

export interface CommandRequest {
  event: ApplicationCommand;
  meta: CommandMeta;
}

/** What an accepted command answers: enough for the next step; the rest is in the register. */
export interface StepResult {
  applicationId: string;
  state: ApplicationState;
  seq: number;
  deadline: Deadline | null;
}

export interface RefusedSignal {
  type: string;
  reason: string;
  at: string;
}

/** The workflow's own state, for the Temporal UI's query tab and the tests. */
export interface WorkflowView extends StepResult {
  generation: 1 | 2;
  final: boolean;
  context: ApplicationContext;
  refusedSignals: RefusedSignal[];
}

export const commandUpdate = defineUpdate<StepResult, [CommandRequest]>('command');
export const commandSignal = defineSignal<[CommandRequest]>('command');
export const viewQuery = defineQuery<WorkflowView>('view');
/** Sent by the workflow whose release freed money: "check the ledger, you may have been promoted". */
export const budgetSignal = defineSignal('budgetChanged');
/** Sent to applications of the first generation: take your state into a run of the current one. */
export const upgradeSignal = defineSignal('upgrade');

/** A command to a funded project, and where the project stands after it. */
export interface ProjectCommandRequest {
  event: ProjectCommand;
  meta: CommandMeta;
}
export interface ProjectStepResult {
  applicationId: string;
  state: ProjectState;
  seq: number;
  deadline: ProjectDeadline | null;
}
export const projectCommandUpdate = defineUpdate<ProjectStepResult, [ProjectCommandRequest]>('project-command');
export const projectCommandSignal = defineSignal<[ProjectCommandRequest]>('project-command');
export const projectViewQuery = defineQuery<ProjectStepResult & { context: ProjectContext; final: boolean }>(
  'project-view',
);

/** The project of an application is its own workflow, which outlives the application's. */
export const projectWorkflowId = (applicationId: string) => `${applicationId}.project`;

/** ApplicationFailure types the workflow raises: stable codes that clients map to messages and HTTP statuses. */
export const FAILURE = {
  refused: 'EventRefused',
  /** Well formed and possible, but it collides with what is recorded (a session logged or answered already). */
  conflict: INPUT_ERROR.conflict,
  invalid: 'InvalidCommand',
  forbidden: 'CommandForbidden',
  /** A payload the codec could not authenticate (plain, unknown key, bad tag): never acted on. */
  untrusted: 'UntrustedPayload',
  /** The register in PostgreSQL and the workflow disagree: a person must look (restored backup, manual edit). */
  outOfStep: 'RegisterOutOfStep',
  /**
   * The register holds a step the workflow has not taken in yet (a worker stopped between the step's commit and its
   * report to Temporal), and another command reached the workflow first: it waits, the sender sends again.
   */
  behind: 'WorkflowBehind',
} as const;

/** What the sender of a command hears while the workflow catches up with the register (FAILURE.behind). */
export const catchingUp = (applicationId: string) =>
  `application ${applicationId} is catching up with a step it recorded just before a worker stopped: ` +
  'send the command again in a few seconds';

/** One problem with what was sent, where it is: carried as data, never parsed back out of a message. */
export interface FieldProblem {
  path: string;
  message: string;
}
