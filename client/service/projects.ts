import type { Client } from '@temporalio/client';
import type { Db } from '../../db/connect';
import type { Executor } from '../../db/repositories/applications';
import { projectDeadlineOfRow } from '../../db/repositories/projects';
import { impactReport, type FundedProjectFigures, type ImpactFilter } from '../../domain/impact';
import type { Theme } from '../../domain/themes';
import { finalReportDueOn, realisationEndsOn } from '../../machines/project.deadlines';
import type { ProjectCommand } from '../../machines/project.events';
import { allowedProjectCommands } from '../../machines/project.explain';
import { outstandingCents, projectMachine, projectStatus, type ProjectState } from '../../machines/project.machine';
import {
  projectCommandUpdate,
  projectWorkflowId,
  type CommandMeta,
  type ProjectStepResult,
} from '../../workflows/messages';
import { UserError } from '../errors';
import { toUserError } from './temporal-errors';

/** Sends a command to an application's funded project (its own workflow). */
export async function sendToProject(
  client: Client,
  db: Db,
  applicationId: string,
  event: ProjectCommand,
  meta: CommandMeta,
  updateId?: string,
): Promise<ProjectStepResult> {
  const row = await db
    .selectFrom('projects')
    .select(['state', 'closed_at'])
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  if (!row) throw new UserError('not_found', `application ${applicationId} has no funded project`);
  if (row.closed_at)
    throw new UserError('event_refused', `the project is ${row.state}, a final state: no further events are accepted`);
  try {
    return await client.workflow.getHandle(projectWorkflowId(applicationId)).executeUpdate(projectCommandUpdate, {
      args: [{ event, meta }],
      ...(updateId ? { updateId } : {}),
    });
  } catch (err) {
    throw toUserError(err, applicationId);
  }
}

/** The project as the register holds it: state, deadline, reports, verification, recovery, and its timeline. */
export async function projectView(db: Executor, applicationId: string) {
  const row = await db
    .selectFrom('projects')
    .selectAll()
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  if (!row) throw new UserError('not_found', `application ${applicationId} has no funded project`);
  const snapshot = projectMachine.resolveState(row.snapshot);
  const [events, reports, recovery] = await Promise.all([
    db.selectFrom('project_events').selectAll().where('application_id', '=', applicationId).orderBy('seq').execute(),
    db
      .selectFrom('project_reports')
      .selectAll()
      .where('application_id', '=', applicationId)
      .orderBy('submitted_at')
      .execute(),
    db.selectFrom('recovery_orders').selectAll().where('application_id', '=', applicationId).executeTakeFirst(),
  ]);
  const c = snapshot.context;
  const deadline = projectDeadlineOfRow(row);
  const realisationEnd =
    c.realisationEndedOn ?? realisationEndsOn(c.disbursedOn, c.rules.postAward, c.extension?.months ?? 0);
  return {
    applicationId,
    callId: row.call_id,
    state: row.state as ProjectState,
    status: projectStatus(row.state as ProjectState, c),
    final: snapshot.status !== 'active',
    seq: row.last_seq,
    deadline,
    allowedCommands: allowedProjectCommands(snapshot),
    // What the final report must account for: the admitted pre-project's indicators and cost lines, by position.
    preProject: {
      version: c.preProjectVersion,
      title: c.preProject.title,
      indicators: c.preProject.indicators,
      costLines: c.preProject.costLines,
    },
    admittedGrantCents: c.admittedGrantCents,
    admittedSubsidyCents: c.admittedSubsidyCents,
    disbursedCents: c.disbursedCents,
    disbursedOn: c.disbursedOn,
    realisationEndsOn: realisationEnd,
    // Once the report is in, its due date is history; while it runs, the deadline the workflow's timer keeps.
    finalReportDueOn: c.finalReport
      ? null
      : deadline?.kind === 'final_report'
        ? deadline.dueOn
        : finalReportDueOn(realisationEnd, c.rules.postAward),
    interimReports: c.interimReports,
    extension: c.extension,
    finalReport: c.finalReport,
    verification: c.verification,
    intention: c.intention,
    pastIntentions: c.pastIntentions,
    recovery: recovery
      ? {
          kind: recovery.kind,
          orderedCents: Number(recovery.amount_cents),
          repaidCents: Number(recovery.repaid_cents),
          outstandingCents: outstandingCents(c),
        }
      : null,
    reports: reports.map((r) => ({ kind: r.kind, number: r.number, submittedAt: r.submitted_at })),
    timeline: events.map((e) => ({
      seq: e.seq,
      at: e.occurred_at.toISOString(),
      event: e.event_type,
      from: e.from_state,
      to: e.to_state,
      role: e.role,
      summary: e.summary,
    })),
  };
}

/**
 * The programme's impact from the register: every funded project's indicators (baseline, target, what the final
 * report measured) and money (granted, disbursed, repaid). No personal data: the CSV can be published.
 */
export async function programmeImpact(db: Executor, filter: ImpactFilter) {
  const rows = await db
    .selectFrom('projects')
    .innerJoin('applications', 'applications.id', 'projects.application_id')
    .leftJoin('recovery_orders', 'recovery_orders.application_id', 'projects.application_id')
    .select([
      'projects.state',
      'projects.snapshot',
      'applications.call_id',
      'applications.themes',
      'recovery_orders.repaid_cents',
    ])
    // In the order the projects were funded: without it the rows come in storage order, which every update of a
    // project changes, and two exports of the same figures would list the indicators differently.
    .orderBy('projects.started_at')
    .orderBy('projects.application_id')
    .execute();
  const figures: FundedProjectFigures[] = rows.map((r) => {
    const c = r.snapshot.context;
    const measured = new Map(c.finalReport?.indicators.map((i) => [i.indicator, i.measured]) ?? []);
    return {
      callId: r.call_id,
      themes: r.themes as Theme[],
      status: projectStatus(r.state as ProjectState, c),
      indicators: c.preProject.indicators.map((i, n) => ({ ...i, measured: measured.get(n + 1) ?? null })),
      grantedCents: c.admittedGrantCents + c.admittedSubsidyCents,
      disbursedCents: c.disbursedCents,
      recoveredCents: Number(r.repaid_cents ?? 0),
    };
  });
  return impactReport(figures, filter);
}
