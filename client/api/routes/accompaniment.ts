import type { FastifyBaseLogger } from 'fastify';
import { romeToday } from '../../../domain/rome';
import { UserError } from '../../errors';
import { ensureConsultant } from '../../service/registry';
import { sendCommand } from '../commands';
import { route, type ApiContext, type Call, type Route } from '../routes';
import {
  ApplicationIdParams,
  ApplicationViewSchema,
  AssignmentBody,
  ConfirmationBody,
  ConfirmedSchema,
  DisputedSchema,
  PreProjectBody,
  SessionBody,
  SessionSlotBody,
} from '../schemas';
import { assertReadable } from '../visibility';
import { applicationView } from '../../service/register';

/** Consultants act on their own body's applications only: checked before the command is sent. */
export async function mayAct(call: Call<{ id: string }, unknown, unknown>) {
  assertReadable(call.user!, await applicationView(call.api.db, call.params.id));
}

const onBehalf = ['consultant', 'operator'] as const;

export const accompanimentRoutes: Route[] = [
  route({
    method: 'POST',
    url: '/applications/:id/assignment',
    access: ['operator'],
    summary:
      'Assign an implementing body and its consultant (joining the registry on first assignment), from the day it ' +
      'was decided (effectiveOn: today unless given; never in the future, never before submission)',
    params: ApplicationIdParams,
    body: AssignmentBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      const { api, params, body } = call;
      const today = romeToday(new Date());
      const effectiveOn = body.effectiveOn ?? today;
      const view = await applicationView(api.db, params.id);
      if (effectiveOn > today) {
        throw new UserError('invalid_input', `effectiveOn: ${effectiveOn} is in the future`, [
          { path: 'body.effectiveOn', message: 'an assignment is recorded once decided: today or earlier' },
        ]);
      }
      const submittedOn = view.facts?.submittedOn ?? view.submittedAt.slice(0, 10);
      if (effectiveOn < submittedOn) {
        throw new UserError('invalid_input', `effectiveOn: ${effectiveOn} is before the submission`, [
          { path: 'body.effectiveOn', message: `the application was submitted on ${submittedOn}` },
        ]);
      }
      const consultantId = await ensureConsultant(api.db, body.implementingBody, body.consultant);
      return sendCommand(call, params.id, {
        type: 'ASSIGN_BODY',
        implementingBody: body.implementingBody,
        consultantId,
        effectiveOn,
      });
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/sessions',
    access: onBehalf,
    summary: 'Log an accompaniment session; the company is e-mailed a code and a personal link to confirm it',
    params: ApplicationIdParams,
    body: SessionBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      await mayAct(call);
      return sendCommand(call, call.params.id, { type: 'LOG_SESSION', session: call.body.session });
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/sessions/resend-code',
    access: onBehalf,
    summary: 'Issue a new code and link for a session the company has not answered (the old ones stop working)',
    params: ApplicationIdParams,
    body: SessionSlotBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      await mayAct(call);
      return sendCommand(call, call.params.id, { type: 'RESEND_SESSION_CODE', ...call.body });
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/accompaniment/complete',
    access: onBehalf,
    summary: 'Close the accompaniment once the confirmed hours reach the minimum (refused, naming what is missing)',
    params: ApplicationIdParams,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      await mayAct(call);
      return sendCommand(call, call.params.id, { type: 'COMPLETE_ACCOMPANIMENT' });
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/pre-project',
    access: onBehalf,
    summary: 'Submit a (new version of the) pre-project: indicators, cost lines, grant and loan',
    params: ApplicationIdParams,
    body: PreProjectBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      await mayAct(call);
      return sendCommand(call, call.params.id, { type: 'SUBMIT_PRE_PROJECT', preProject: call.body.preProject });
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/forward',
    access: ['operator'],
    summary: 'Forward the latest pre-project version to the commission (it becomes immutable)',
    params: ApplicationIdParams,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => sendCommand(call, call.params.id, { type: 'FORWARD_TO_COMMISSION' }),
  }),
  route({
    method: 'POST',
    url: '/applications/:id/sessions/confirm',
    access: 'company',
    strictRateLimit: true,
    summary: 'The company confirms a session with the single-use code from its e-mail (the code is the credential)',
    params: ApplicationIdParams,
    body: ConfirmationBody,
    response: ConfirmedSchema,
    handler: async (call) => companyAnswer(call, 'CONFIRM_SESSION'),
  }),
  route({
    method: 'POST',
    url: '/applications/:id/sessions/dispute',
    access: 'company',
    strictRateLimit: true,
    summary: 'The company says, with the code from its e-mail, that a logged session did not take place',
    params: ApplicationIdParams,
    body: ConfirmationBody,
    response: DisputedSchema,
    handler: async (call) => companyAnswer(call, 'DISPUTE_SESSION'),
  }),
];

/** Every refused answer looks alike (same status, same words, at least this long): a stranger learns nothing. */
export const REFUSAL_FLOOR_MS = 400;

/** The one answer to any refused code or link: the JSON route's 400 and the pages' generic page say this. */
export const GENERIC_COMPANY_REFUSAL = 'the code is not valid for this session (wrong, expired or already used)';

/**
 * The company's answer for a session, with the code from its e-mail (the JSON route, the /conferma page) or its
 * personal link's token (the /s/<token> page): sent as the company, and any refusal turned into the one generic
 * answer, after the same delay.
 */
export async function answerSession(
  api: ApiContext,
  log: FastifyBaseLogger,
  applicationId: string,
  type: 'CONFIRM_SESSION' | 'DISPUTE_SESSION',
  answer: { date: string; start: string } & ({ code: string } | { link: string }),
) {
  const started = Date.now();
  try {
    await api.service.send(applicationId, { type, ...answer }, { actor: 'company', role: 'company' });
    return type === 'CONFIRM_SESSION' ? { confirmed: true } : { disputed: true };
  } catch (err) {
    if (err instanceof UserError && err.code !== 'temporal_unavailable' && err.code !== 'internal') {
      log.info({ reason: err.message }, 'session answer refused');
      await new Promise((r) => setTimeout(r, Math.max(0, REFUSAL_FLOOR_MS - (Date.now() - started))));
      throw new UserError('invalid_input', GENERIC_COMPANY_REFUSAL, [
        { path: 'body.code', message: 'not valid for this session' },
      ]);
    }
    throw err;
  }
}

const companyAnswer = (
  call: Call<{ id: string }, unknown, { date: string; start: string; code: string }>,
  type: 'CONFIRM_SESSION' | 'DISPUTE_SESSION',
) => answerSession(call.api, call.req.log, call.params.id, type, call.body);
