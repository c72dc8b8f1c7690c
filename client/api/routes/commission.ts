import { UserError } from '../../errors';
import { applicationView } from '../../service/register';
import { sendCommand } from '../commands';
import { route, type Route } from '../routes';
import {
  ApplicationIdParams,
  ApplicationViewSchema,
  CallParams,
  ConflictBody,
  CriteriaSchema,
  DecisionBody,
  decisionEvent,
  EvaluationBody,
  PreProjectVersionsSchema,
} from '../schemas';
import { assertReadable } from '../visibility';
import { currentRules } from '../../../config/calls';

/** A member who declared a conflict is refused at the door (403): the application is not theirs to judge. */
async function notConflicted(
  db: Parameters<typeof applicationView>[0],
  userId: string,
  applicationId: string,
  what: string,
) {
  const view = await applicationView(db, applicationId);
  if (view.facts?.conflicts[userId] === true) {
    throw new UserError('forbidden', `you declared a conflict of interest on ${applicationId} and cannot ${what} it`);
  }
  return view;
}

export const commissionRoutes: Route[] = [
  route({
    method: 'POST',
    url: '/applications/:id/conflict',
    access: ['commission'],
    summary:
      'Declare whether you have a conflict of interest on an application, before evaluating it (a conflict is final)',
    params: ApplicationIdParams,
    body: ConflictBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      assertReadable(call.user!, await applicationView(call.api.db, call.params.id));
      return sendCommand(call, call.params.id, {
        type: 'DECLARE_CONFLICT',
        member: call.user!.id,
        conflicted: call.body.conflicted,
      });
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/evaluations',
    access: ['commission'],
    summary:
      'Submit your evaluation: a score per criterion of the call (GET /calls/{callId}/criteria), a recommendation ' +
      "and a motivation; the quorum's majority decides",
    params: ApplicationIdParams,
    body: EvaluationBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      assertReadable(call.user!, await notConflicted(call.api.db, call.user!.id, call.params.id, 'evaluate'));
      return sendCommand(call, call.params.id, { type: 'SUBMIT_EVALUATION', member: call.user!.id, ...call.body });
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/decision',
    access: ['commission'],
    summary: "The chair records the commission's decision: approve, reject or request integration",
    params: ApplicationIdParams,
    body: DecisionBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      if (!call.user!.chair) {
        throw new UserError(
          'forbidden',
          'only the chair of the commission records a decision; members submit evaluations',
        );
      }
      assertReadable(call.user!, await notConflicted(call.api.db, call.user!.id, call.params.id, 'decide'));
      const { decision, motivation } = call.body;
      return sendCommand(call, call.params.id, { type: decisionEvent[decision], motivation, chair: call.user!.id });
    },
  }),
  route({
    method: 'GET',
    url: '/applications/:id/pre-projects',
    access: ['operator', 'auditor', 'commission', 'consultant'],
    summary:
      'The pre-project versions you may read (the commission: those forwarded to it), with indicators and cost lines',
    params: ApplicationIdParams,
    response: PreProjectVersionsSchema,
    handler: async ({ api, params, user }) => {
      assertReadable(user!, await applicationView(api.db, params.id));
      let query = api.db.selectFrom('pre_projects').selectAll().where('application_id', '=', params.id);
      if (user!.role === 'commission') query = query.where('forwarded_at', 'is not', null);
      const rows = await query.orderBy('version').execute();
      return rows.map((r) => ({
        version: r.version,
        content: typeof r.content === 'string' ? JSON.parse(r.content) : r.content,
        digest: r.content_digest,
        submittedAt: r.submitted_at,
        forwardedAt: r.forwarded_at,
      }));
    },
  }),
  route({
    method: 'GET',
    url: '/calls/:callId/criteria',
    access: ['operator', 'auditor', 'commission', 'consultant'],
    summary: "A call's evaluation criteria (label, maximum, guidance), quorum and minimum score: what members score",
    params: CallParams,
    response: CriteriaSchema,
    handler: async ({ api, params }) => {
      let rules;
      try {
        rules = currentRules(api.config.CALLS_DIR, params.callId);
      } catch {
        throw new UserError('not_found', `no call ${params.callId}`);
      }
      const { quorum, criteria, minimumScoreBps } = rules.commission;
      return { callId: rules.callId, rulesVersion: rules.version, quorum, minimumScoreBps, criteria };
    },
  }),
];
