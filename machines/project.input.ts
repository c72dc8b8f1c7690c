import { projectRulesOf } from '../domain/machine-rules';
import type { ApplicationContext } from './application.machine';
import type { ProjectMachineInput } from './project.machine';

/**
 * What a funded application hands its project: the version the commission admitted (its indicators and cost lines
 * are the final report's checklist), the money admitted and disbursed, and the post-award rules it was pinned to.
 * Pure: the funding step's activity and the application's workflow compute the same project from it.
 */
export function projectInputOf(
  c: ApplicationContext,
  funding: { amountCents: number; disbursedOn: string },
): ProjectMachineInput {
  if (!c.preProject) throw new Error(`application ${c.applicationId} was funded without a pre-project: a machine bug`);
  return {
    applicationId: c.applicationId,
    callId: c.callId,
    rulesVersion: c.rulesVersion,
    rules: projectRulesOf(c.rules),
    preProject: c.preProject,
    preProjectVersion: c.forwardedVersion,
    admittedGrantCents: c.preProject.grantCents,
    admittedSubsidyCents: c.subsidyCents,
    disbursedCents: funding.amountCents,
    disbursedOn: funding.disbursedOn,
  };
}
