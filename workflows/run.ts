import { ApplicationFailure, CancellationScope, condition, sleep, workflowInfo } from '@temporalio/workflow';
import { initialTransition } from 'xstate';
import {
  applicationMachine,
  type ApplicationContext,
  type ApplicationMachineInput,
} from '../machines/application.machine';
import type { Deadline } from '../machines/deadlines';
import { allowedCommands, stateOf, type ApplicationSnapshot } from '../machines/explain';
import type { ApplicationEvent } from '../machines/events';
import { FAILURE, type CommandMeta, type RefusedSignal, type StepResult, type WorkflowView } from './messages';
import { publisher } from './publish';

/** What a run hands to the next when it continues as new: the machine snapshot and the workflow's own memory. */
export interface CarriedState {
  /** Absent in runs recorded before generations were named: those are generation 1. */
  generation?: 1 | 2;
  snapshot: { value: string; context: ApplicationContext };
  seq: number;
  deadline: Deadline | null;
  deadlineStartedAt: number;
  /** Generation 1 only: when the body was assigned (it then decided which sessions count). */
  assignedAt?: string | null;
  remindersSent: string[];
  refusedSignals: RefusedSignal[];
  /** Generation 1 only: the transitions so far, which its `view` query answered with. */
  timeline?: unknown[];
}

const MAX_REFUSED_SIGNALS = 20;

/** The state one workflow run keeps between messages, and what every part of the workflow does with it. */
export function startRun(
  applicationId: string,
  generation: 1 | 2,
  start: ApplicationMachineInput,
  carried?: CarriedState,
) {
  const publish = publisher();
  const run = {
    applicationId,
    generation,
    snapshot: carried
      ? applicationMachine.resolveState({ value: carried.snapshot.value, context: carried.snapshot.context })
      : initialTransition(applicationMachine, start)[0],
    seq: carried?.seq ?? 0,
    deadline: (carried?.deadline ?? null) as Deadline | null,
    deadlineStartedAt: carried?.deadlineStartedAt ?? Date.now(),
    remindersSent: new Set<string>(carried?.remindersSent ?? []),
    refusedSignals: [...(carried?.refusedSignals ?? [])],
    /** Who acted last: the current details say "withdrawn by an operator", not a guess. */
    lastActor: null as CommandMeta | null,
    /** A first-generation run asked to move into a run of the current generation (workflows/handlers.ts). */
    upgradeRequested: false,
    exclusive: serialized(),

    get state() {
      return stateOf(run.snapshot);
    },
    get open() {
      return run.snapshot.status === 'active';
    },

    /** Moves to a new snapshot with the register's seq and deadline, and tells the Temporal UI. */
    adopt(snapshot: ApplicationSnapshot, seq: number, deadline: Deadline | null, meta: CommandMeta) {
      run.snapshot = snapshot;
      run.seq = seq;
      if (deadline?.dueAt !== run.deadline?.dueAt || deadline?.kind !== run.deadline?.kind) {
        run.deadline = deadline;
        run.deadlineStartedAt = Date.now();
      }
      if (meta.role !== 'system') run.lastActor = meta;
      run.publish(generation === 1 ? 'all' : 'changed');
    },

    publish(mode: 'all' | 'changed' = 'changed') {
      publish(mode, { snapshot: run.snapshot, deadline: run.deadline, lastActor: run.lastActor });
    },

    refuse(event: { type: string }, reason: string) {
      return ApplicationFailure.create({
        type: FAILURE.refused,
        message: reason,
        nonRetryable: true,
        details: [{ event: event.type, state: run.state }],
      });
    },

    rememberRefusedSignal(type: string, reason: string) {
      run.refusedSignals.push({ type, reason, at: new Date(Date.now()).toISOString() });
      run.refusedSignals.splice(0, Math.max(0, run.refusedSignals.length - MAX_REFUSED_SIGNALS));
    },

    result(): StepResult {
      return { applicationId, state: run.state, seq: run.seq, deadline: run.deadline };
    },

    view(): WorkflowView {
      return {
        ...run.result(),
        generation,
        final: !run.open,
        context: run.snapshot.context,
        refusedSignals: [...run.refusedSignals],
      };
    },

    carry(): CarriedState {
      return {
        generation,
        snapshot: { value: run.state, context: run.snapshot.context },
        seq: run.seq,
        deadline: run.deadline,
        deadlineStartedAt: run.deadlineStartedAt,
        remindersSent: [...run.remindersSent],
        refusedSignals: run.refusedSignals,
      };
    },

    historyTooLong(limit: number) {
      return workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit;
    },

    allowedCommands: () => allowedCommands(run.snapshot),
  };
  return run;
}

export type Run = ReturnType<typeof startRun>;

/** One step of the machine, however it is performed (one transaction, or the first generation's activities). */
export interface Stepper {
  /** The first step of a new application: its eligibility, decided at the door. */
  begin(): Promise<void>;
  /** One accepted command or system event, with everything it causes. */
  apply(event: ApplicationEvent, meta: CommandMeta): Promise<void>;
  /** The ledger may have moved this admission out of the reserve list. */
  budgetChanged(): Promise<void>;
}

/** Runs message handlers one at a time so two decisions arriving together cannot interleave their steps. */
export function serialized() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** `condition(fn, timeout)`, but the timer carries a summary for the Temporal UI. True when `fn` became true first. */
export async function conditionOrTimer(fn: () => boolean, ms: number, summary: string): Promise<boolean> {
  return CancellationScope.cancellable(async () => {
    const timer = sleep(ms, { summary }).then(() => false);
    const met = condition(fn).then(() => true);
    const first = await Promise.race([met, timer]);
    // The loser is cancelled with its scope; its rejection is expected and ignored.
    timer.catch(() => undefined);
    met.catch(() => undefined);
    CancellationScope.current().cancel();
    return first;
  });
}
