import type { Db } from '../../db/connect';
import type { PublicUser } from '../../db/repositories/users';
import { eligibleCostOf, supportOf, type PreProject } from '../../domain/pre-project';
import type { CallRules } from '../../domain/rules';
import type { Evaluation } from '../../machines/commission';
import { UserError } from '../errors';
import { applicationView, type ApplicationView } from '../service/register';

/** Commission-internal events: a member sees the others' only once they may see the others' evaluations. */
const COMMISSION_EVENTS = new Set(['DECLARE_CONFLICT', 'SUBMIT_EVALUATION']);

/**
 * Whether this person may read this application at all: consultants their body's only; commission members those
 * forwarded to the commission (now or before); operators and auditors all. Refused with 403, never a partial view.
 */
export function assertReadable(user: PublicUser, view: ApplicationView): void {
  if (user.role === 'consultant' && view.implementingBody !== user.body_id) {
    throw new UserError('forbidden', `application ${view.applicationId} is not assigned to your implementing body`);
  }
  if (user.role === 'commission' && !(view.facts && view.facts.forwardedVersion > 0)) {
    throw new UserError('forbidden', `application ${view.applicationId} has not been forwarded to the commission`);
  }
}

/** Whether a member may see the other members' evaluations: no conflict declared, and their own one submitted. */
export function seesOthersEvaluations(user: PublicUser, view: ApplicationView): boolean {
  const facts = view.facts;
  if (!facts || user.role !== 'commission') return user.role === 'operator' || user.role === 'auditor';
  return (
    facts.conflicts[user.id] === false &&
    facts.evaluations.some((e) => e.member === user.id && e.version === facts.forwardedVersion)
  );
}

/** The rules an application is pinned to (ApiContext.rules). */
export type RulesOf = (callId: string, version: number) => CallRules;

/** What the commission may know of the pre-project: the version forwarded to it and the figures derived from it. */
export function forwardedFigures(preProject: PreProject | null, rules: CallRules) {
  return preProject
    ? { eligibleCostCents: eligibleCostOf(preProject), requestedCents: supportOf(preProject, rules).totalCents }
    : { eligibleCostCents: null, requestedCents: null };
}

/**
 * What this person may read of an application they may read: the commission's work stays the commission's (and,
 * within it, a member's own until they have evaluated), consultants do not see the evaluations, the commission sees
 * the pre-project version it received, and nothing of a newer one (its figures, its submission's summary).
 */
export async function visibleView(
  db: Db,
  user: PublicUser,
  applicationId: string,
  rules: RulesOf,
): Promise<ApplicationView> {
  const view = await applicationView(db, applicationId);
  assertReadable(user, view);
  if (!view.facts || user.role === 'operator' || user.role === 'auditor') return view;
  const facts = { ...view.facts };
  if (user.role === 'consultant') {
    return {
      ...view,
      facts: { ...facts, conflicts: {}, evaluations: [] },
      timeline: view.timeline.filter((t) => !COMMISSION_EVENTS.has(t.event)),
    };
  }
  const all = seesOthersEvaluations(user, view);
  const own = (e: Evaluation) => e.member === user.id;
  const preProject = await forwardedPreProject(db, applicationId, facts.forwardedVersion);
  const figures = forwardedFigures(preProject, rules(view.callId, view.rulesVersion));
  // The n-th submission recorded is version n: those after the forwarded one are drafts the commission has not got.
  let submissions = 0;
  const received = (t: ApplicationView['timeline'][number]) =>
    t.event !== 'SUBMIT_PRE_PROJECT' || ++submissions <= facts.forwardedVersion;
  const timeline = view.timeline.filter(received);
  return {
    ...view,
    requestedCents: figures.requestedCents,
    consultant: view.consultant && { ...view.consultant, email: '' },
    facts: {
      ...facts,
      ...figures,
      preProject,
      preProjectVersion: facts.forwardedVersion,
      conflicts: all
        ? facts.conflicts
        : Object.fromEntries(Object.entries(facts.conflicts).filter(([m]) => m === user.id)),
      evaluations: all ? facts.evaluations : facts.evaluations.filter(own),
    },
    timeline: all ? timeline : timeline.filter((t) => !COMMISSION_EVENTS.has(t.event)),
  };
}

export async function forwardedPreProject(db: Db, applicationId: string, version: number): Promise<PreProject | null> {
  const row = await db
    .selectFrom('pre_projects')
    .select('content')
    .where('application_id', '=', applicationId)
    .where('version', '=', version)
    .where('forwarded_at', 'is not', null)
    .executeTakeFirst();
  if (!row) return null;
  return (typeof row.content === 'string' ? JSON.parse(row.content) : row.content) as PreProject;
}
