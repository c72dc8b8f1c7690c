import type { Locale } from '../../domain/format';
import type { ActivityDeps, StepContext } from './context';

/**
 * The people an application's messages reach, read from the register (the workflow carries none of them): the
 * legal representative from the stored form, the consultant and their body from the registry.
 */
export async function peopleOf(
  ctx: Pick<StepContext, 'trx' | 'applicationId'> & { deps: Pick<ActivityDeps, 'recipients'> },
  consultantId: string | null,
) {
  const app = await ctx.trx
    .selectFrom('applications')
    .select(['form', 'legal_name', 'representative_email'])
    .where('id', '=', ctx.applicationId)
    .executeTakeFirstOrThrow();
  const form = (typeof app.form === 'string' ? JSON.parse(app.form) : app.form) as {
    company: { legalRepresentative: { name: string; email: string; locale?: Locale } };
  };
  const representative = form.company.legalRepresentative;
  const consultant = consultantId
    ? await ctx.trx
        .selectFrom('consultants')
        .innerJoin('implementing_bodies', 'implementing_bodies.id', 'consultants.body_id')
        .select(['consultants.id', 'consultants.name', 'consultants.email', 'implementing_bodies.name as body_name'])
        .where('consultants.id', '=', consultantId)
        .executeTakeFirst()
    : undefined;
  return {
    companyName: app.legal_name,
    company: { address: app.representative_email, locale: representative.locale ?? 'it', name: representative.name },
    consultant: consultant ? { address: consultant.email, name: consultant.name } : null,
    consultantName: consultant?.name ?? null,
    bodyName: consultant?.body_name ?? null,
    operators: ctx.deps.recipients.operators,
    commission: ctx.deps.recipients.commission,
  };
}

export type People = Awaited<ReturnType<typeof peopleOf>>;
