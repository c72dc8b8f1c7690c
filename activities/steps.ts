import { ApplicationFailure, asyncLocalStorage } from '@temporalio/activity';
import { transition } from 'xstate';
import { budgetPlace } from '../db/repositories/budget';
import type { ApplicationForm } from '../domain/application';
import { sizeClassOf } from '../domain/eligibility';
import {
  advanceRegister,
  deadlineOfRow,
  lockForStep,
  recordedOutcome,
  registerColumns,
} from '../db/repositories/register';
import { applicationMachine, type ApplicationContext } from '../machines/application.machine';
import { deadlineAfter, type Deadline } from '../machines/deadlines';
import { effectsOf } from '../machines/effects';
import type { ApplicationEvent } from '../machines/events';
import { refusalReason, stateOf, type ApplicationSnapshot } from '../machines/explain';
import { catchingUp, FAILURE, type CommandMeta } from '../workflows/messages';
import type { StepOutcome } from '../workflows/steps';
import { StepInputError, type ActivityDeps, type StepContext } from './effects/context';
import { performEffect } from './effects';
import { payloadDigest } from './digest';
import { notifyReservation, recordTransition } from './transitions';

export interface StepInput {
  applicationId: string;
  /** The seq this event's transition is recorded under; its follow-ups take the next ones. */
  seq: number;
  event: ApplicationEvent;
  meta: CommandMeta;
  /** The workflow's time for this step: every record and deadline of the step reads this one clock. */
  occurredAt: string;
}

const SYSTEM: CommandMeta = { actor: 'system', role: 'system' };

const outOfStep = (message: string) => ApplicationFailure.nonRetryable(message, FAILURE.outOfStep);

type Trx = StepContext['trx'];

/**
 * One step, one transaction: the row is locked, the machine (the same pure module the workflow runs) takes the
 * event, the effects it asks for are performed, then the verification they trigger, the transition records, the
 * messages and the register row; a retry of a committed step finds its outcome under its seq and returns it.
 */
async function step(trx: Trx, deps: StepContext['deps'], input: StepInput): Promise<StepOutcome> {
  const row = await lockForStep(trx, input.applicationId);
  if (!row) throw outOfStep(`application ${input.applicationId} is not in the register`);
  if (row.last_seq >= input.seq) {
    const recorded = (await recordedOutcome(trx, input.applicationId, input.seq)) as StepOutcome | null;
    if (!recorded) throw outOfStep(`seq ${input.seq} of ${input.applicationId} was recorded by another kind of step`);
    if (input.meta.role !== 'system' && !(await recordedFor(trx, input))) {
      throw ApplicationFailure.nonRetryable(catchingUp(input.applicationId), FAILURE.behind);
    }
    return recorded;
  }
  if (row.last_seq !== input.seq - 1 || !row.snapshot) {
    throw outOfStep(
      `the register of ${input.applicationId} is at seq ${row.last_seq}, the workflow at ${input.seq - 1}`,
    );
  }
  const before = applicationMachine.resolveState(row.snapshot);
  const refused = refusalReason(before, input.event);
  if (refused) throw outOfStep(`the register refuses what the workflow accepted: ${refused}`);
  const [after, actions] = transition(applicationMachine, before, input.event);
  const ctx: StepContext = {
    trx,
    deps,
    applicationId: input.applicationId,
    callId: row.call_id,
    rules: deps.rules(row.call_id, row.rules_version),
    seq: input.seq,
    meta: input.meta,
    occurredAt: input.occurredAt,
    before: before.context,
    after: after.context,
  };
  const followUps: ApplicationEvent[] = [];
  const promoted: string[] = [];
  const afterwards: (() => Promise<void>)[] = [];
  for (const effect of effectsOf(actions)) {
    const outcome = await performEffect(ctx, effect);
    followUps.push(...(outcome.followUps ?? []));
    promoted.push(...(outcome.promoted ?? []));
    if (outcome.afterTransition) afterwards.push(outcome.afterTransition);
  }
  const outcome = await settle(ctx, {
    before,
    after,
    event: input.event,
    meta: input.meta,
    deadline: deadlineOfRow(row),
    followUps,
    promoted,
  });
  for (const work of afterwards) await work();
  return outcome;
}

/**
 * Whether the step recorded under this seq is this very command from this sender: its retry. A worker that stopped
 * between a step's commit and its report to Temporal leaves the seq taken while the workflow still offers it, and
 * a different command (a signal, processed before the redelivered Update) may reach it first: answered with the
 * other command's outcome, it would be adopted as if it had been performed, and the command that was performed
 * would be tried again at the next seq.
 */
async function recordedFor(trx: Trx, input: StepInput): Promise<boolean> {
  const row = await trx
    .selectFrom('audit_events')
    .select(['event_type', 'payload_digest', 'actor'])
    .where('application_id', '=', input.applicationId)
    .where('seq', '=', input.seq)
    .executeTakeFirst();
  return (
    row?.event_type === input.event.type &&
    row.payload_digest === payloadDigest(input.event) &&
    row.actor === input.meta.actor
  );
}

/** Records the event's transition and its follow-ups (which never ask for further effects), then the register row. */
async function settle(
  ctx: StepContext,
  s: {
    before: ApplicationSnapshot;
    after: ApplicationSnapshot | null;
    event: ApplicationEvent | null;
    meta: CommandMeta;
    deadline: Deadline | null;
    followUps: ApplicationEvent[];
    promoted: string[];
  },
): Promise<StepOutcome> {
  const nowMs = Date.parse(ctx.occurredAt);
  const records: Parameters<typeof recordTransition>[1][] = [];
  let snapshot = s.before;
  let deadline = s.deadline;
  let seq = ctx.seq - 1;
  const advance = (event: ApplicationEvent, next: ApplicationSnapshot, meta: CommandMeta) => {
    deadline = deadlineAfter(
      stateOf(snapshot),
      stateOf(next),
      deadline,
      next.context.rules.deadlines,
      nowMs,
      next.context,
    );
    seq += 1;
    records.push({ seq, event, meta, from: stateOf(snapshot), to: stateOf(next), context: next.context, deadline });
    snapshot = next;
  };
  if (s.event && s.after) advance(s.event, s.after, s.meta);
  for (const followUp of s.followUps) {
    const [next, actions] = transition(applicationMachine, snapshot, followUp);
    if (effectsOf(actions).length) throw new Error(`follow-up ${followUp.type} asked for effects: a machine bug`);
    advance(followUp, next, SYSTEM);
  }
  const outcome: StepOutcome = {
    followUps: s.followUps,
    seq,
    state: stateOf(snapshot),
    deadline,
    promoted: s.promoted,
  };
  // The step's first record keeps its answer: a retry of this step returns it unchanged. Messages name the deadline
  // the whole step leaves running: an admission's funding clock starts with the reservation its follow-up records.
  const c = snapshot.context;
  const reserveListPosition = c.budget === 'waiting' ? c.budgetPosition : null;
  for (const [i, record] of records.entries()) {
    await recordTransition(ctx, { ...record, deadline, reserveListPosition, ...(i === 0 ? { outcome } : {}) });
  }
  await advanceRegister(ctx.trx, ctx.applicationId, {
    seq,
    snapshot: { value: stateOf(snapshot), context: snapshot.context },
    columns: registerColumns(stateOf(snapshot), snapshot.context, deadline, snapshot.status !== 'active'),
    generation: 2,
  });
  return outcome;
}

/** Turns a step's input mistake into the failure the workflow reports to the sender, after counting it if it must. */
async function asFailure(deps: ActivityDeps, err: unknown): Promise<never> {
  if (!(err instanceof StepInputError)) throw err;
  await err.afterwards?.(deps.db);
  // The activity's logger exists only inside an activity: a step called directly (a test, a tool) has no one to tell,
  // and the refusal must still reach its caller as the failure below, not as "Activity context not initialized".
  if (err.detail) asyncLocalStorage.getStore()?.log.info('answer refused', { reason: err.detail });
  throw ApplicationFailure.nonRetryable(err.message, err.kind, err.problems);
}

export function stepActivities(deps: ActivityDeps) {
  const full = { ...deps, now: deps.now ?? (() => new Date()) };
  return {
    async applyStep(input: StepInput): Promise<StepOutcome> {
      return deps.db
        .transaction()
        .execute((trx) => step(trx, full, input))
        .catch((err: unknown) => asFailure(deps, err));
    },

    /** Reads the ledger for an admission waiting for budget; records RECORD_BUDGET only when its place moved. */
    async syncBudget(input: { applicationId: string; seq: number; occurredAt: string }): Promise<StepOutcome | null> {
      return deps.db.transaction().execute(async (trx) => {
        const row = await lockForStep(trx, input.applicationId);
        if (!row?.snapshot) throw outOfStep(`application ${input.applicationId} is not in the register`);
        if (row.last_seq >= input.seq)
          return (await recordedOutcome(trx, input.applicationId, input.seq)) as StepOutcome;
        const before = applicationMachine.resolveState(row.snapshot);
        const place = await budgetPlace(trx, input.applicationId);
        const c = before.context;
        if (!place || (place.status === c.budget && place.position === c.budgetPosition)) return null;
        const followUp: ApplicationEvent = { type: 'RECORD_BUDGET', status: place.status, position: place.position };
        const ctx: StepContext = {
          trx,
          deps: full,
          applicationId: input.applicationId,
          callId: row.call_id,
          rules: deps.rules(row.call_id, row.rules_version),
          seq: input.seq,
          meta: SYSTEM,
          occurredAt: input.occurredAt,
          before: c,
          after: c,
        };
        const outcome = await settle(ctx, {
          before,
          after: null,
          event: null,
          meta: SYSTEM,
          deadline: deadlineOfRow(row),
          followUps: [followUp],
          promoted: [],
        });
        if (c.budget === 'waiting' && place.status === 'reserved') {
          await notifyReservation(ctx, { seq: outcome.seq, context: c, deadline: outcome.deadline });
        }
        return outcome;
      });
    },

    /**
     * A run of the first generation hands its snapshot to the register before it continues in the current
     * generation: the consultant's registry id for the address it knew, the size class from the stored form.
     */
    async adoptSnapshot(input: {
      applicationId: string;
      seq: number;
      snapshot: { value: string; context: ApplicationContext };
      deadline: Deadline | null;
    }): Promise<{ context: ApplicationContext }> {
      return deps.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('applications')
          .leftJoin('consultants', 'consultants.id', 'applications.consultant_id')
          .select([
            'applications.call_id',
            'applications.rules_version',
            'applications.form',
            'applications.size_class',
            'applications.created_at',
            'applications.assigned_at',
            'consultants.id as consultant',
          ])
          .where('applications.id', '=', input.applicationId)
          .executeTakeFirstOrThrow();
        // The register's migration left first-generation rows without a size class: the stored form has it.
        const form = (typeof row.form === 'string' ? JSON.parse(row.form) : row.form) as ApplicationForm;
        const context: ApplicationContext = {
          ...input.snapshot.context,
          consultantId: row.consultant ?? input.snapshot.context.consultantId,
          sizeClass: row.size_class ?? sizeClassOf(form, deps.rules(row.call_id, row.rules_version)),
          submittedOn: row.created_at.toISOString().slice(0, 10),
          assignedOn: row.assigned_at?.toISOString().slice(0, 10) ?? null,
        };
        const snapshot = applicationMachine.resolveState({ value: input.snapshot.value, context });
        await advanceRegister(trx, input.applicationId, {
          seq: input.seq,
          snapshot: { value: input.snapshot.value, context },
          columns: registerColumns(stateOf(snapshot), context, input.deadline, snapshot.status !== 'active'),
          generation: 2,
        });
        return { context };
      });
    },
  };
}
