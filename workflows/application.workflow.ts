import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
} from '@temporalio/workflow';
import { projectInputOf } from '../machines/project.input';
import { projectWorkflow } from './project.workflow';
import { SA } from './search-attributes';
import type { Activities } from '../activities';
import { machineRules, type MachineRules } from '../domain/machine-rules';
import type { ApplicationMachineInput, ApplicationState } from '../machines/application.machine';
import type { IneligibilityReason } from '../machines/events';
import { nextReminder, reminderKey } from '../machines/reminders';
import {
  firstGenerationStart,
  firstGenerationSteps,
  normaliseFirstGeneration,
  type FirstGenerationInput,
} from './generation-1';
import { setHandlers } from './handlers';
import { projectWorkflowId, type CommandMeta } from './messages';
import { conditionOrTimer, startRun, type CarriedState, type Run, type Stepper } from './run';
import { oneTransactionSteps, SYSTEM } from './steps';
import { trusted } from './trust';

export interface ApplicationWorkflowInput {
  applicationId: string;
  /**
   * Where a new application starts: what the machine reads (no personal data: the form is in PostgreSQL) and
   * the eligibility decided at the door.
   */
  start?: { machine: ApplicationMachineInput; ineligibility: IneligibilityReason[]; submittedBy: CommandMeta };
  /** Runs of the first generation carried the whole rules file and form here instead. */
  rules?: FirstGenerationInput['rules'];
  form?: FirstGenerationInput['form'];
  submittedBy?: CommandMeta;
  /** What a run hands to the next when it continues as new. */
  carried?: CarriedState;
  /** Continue as new past this many history events (Temporal also suggests it before its 10,240-event warning). */
  continueAsNewAfterEvents?: number;
}

export interface ApplicationOutcome {
  applicationId: string;
  state: ApplicationState;
  admittedCents: number | null;
  fundedCents: number | null;
}

const DEFAULT_CONTINUE_AS_NEW_AFTER = 8_000;

const { queueReminder, adoptSnapshot } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  summary: 'Queue the reminder for whoever must act',
});

export async function applicationWorkflow(raw: ApplicationWorkflowInput): Promise<ApplicationOutcome> {
  const input = trusted<ApplicationWorkflowInput>(raw, 'the start of the workflow');
  const { applicationId, carried } = input;
  // One transaction per step since generation 2; runs recorded before it replay on their own path.
  const generation = carried?.generation ?? (patched('one-transaction-steps') ? 2 : 1);
  let run: Run;
  let stepper: Stepper;
  let rules: MachineRules;
  if (generation === 1) {
    const first = input as FirstGenerationInput;
    const context = carried && normaliseFirstGeneration(carried.snapshot.context);
    run = startRun(
      applicationId,
      1,
      firstGenerationStart(applicationId, first),
      carried && { ...carried, snapshot: { ...carried.snapshot, context: context! } },
    );
    stepper = firstGenerationSteps(run, first, carried?.assignedAt ?? null);
    rules = machineRules(first.rules);
  } else {
    if (!carried && !input.start)
      throw new Error('a workflow of the current generation starts from `start` or `carried`');
    run = startRun(applicationId, 2, input.start?.machine as ApplicationMachineInput, carried);
    stepper = oneTransactionSteps(run, input.start?.ineligibility ?? []);
    rules = run.snapshot.context.rules;
  }
  setHandlers(run, stepper);
  if (carried) run.publish(generation === 1 ? 'all' : 'changed');
  else await run.exclusive(() => stepper.begin());
  if (carried && generation === 2) await run.exclusive(() => stepper.budgetChanged());

  const limit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  // Deadlines and reminders are durable timers: `condition` with a timeout, woken early by any change.
  while (run.open) {
    if (run.upgradeRequested) await upgrade(run, input);
    if (run.historyTooLong(limit)) {
      // Hand over between messages, never in the middle of one: the next run starts from the same snapshot.
      await condition(allHandlersFinished);
      const next =
        generation === 1
          ? { ...input, carried: run.carry() }
          : { applicationId, carried: run.carry(), continueAsNewAfterEvents: limit };
      await continueAsNew<typeof applicationWorkflow>(next);
    }
    const state = run.state;
    const running = run.deadline;
    const changed = () =>
      !run.open || run.state !== state || run.deadline !== running || run.historyTooLong(limit) || run.upgradeRequested;
    if (!running) {
      await condition(changed);
      continue;
    }
    const reminder = nextReminder(running, rules.reminders.daysBefore, run.remindersSent, run.deadlineStartedAt);
    const wakeAt = reminder ? reminder.at : Date.parse(running.dueAt);
    const purpose = reminder
      ? `Reminder ${reminder.daysBefore} days before the ${running.kind} deadline`
      : `Deadline: ${running.kind}`;
    if (await conditionOrTimer(changed, Math.max(1, wakeAt - Date.now()), purpose)) continue;
    await run.exclusive(async () => {
      // An event may have landed while we waited for the lock: it wins over the timer.
      if (!run.open || run.state !== state || run.deadline !== running) return;
      if (generation === 1 && patched('upgrade-to-generation-2')) {
        run.upgradeRequested = true;
        return;
      }
      if (reminder) {
        run.remindersSent.add(reminderKey(reminder));
        await queueReminder({ applicationId, deadline: running, daysBefore: reminder.daysBefore, state });
      } else if (rules.deadlines.escalateInsteadOfLapse.includes(running.kind)) {
        await queueReminder({ applicationId, deadline: running, daysBefore: 0, state });
        run.deadline = null;
        run.publish(generation === 1 ? 'all' : 'changed');
      } else {
        await stepper.apply({ type: 'LAPSE', deadline: running.kind, dueAt: running.dueAt }, SYSTEM);
      }
    });
  }

  await condition(allHandlersFinished);
  // A funded application's project is its own workflow, which outlives this one. Runs recorded before projects
  // had a lifecycle ended here without starting one.
  if (generation === 2 && run.state === 'funded' && patched('start-project')) await startProject(run);
  log.info('application closed', { state: run.state });
  const c = run.snapshot.context;
  return { applicationId, state: run.state, admittedCents: c.admittedCents, fundedCents: c.fundedCents };
}

async function startProject(run: Run) {
  const c = run.snapshot.context;
  const start = projectInputOf(c, { amountCents: c.fundedCents ?? 0, disbursedOn: c.disbursedOn ?? '' });
  await startChild(projectWorkflow, {
    workflowId: projectWorkflowId(run.applicationId),
    args: [{ applicationId: run.applicationId, start }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [
      { key: SA.projectState, value: 'in_progress' },
      { key: SA.call, value: c.callId },
    ],
    staticSummary: `Project of ${run.applicationId} (${c.callId})`,
  });
}

/** A first-generation run hands its state to a run of the current one: the register first, then the run. */
async function upgrade(run: Run, input: ApplicationWorkflowInput): Promise<never> {
  await condition(allHandlersFinished);
  const carried = run.carry();
  const { context } = await adoptSnapshot({
    applicationId: run.applicationId,
    seq: run.seq,
    snapshot: carried.snapshot,
    deadline: run.deadline,
  });
  return continueAsNew<typeof applicationWorkflow>({
    applicationId: run.applicationId,
    carried: { ...carried, generation: 2, snapshot: { ...carried.snapshot, context } },
    ...(input.continueAsNewAfterEvents ? { continueAsNewAfterEvents: input.continueAsNewAfterEvents } : {}),
  });
}
