import { ApplicationFailure } from '@temporalio/activity';
import { initialTransition, transition } from 'xstate';
import {
  advanceProject,
  appendProjectEvent,
  lockProject,
  openProjectRow,
  projectDeadlineOfRow,
  recordedProjectOutcome,
} from '../../db/repositories/projects';
import { finalReportDueOn, projectDeadlineAfter, type ProjectDeadline } from '../../machines/project.deadlines';
import { projectEffectsOf } from '../../machines/project.effects';
import type { ProjectEvent } from '../../machines/project.events';
import { projectRefusalReason } from '../../machines/project.explain';
import { projectMachine, type ProjectMachineInput, type ProjectState } from '../../machines/project.machine';
import { enqueue } from '../../notifications/outbox';
import { FAILURE, type CommandMeta } from '../../workflows/messages';
import type { ProjectStepOutcome } from '../../workflows/project.steps';
import { payloadDigest } from '../digest';
import { StepInputError, type ActivityDeps, type EffectOutcome, type StepContext } from '../effects/context';
import { peopleOf } from '../effects/people';
import type { ProjectStepContext } from './context';
import { performProjectEffect } from './effects';

const outOfStep = (message: string) => ApplicationFailure.nonRetryable(message, FAILURE.outOfStep);
const today = (occurredAt: string) => occurredAt.slice(0, 10);

/** States whose arrival the company hears of by a plain notice (intentions and decisions have their own). */
const NOTIFIED: readonly ProjectState[] = ['final_report_due', 'under_verification', 'closed', 'withdrawn', 'settled'];

function projectSummary(event: ProjectEvent): Record<string, unknown> | null {
  switch (event.type) {
    case 'EXTEND_REALISATION':
      return { months: event.months };
    case 'SUBMIT_INTERIM_REPORT':
      return { asOf: event.report.asOf, spentToDateCents: event.report.spentToDateCents };
    case 'SUBMIT_FINAL_REPORT':
      return { indicators: event.report.indicators.length, costLines: event.report.costLines.length };
    case 'VERIFY_REPORT':
      return { acceptedCents: event.costLines.reduce((sum, l) => sum + l.acceptedCents, 0) };
    case 'RECORD_REPAYMENT':
      return { amountCents: event.amountCents, repaidOn: event.repaidOn };
    case 'END_REALISATION':
    case 'END_OBSERVATION_PERIOD':
      return { endedOn: event.endedOn };
    case 'EXPIRE_REPORT_DEADLINE':
      return { dueOn: event.dueOn };
    default:
      return null;
  }
}

async function tellCompany(ctx: ProjectStepContext, to: ProjectState, deadline: ProjectDeadline | null) {
  const people = await peopleOf(ctx, null);
  const amountCents = to === 'closed' ? (ctx.after.verification?.money.justifiedCents ?? null) : null;
  await enqueue(ctx.trx, {
    template: 'project.state',
    idempotencyKey: `${ctx.applicationId}:project:${ctx.seq}:state:${people.company.address}`,
    applicationId: ctx.applicationId,
    recipient: people.company,
    payload: {
      applicationId: ctx.applicationId,
      callId: ctx.callId,
      audience: 'company',
      recipientName: people.company.name,
      companyName: people.companyName,
      to,
      deadline: deadline && { kind: deadline.kind, dueOn: deadline.dueOn },
      amountCents,
    },
  });
}

export function projectActivities(deps: ActivityDeps) {
  const full = { ...deps, now: deps.now ?? (() => new Date()) };
  return {
    /** One step of a funded project, one transaction: the same shape as an application's step. */
    async applyProjectStep(input: {
      applicationId: string;
      seq: number;
      event: ProjectEvent;
      meta: CommandMeta;
      occurredAt: string;
    }): Promise<ProjectStepOutcome> {
      try {
        return await deps.db.transaction().execute(async (trx) => {
          const row = await lockProject(trx, input.applicationId);
          if (!row) throw outOfStep(`project ${input.applicationId} is not in the register`);
          if (row.last_seq >= input.seq)
            return (await recordedProjectOutcome(trx, input.applicationId, input.seq)) as ProjectStepOutcome;
          if (row.last_seq !== input.seq - 1)
            throw outOfStep(`the project register is at seq ${row.last_seq}, the workflow at ${input.seq - 1}`);
          const before = projectMachine.resolveState(row.snapshot);
          const refused = projectRefusalReason(before, input.event);
          if (refused) throw outOfStep(`the register refuses what the workflow accepted: ${refused}`);
          const [after, actions] = transition(projectMachine, before, input.event);
          const ctx: ProjectStepContext = {
            trx,
            deps: full,
            applicationId: input.applicationId,
            callId: row.call_id,
            seq: input.seq,
            meta: input.meta,
            occurredAt: input.occurredAt,
            before: before.context,
            after: after.context,
          };
          const promoted: string[] = [];
          for (const effect of projectEffectsOf(actions))
            promoted.push(...((await performProjectEffect(ctx, effect)).promoted ?? []));
          const from = before.value as ProjectState;
          const to = after.value as ProjectState;
          const deadline = projectDeadlineAfter(
            from,
            to,
            projectDeadlineOfRow(row),
            after.context,
            after.context.rules.postAward,
            today(input.occurredAt),
          );
          const outcome: ProjectStepOutcome = { seq: input.seq, state: to, deadline, promoted };
          await appendProjectEvent(trx, {
            applicationId: input.applicationId,
            seq: input.seq,
            eventType: input.event.type,
            from,
            to,
            actor: input.meta.actor,
            role: input.meta.role,
            payloadDigest: payloadDigest(input.event),
            occurredAt: input.occurredAt,
            summary: projectSummary(input.event),
            outcome,
          });
          if (from !== to && NOTIFIED.includes(to)) await tellCompany(ctx, to, deadline);
          await advanceProject(trx, input.applicationId, {
            seq: input.seq,
            snapshot: { value: to, context: after.context },
            deadline,
            final: after.status !== 'active',
          });
          return outcome;
        });
      } catch (err) {
        if (!(err instanceof StepInputError)) throw err;
        throw ApplicationFailure.nonRetryable(err.message, err.kind, err.problems);
      }
    },

    /** A reminder of a project deadline to the company (and, for the final report, the consultant). */
    async queueProjectReminder(input: { applicationId: string; deadline: ProjectDeadline; daysBefore: number }) {
      return deps.db.transaction().execute(async (trx) => {
        const app = await trx
          .selectFrom('applications')
          .select(['call_id', 'consultant_id'])
          .where('id', '=', input.applicationId)
          .executeTakeFirstOrThrow();
        const people = await peopleOf({ trx, applicationId: input.applicationId, deps }, app.consultant_id);
        const readers = [
          { audience: 'company' as const, ...people.company },
          ...(people.consultant && input.deadline.kind === 'final_report'
            ? [{ audience: 'consultant' as const, locale: 'it' as const, ...people.consultant }]
            : []),
        ];
        for (const r of readers) {
          await enqueue(trx, {
            template: 'project.reminder',
            idempotencyKey: `${input.applicationId}:project:reminder:${input.deadline.kind}:${input.deadline.dueOn}:${input.daysBefore}:${r.address}`,
            applicationId: input.applicationId,
            recipient: r,
            payload: {
              applicationId: input.applicationId,
              callId: app.call_id,
              audience: r.audience,
              recipientName: r.name,
              companyName: people.companyName,
              deadline: { kind: input.deadline.kind, dueOn: input.deadline.dueOn },
              daysBefore: input.daysBefore,
            },
          });
        }
        return readers.length;
      });
    },
  };
}

/**
 * The funding step opens the project's register row (seq 0, the machine's first snapshot, its first deadline) and
 * tells the company and the consultant, in the funding's own transaction; the application's workflow then starts
 * the project's workflow from the same input.
 */
export async function openProject(ctx: StepContext, input: ProjectMachineInput): Promise<EffectOutcome | void> {
  const snapshot = initialTransition(projectMachine, input)[0];
  const state = snapshot.value as ProjectState;
  const deadline = projectDeadlineAfter(
    state,
    state,
    null,
    snapshot.context,
    input.rules.postAward,
    today(ctx.occurredAt),
  );
  const opened = await openProjectRow(ctx.trx, {
    applicationId: ctx.applicationId,
    callId: ctx.callId,
    snapshot: { value: state, context: snapshot.context },
    deadline,
  });
  if (!opened) return;
  await appendProjectEvent(ctx.trx, {
    applicationId: ctx.applicationId,
    seq: 0,
    eventType: 'START_PROJECT',
    from: null,
    to: state,
    actor: ctx.meta.actor,
    role: ctx.meta.role,
    payloadDigest: payloadDigest(input),
    occurredAt: ctx.occurredAt,
    summary: { disbursedCents: input.disbursedCents, disbursedOn: input.disbursedOn },
  });
  // The company reads "funded" first, then what its project owes: these messages follow the funding's own.
  return { afterTransition: () => announceProject(ctx, input, deadline) };
}

async function announceProject(
  ctx: StepContext,
  input: ProjectMachineInput,
  deadline: ReturnType<typeof projectDeadlineAfter>,
) {
  const people = await peopleOf(ctx, ctx.after.consultantId);
  const readers = [
    { audience: 'company' as const, ...people.company },
    ...(people.consultant ? [{ audience: 'consultant' as const, locale: 'it' as const, ...people.consultant }] : []),
  ];
  for (const r of readers) {
    await enqueue(ctx.trx, {
      template: 'project.started',
      idempotencyKey: `${ctx.applicationId}:project:0:${r.address}`,
      applicationId: ctx.applicationId,
      recipient: r,
      payload: {
        applicationId: ctx.applicationId,
        callId: ctx.callId,
        audience: r.audience,
        recipientName: r.name,
        companyName: people.companyName,
        realisationEndsOn: deadline?.dueOn ?? input.disbursedOn,
        finalReportDueOn: finalReportDueOn(deadline?.dueOn ?? input.disbursedOn, input.rules.postAward),
      },
    });
  }
}
