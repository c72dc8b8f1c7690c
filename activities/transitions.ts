import { appendAudit } from '../db/repositories/register';
import { ineligibilityReasons } from '../domain/eligibility';
import type { ApplicationForm } from '../domain/application';
import type { ApplicationContext, ApplicationState } from '../machines/application.machine';
import type { Deadline } from '../machines/deadlines';
import type { ApplicationEvent } from '../machines/events';
import { enqueue } from '../notifications/outbox';
import { recipientsOfReservation, recipientsOfState } from '../notifications/recipients';
import type { CommandMeta } from '../workflows/messages';
import { payloadDigest } from './digest';
import type { StepContext } from './effects/context';
import { peopleOf } from './effects/people';

/**
 * What the audit trail shows of an event: the facts people act on (dates, amounts, decisions, digests), never the
 * personal ones (attendees, motivations, the pre-project's text) which stay in their own tables.
 */
export function auditSummary(event: ApplicationEvent): Record<string, unknown> | null {
  switch (event.type) {
    case 'ASSIGN_BODY':
      return { implementingBody: event.implementingBody, effectiveOn: event.effectiveOn };
    case 'LOG_SESSION':
      return { date: event.session.date, start: event.session.start, end: event.session.end };
    case 'CONFIRM_SESSION':
    case 'DISPUTE_SESSION':
      return { date: event.date, start: event.start, with: event.link ? 'link' : 'code' };
    case 'RESEND_SESSION_CODE':
      return { date: event.date, start: event.start };
    case 'ATTACH_DOCUMENT':
      return { kind: event.document.kind, sha256: event.document.sha256, sizeBytes: event.document.sizeBytes };
    case 'SUBMIT_PRE_PROJECT':
      return { grantCents: event.preProject.grantCents, costLines: event.preProject.costLines.length };
    case 'DECLARE_CONFLICT':
      return { conflicted: event.conflicted };
    case 'SUBMIT_EVALUATION':
      return { recommendation: event.recommendation };
    case 'RECORD_FUNDING':
      return { amountCents: event.amountCents, disbursedOn: event.disbursedOn };
    case 'REJECT_INELIGIBLE':
      return { reasons: event.reasons.map((r) => r.code) };
    case 'RECORD_VERIFIED_HOURS':
      return { verifiedMinutes: event.verifiedMinutes };
    case 'RECORD_BUDGET':
      return { status: event.status, position: event.position };
    case 'LAPSE':
      return { deadline: event.deadline, dueAt: event.dueAt };
    default:
      return null;
  }
}

export interface Transition {
  seq: number;
  event: ApplicationEvent;
  meta: CommandMeta;
  from: ApplicationState;
  to: ApplicationState;
  context: ApplicationContext;
  deadline: Deadline | null;
  /** Where the step leaves an admission waiting for money: its messages say so. */
  reserveListPosition?: number | null;
  outcome?: unknown;
}

/** One transition in the audit trail, and, when the state changed, the messages it sends, in the step's transaction. */
export async function recordTransition(ctx: StepContext, t: Transition): Promise<void> {
  await appendAudit(ctx.trx, {
    applicationId: ctx.applicationId,
    seq: t.seq,
    eventType: t.event.type,
    from: t.from,
    to: t.to,
    actor: t.meta.actor,
    role: t.meta.role,
    payloadDigest: payloadDigest(t.event),
    occurredAt: ctx.occurredAt,
    summary: auditSummary(t.event),
    outcome: t.outcome,
  });
  if (t.from !== t.to) await notifyTransition(ctx, t);
}

async function notifyTransition(ctx: StepContext, t: Transition) {
  const people = await peopleOf(ctx, t.context.consultantId);
  const c = t.context;
  const reasons = t.event.type === 'REJECT_INELIGIBLE' ? await ineligibilityWording(ctx) : [];
  const amountCents = t.to === 'admitted' ? c.admittedCents : t.to === 'funded' ? c.fundedCents : null;
  for (const r of recipientsOfState(t.to, people)) {
    await enqueue(ctx.trx, {
      template: `application.${t.to}`,
      idempotencyKey: `${ctx.applicationId}:${t.seq}:${r.audience}:${r.address}`,
      applicationId: ctx.applicationId,
      recipient: r,
      payload: {
        applicationId: ctx.applicationId,
        callId: ctx.callId,
        audience: r.audience,
        recipientName: r.name,
        from: t.from,
        to: t.to,
        event: t.event.type,
        actorRole: t.meta.role,
        deadline: t.deadline,
        motivation: c.motivation && ['rejected', 'admitted', 'pre_project'].includes(t.to) ? c.motivation : null,
        reasons,
        amountCents,
        minimumHours: c.rules.minimumAccompanimentMinutes / 60,
        companyName: people.companyName,
        bodyName: people.bodyName,
        consultantName: people.consultantName,
        reserveListPosition: t.to === 'admitted' ? (t.reserveListPosition ?? null) : null,
      },
    } as never);
  }
}

/** A waiting admission's money is now reserved: the company and the operators hear it, in the step's transaction. */
export async function notifyReservation(
  ctx: StepContext,
  t: { seq: number; context: ApplicationContext; deadline: Deadline | null },
) {
  const people = await peopleOf(ctx, t.context.consultantId);
  for (const r of recipientsOfReservation(people)) {
    await enqueue(ctx.trx, {
      template: 'budget.reserved',
      idempotencyKey: `${ctx.applicationId}:${t.seq}:reserved:${r.audience}:${r.address}`,
      applicationId: ctx.applicationId,
      recipient: r,
      payload: {
        applicationId: ctx.applicationId,
        callId: ctx.callId,
        audience: r.audience,
        recipientName: r.name,
        companyName: people.companyName,
        amountCents: t.context.admittedCents ?? 0,
        deadline: t.deadline,
      },
    });
  }
}

/** The reasons of an ineligibility in words: computed again from the stored form, which the workflow never saw. */
async function ineligibilityWording(ctx: StepContext): Promise<string[]> {
  const row = await ctx.trx
    .selectFrom('applications')
    .select('form')
    .where('id', '=', ctx.applicationId)
    .executeTakeFirstOrThrow();
  const form = (typeof row.form === 'string' ? JSON.parse(row.form) : row.form) as ApplicationForm;
  return ineligibilityReasons(form, ctx.rules, ctx.deps.territory(ctx.rules.territory.comuniFile)).map(
    (r) => r.message,
  );
}
