import { sql } from 'kysely';
import { returnToCall } from '../../db/repositories/budget';
import type { ProjectEffect, ProjectEffectName, ProjectEffects } from '../../machines/project.effects';
import { addDays } from '../../machines/project.deadlines';
import type { DocumentRef } from '../../machines/project.events';
import { enqueue } from '../../notifications/outbox';
import { StepInputError } from '../effects/context';
import { peopleOf } from '../effects/people';
import type { ProjectStepContext } from './context';

export interface ProjectEffectOutcome {
  /** Admissions a repayment let through the call's reserve list. */
  promoted?: string[];
}

/** Every document a report names must be one of this application's stored documents, with that digest and size. */
async function checkDocuments(ctx: ProjectStepContext, refs: readonly DocumentRef[], where: string) {
  const digests = [...new Set(refs.map((r) => r.sha256))];
  if (!digests.length) return;
  const rows = await ctx.trx
    .selectFrom('documents')
    .select(['id', 'sha256', 'size_bytes'])
    .where('application_id', '=', ctx.applicationId)
    .where('sha256', 'in', digests)
    .execute();
  const missing = refs.filter((r) => !rows.some((row) => row.sha256 === r.sha256 && row.size_bytes === r.sizeBytes));
  if (missing.length) {
    throw new StepInputError(
      'InvalidDocument',
      missing.map((m) => ({
        path: where,
        message: `document ${m.sha256.slice(0, 12)}… is not uploaded for this application`,
      })),
    );
  }
  // Named by a report, they are the application's documents: staff may download them.
  await ctx.trx
    .updateTable('documents')
    .set({ attached_at: new Date(ctx.occurredAt) })
    .where('application_id', '=', ctx.applicationId)
    .where('sha256', 'in', digests)
    .where('attached_at', 'is', null)
    .execute();
}

async function storeRecord(ctx: ProjectStepContext, kind: 'verification' | 'observations', content: unknown) {
  await ctx.trx
    .insertInto('project_records')
    .values({
      application_id: ctx.applicationId,
      seq: ctx.seq,
      kind,
      content: JSON.stringify(content),
      recorded_by: ctx.meta.actor,
      recorded_at: ctx.occurredAt,
    })
    .execute();
}

/** The company and the operators hear of an intended or decided reduction or revocation. */
async function tellCompanyAndOperators<T extends 'project.intention' | 'project.decision'>(
  ctx: ProjectStepContext,
  template: T,
  fields: Record<string, unknown>,
) {
  const people = await peopleOf(ctx, null);
  const readers = [
    { audience: 'company' as const, ...people.company },
    ...people.operators.map((address) => ({
      audience: 'operator' as const,
      address,
      name: null,
      locale: 'it' as const,
    })),
  ];
  for (const r of readers) {
    await enqueue(ctx.trx, {
      template,
      idempotencyKey: `${ctx.applicationId}:project:${ctx.seq}:${template}:${r.address}`,
      applicationId: ctx.applicationId,
      recipient: r,
      payload: {
        applicationId: ctx.applicationId,
        callId: ctx.callId,
        audience: r.audience,
        recipientName: r.name,
        companyName: people.companyName,
        ...fields,
      },
    } as never);
  }
}

type Handlers = {
  [K in ProjectEffectName]: (ctx: ProjectStepContext, p: ProjectEffects[K]) => Promise<ProjectEffectOutcome | void>;
};

/** One handler per effect the project's machine declares (machines/project.effects.ts). */
const handlers: Handlers = {
  async storeInterimReport(ctx, p) {
    await checkDocuments(ctx, p.report.documents, 'report.documents');
    await ctx.trx
      .insertInto('project_reports')
      .values({
        application_id: ctx.applicationId,
        kind: 'interim',
        number: p.number,
        content: JSON.stringify(p.report),
        submitted_by: ctx.meta.actor,
        submitted_at: ctx.occurredAt,
      })
      .execute();
  },
  async storeFinalReport(ctx, p) {
    await checkDocuments(
      ctx,
      p.report.indicators.map((i) => i.evidence),
      'report.indicators',
    );
    await checkDocuments(
      ctx,
      p.report.costLines.flatMap((l) => l.documents),
      'report.costLines',
    );
    const previous = await ctx.trx
      .selectFrom('project_reports')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('application_id', '=', ctx.applicationId)
      .where('kind', '=', 'final')
      .executeTakeFirstOrThrow();
    await ctx.trx
      .insertInto('project_reports')
      .values({
        application_id: ctx.applicationId,
        kind: 'final',
        number: Number(previous.n) + 1,
        content: JSON.stringify(p.report),
        submitted_by: ctx.meta.actor,
        submitted_at: ctx.occurredAt,
      })
      .execute();
  },
  storeVerification: (ctx, p) => storeRecord(ctx, 'verification', p),
  async storeObservations(ctx, p) {
    await checkDocuments(ctx, p.observations.documents, 'observations.documents');
    await storeRecord(ctx, 'observations', p);
  },
  notifyIntention: (ctx, p) =>
    tellCompanyAndOperators(ctx, 'project.intention', {
      kind: p.kind,
      reasons: p.reasons,
      recoveryCents: p.recoveryCents,
      observationsDueOn: addDays(ctx.occurredAt.slice(0, 10), p.observationDays),
    }),
  notifyDecision: (ctx, p) =>
    tellCompanyAndOperators(ctx, 'project.decision', {
      kind: p.kind,
      decision: p.decision,
      motivation: p.motivation,
      recoveryCents: p.recoveryCents,
    }),
  /** The recovery order: what the company must repay. The call gets the money back as it is repaid. */
  async orderRecovery(ctx, p) {
    await ctx.trx
      .insertInto('recovery_orders')
      .values({
        application_id: ctx.applicationId,
        call_id: ctx.callId,
        kind: p.kind,
        amount_cents: p.amountCents,
        reasons: JSON.stringify(p.reasons),
        ordered_at: ctx.occurredAt,
      })
      .execute();
  },
  /** Money repaid goes back to the call's budget, and may let admissions through its reserve list. */
  async recordRepayment(ctx, p) {
    await ctx.trx
      .updateTable('recovery_orders')
      .set({ repaid_cents: sql<string>`repaid_cents + ${p.amountCents}` })
      .where('application_id', '=', ctx.applicationId)
      .execute();
    const promoted = await returnToCall(ctx.trx, {
      callId: ctx.callId,
      applicationId: ctx.applicationId,
      amountCents: p.amountCents,
      key: `repay:${ctx.applicationId}:${ctx.seq}`,
    });
    return { promoted };
  },
};

export async function performProjectEffect<K extends ProjectEffectName>(
  ctx: ProjectStepContext,
  effect: Extract<ProjectEffect, { type: K }>,
) {
  return (await (handlers[effect.type] as Handlers[K])(ctx, effect.params as ProjectEffects[K])) ?? {};
}
