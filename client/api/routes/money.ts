import { BudgetError, budgetOverview, ensureCallBudget } from '../../../db/repositories/budget';
import { UserError } from '../../errors';
import { sendCommand } from '../commands';
import { route, type Route } from '../routes';
import {
  ApplicationIdParams,
  ApplicationViewSchema,
  BudgetBody,
  BudgetListSchema,
  BudgetSchema,
  BudgetSetSchema,
  CallParams,
  FundingBody,
  WithdrawalBody,
} from '../schemas';
import { budgetSignal } from '../../../workflows/messages';
import { currentRules } from '../../../config/calls';

export const moneyRoutes: Route[] = [
  route({
    method: 'POST',
    url: '/applications/:id/funding',
    access: ['operator'],
    summary: 'Record the disbursement (at most the admitted amount, once the money is reserved)',
    params: ApplicationIdParams,
    body: FundingBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => sendCommand(call, call.params.id, { type: 'RECORD_FUNDING', ...call.body }),
  }),
  route({
    method: 'POST',
    url: '/applications/:id/withdrawal',
    access: ['operator'],
    summary: "Record the company's withdrawal (rinuncia), with its reason; reserved money goes back to the call",
    params: ApplicationIdParams,
    body: WithdrawalBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => sendCommand(call, call.params.id, { type: 'WITHDRAW', reason: call.body.reason }),
  }),
  route({
    method: 'GET',
    url: '/budgets',
    access: ['operator', 'auditor'],
    summary: "Every call's budget: total, committed, available, reservations and the reserve list",
    response: BudgetListSchema,
    handler: async ({ api }) => {
      const calls = await api.db.selectFrom('call_budgets').select('call_id').orderBy('call_id').execute();
      return Promise.all(calls.map(async (c) => (await budgetOverview(api.db, c.call_id))!));
    },
  }),
  route({
    method: 'GET',
    url: '/calls/:callId/budget',
    access: ['operator', 'auditor'],
    summary: "A call's budget: total, committed, available, reservations and the reserve list",
    params: CallParams,
    response: BudgetSchema,
    handler: async ({ api, params }) => {
      const overview = await budgetOverview(api.db, params.callId);
      if (!overview)
        throw new UserError('not_found', `call ${params.callId} has no budget yet (no admission so far, none set)`);
      return overview;
    },
  }),
  route({
    method: 'PUT',
    url: '/calls/:callId/budget',
    access: ['operator'],
    summary: "Set a call's budget: raising it promotes the reserve list; below what is committed it is refused",
    params: CallParams,
    body: BudgetBody,
    response: BudgetSetSchema,
    handler: async ({ api, params, body }) => {
      // A budget for a call that does not exist would be a row nobody can use.
      try {
        currentRules(api.config.CALLS_DIR, params.callId);
      } catch {
        throw new UserError('not_found', `no call ${params.callId}`);
      }
      try {
        const { promoted } = await ensureCallBudget(api.db, params.callId, body.totalCents);
        // The promoted admissions hear it from the ledger: each workflow checks its place and records it.
        for (const id of promoted) await api.client.workflow.getHandle(id).signal(budgetSignal);
        return { ...(await budgetOverview(api.db, params.callId))!, promoted };
      } catch (err) {
        if (err instanceof BudgetError) {
          throw new UserError(err.code === 'BUDGET_BELOW_COMMITTED' ? 'event_refused' : 'invalid_input', err.message, [
            { path: 'body.totalCents', message: err.message },
          ]);
        }
        throw err;
      }
    },
  }),
];
