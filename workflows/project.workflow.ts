import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { initialTransition } from 'xstate';
import type { Activities } from '../activities';
import { formatEuro } from '../domain/format';
import { projectPermissionProblem, PROJECT_COMMAND_TYPES } from '../machines/permissions';
import {
  eventOnExpiry,
  projectDeadlineAfter,
  reminderDaysBefore,
  type ProjectDeadline,
} from '../machines/project.deadlines';
import type { ProjectCommandType, ProjectEvent } from '../machines/project.events';
import { projectRefusalReason, projectStateOf, type ProjectSnapshot } from '../machines/project.explain';
import {
  outstandingCents,
  projectMachine,
  type ProjectContext,
  type ProjectMachineInput,
  type ProjectState,
} from '../machines/project.machine';
import { nextReminder, reminderKey } from '../machines/reminders';
import { check, type Schema } from './check';
import {
  FAILURE,
  projectCommandSignal,
  projectCommandUpdate,
  projectViewQuery,
  type CommandMeta,
  type ProjectCommandRequest,
} from './messages';
import schemas from './project-command-schemas.json';
import { conditionOrTimer, serialized } from './run';
import { SA } from './search-attributes';
import { projectStep } from './project.steps';
import { SYSTEM } from './steps';
import { isUntrusted, trusted, untrustedFailure } from './trust';

export interface ProjectWorkflowInput {
  applicationId: string;
  /** What the funded application handed over (machines/project.input.ts). */
  start?: ProjectMachineInput;
  carried?: {
    snapshot: { value: string; context: ProjectContext };
    seq: number;
    deadline: ProjectDeadline | null;
    deadlineStartedAt: number;
    remindersSent: string[];
  };
  continueAsNewAfterEvents?: number;
}

const { queueProjectReminder } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  summary: "Queue the reminder of the project's deadline",
});

const SCHEMAS = schemas as Record<ProjectCommandType, Schema>;
const euro = (cents: number) => formatEuro(cents, 'en');

/** Plain words for the Temporal UI: where the project is, what it waits for and by when. No personal data. */
function details(snapshot: ProjectSnapshot, deadline: ProjectDeadline | null): string {
  const c = snapshot.context;
  const by = deadline ? ` by ${deadline.dueOn}` : '';
  const words: Record<ProjectState, () => string> = {
    in_progress: () => `**In progress**: ${euro(c.disbursedCents)} disbursed on ${c.disbursedOn}; carried out${by}.`,
    final_report_due: () => `**Final report due**${by}: waits for the consultant or an operator to submit it.`,
    under_verification: () => '**Under verification**: waits for an operator to accept or cut each cost line.',
    reduction_intended: () =>
      `**Reduction intended** (${euro(c.intention?.recoveryCents ?? 0)}): observations${by}, then an operator decides.`,
    revocation_intended: () =>
      `**Revocation intended** (${euro(c.intention?.recoveryCents ?? 0)}): observations${by}, then an operator decides.`,
    reduced: () => `**Reduced**: ${euro(outstandingCents(c))} still to be repaid.`,
    revoked: () => `**Revoked**: ${euro(outstandingCents(c))} still to be repaid.`,
    withdrawn: () => `**Withdrawn**: ${euro(outstandingCents(c))} still to be repaid.`,
    closed: () => `**Closed**: ${euro(c.verification?.money.justifiedCents ?? c.disbursedCents)} justified.`,
    settled: () => `**Settled** (${c.outcome}): everything owed was repaid.`,
  };
  return words[projectStateOf(snapshot)]();
}

/** The funded project's own workflow: it outlives the application's, and runs the realisation to its end. */
export async function projectWorkflow(
  raw: ProjectWorkflowInput,
): Promise<{ applicationId: string; state: ProjectState; outcome: string | null }> {
  const input = trusted<ProjectWorkflowInput>(raw, 'the start of the project');
  const { applicationId, carried } = input;
  if (!carried && !input.start)
    throw ApplicationFailure.nonRetryable('a project starts from `start` or `carried`', FAILURE.invalid);
  let snapshot: ProjectSnapshot = carried
    ? projectMachine.resolveState(carried.snapshot)
    : initialTransition(projectMachine, input.start!)[0];
  let seq = carried?.seq ?? 0;
  // The realisation period runs from the disbursement: the register computed the same deadline at seq 0.
  const state = projectStateOf(snapshot);
  const today = new Date(Date.now()).toISOString().slice(0, 10);
  let deadline: ProjectDeadline | null =
    carried?.deadline ??
    projectDeadlineAfter(state, state, null, snapshot.context, snapshot.context.rules.postAward, today);
  let deadlineStartedAt = carried?.deadlineStartedAt ?? Date.now();
  const remindersSent = new Set(carried?.remindersSent ?? []);
  const exclusive = serialized();
  const rules = snapshot.context.rules.postAward;
  const startedWith = workflowInfo().typedSearchAttributes;

  const publish = () => {
    // Compared with the attributes as they now are (an upsert replaces workflowInfo() with a new copy). Runs that
    // compared with those they started with re-sent unchanged values at every step and never cleared the deadline,
    // which the start lacked: a closed project kept its last deadline in the Temporal UI.
    const published = patched('project-search-attributes-as-they-are')
      ? workflowInfo().typedSearchAttributes
      : startedWith;
    const pairs = [
      { key: SA.projectState, value: projectStateOf(snapshot) },
      { key: SA.call, value: snapshot.context.callId },
      { key: SA.deadline, value: deadline ? new Date(deadline.dueAt) : null },
    ] as SearchAttributePair[];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const changed = pairs.filter((p) => !same(published.get(p.key as never) ?? null, p.value));
    if (changed.length) upsertSearchAttributes(changed);
    setCurrentDetails(details(snapshot, deadline));
  };

  const refuse = (reason: string) =>
    ApplicationFailure.create({ type: FAILURE.refused, message: reason, nonRetryable: true });
  async function apply(event: ProjectEvent, meta: CommandMeta) {
    const step = await projectStep({ applicationId, snapshot, seq }, event, meta, refuse);
    snapshot = step.snapshot;
    seq = step.outcome.seq;
    if (step.outcome.deadline?.dueAt !== deadline?.dueAt) deadlineStartedAt = Date.now();
    deadline = step.outcome.deadline?.dueAt === deadline?.dueAt ? deadline : step.outcome.deadline;
    publish();
  }

  function parse(request: ProjectCommandRequest): ProjectEvent {
    const event = (request as Partial<ProjectCommandRequest> | null)?.event as Record<string, unknown> | undefined;
    const type = event?.type as ProjectCommandType;
    const problems = !PROJECT_COMMAND_TYPES.includes(type)
      ? [{ path: 'type', message: `unknown command; one of ${PROJECT_COMMAND_TYPES.join(', ')}` }]
      : check(SCHEMAS[type], Object.fromEntries(Object.entries(event!).filter(([k]) => k !== 'type')));
    const meta = (request as Partial<ProjectCommandRequest>).meta;
    if (problems.length) {
      const message = `invalid command: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
      throw ApplicationFailure.create({ type: FAILURE.invalid, message, nonRetryable: true, details: [problems] });
    }
    const forbidden = meta ? projectPermissionProblem(meta.role, event as never) : 'the command names no sender';
    if (forbidden) throw ApplicationFailure.create({ type: FAILURE.forbidden, message: forbidden, nonRetryable: true });
    return event as unknown as ProjectEvent;
  }

  setHandler(projectViewQuery, () => ({
    applicationId,
    state: projectStateOf(snapshot),
    seq,
    deadline,
    context: snapshot.context,
    final: snapshot.status !== 'active',
  }));
  setHandler(
    projectCommandUpdate,
    (raw) =>
      exclusive(async () => {
        const request = trusted<ProjectCommandRequest>(raw, 'command');
        await apply(parse(request), request.meta);
        return { applicationId, state: projectStateOf(snapshot), seq, deadline };
      }),
    {
      validator: (raw) => {
        if (isUntrusted(raw)) throw untrustedFailure('command', raw.$untrusted);
        const reason = projectRefusalReason(snapshot, parse(raw));
        if (reason) throw refuse(reason);
      },
    },
  );
  setHandler(projectCommandSignal, (raw) =>
    exclusive(async () => {
      try {
        const request = trusted<ProjectCommandRequest>(raw, 'command');
        await apply(parse(request), request.meta);
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) throw err;
        log.warn('project signal refused', { reason: err.message });
      }
    }),
  );

  publish();
  const limit = input.continueAsNewAfterEvents ?? 8_000;
  while (snapshot.status === 'active') {
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit) {
      await condition(allHandlersFinished);
      const next = {
        snapshot: { value: projectStateOf(snapshot), context: snapshot.context },
        seq,
        deadline,
        deadlineStartedAt,
        remindersSent: [...remindersSent],
      };
      await continueAsNew<typeof projectWorkflow>({ applicationId, carried: next, continueAsNewAfterEvents: limit });
    }
    const running = deadline;
    const at = seq;
    const changed = () => snapshot.status !== 'active' || seq !== at || deadline !== running;
    if (!running) {
      await condition(changed);
      continue;
    }
    // A deadline already past (a disbursement recorded late, a revocation dropped after the realisation end, a worker
    // down past the due day) is acted on at once: a reminder that it is days away would tell the company something
    // untrue. Runs from before this change sent that reminder first.
    const overdue = Date.now() >= Date.parse(running.dueAt) && patched('project-no-reminder-when-overdue');
    const reminder = overdue
      ? null
      : nextReminder(running, reminderDaysBefore(running, rules), remindersSent, deadlineStartedAt);
    const wakeAt = reminder ? reminder.at : Date.parse(running.dueAt);
    const purpose = reminder
      ? `Reminder ${reminder.daysBefore} days before the ${running.kind} deadline`
      : `Deadline: ${running.kind}`;
    if (await conditionOrTimer(changed, Math.max(1, wakeAt - Date.now()), purpose)) continue;
    await exclusive(async () => {
      if (snapshot.status !== 'active' || seq !== at || deadline !== running) return;
      if (reminder) {
        remindersSent.add(reminderKey(reminder));
        await queueProjectReminder({ applicationId, deadline: running, daysBefore: reminder.daysBefore });
      } else {
        await apply(eventOnExpiry(running), SYSTEM);
      }
    });
  }
  await condition(allHandlersFinished);
  return { applicationId, state: projectStateOf(snapshot), outcome: snapshot.context.outcome };
}
