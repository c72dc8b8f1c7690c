import { Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { z } from 'zod';
import { currentRules } from '../config/calls';
import type { Config } from '../config/env';
import { ApplicationFormSchema } from '../domain/application';
import type { ApplicationState } from '../machines/application.machine';
import { ApplicationCommandSchema, type ApplicationCommand } from '../machines/events';
import { applicationWorkflow } from '../workflows';
import { commandSignal, commandUpdate, viewQuery, type ApplicationView, type CommandMeta } from '../workflows/messages';
import { SA } from '../workflows/search-attributes';
import { applicationIdFor } from './ids';
import { UserError, toUserError } from './errors';

/** zod issues as "where: what" pairs, for one-line errors and problem+json alike. */
export function issuesOf(error: z.ZodError, prefix = '') {
  return error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)', message: i.message }));
}

function invalid(what: string, error: z.ZodError, prefix?: string): UserError {
  const issues = issuesOf(error, prefix);
  return new UserError('invalid_input', `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

/** What the CLI and the HTTP API both do with applications: one implementation, two faces. */
export class ApplicationService {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  async apply(rawForm: unknown, meta: CommandMeta): Promise<{ applicationId: string; view: ApplicationView }> {
    const parsed = ApplicationFormSchema.safeParse(rawForm);
    if (!parsed.success) throw invalid('application', parsed.error);
    const form = parsed.data;
    let rules;
    try {
      rules = currentRules(this.config.CALLS_DIR, form.callId);
    } catch (err) {
      throw new UserError('invalid_input', (err as Error).message, [{ path: 'callId', message: (err as Error).message }]);
    }
    const applicationId = applicationIdFor(this.config.ID_SECRET, form.callId, form.company.vatNumber);
    try {
      const handle = await this.client.workflow.start(applicationWorkflow, {
        workflowId: applicationId,
        taskQueue: this.config.TEMPORAL_TASK_QUEUE,
        args: [{ applicationId, rules, form, submittedBy: meta, continueAsNewAfterEvents: this.config.CONTINUE_AS_NEW_AFTER_EVENTS }],
        // Never a second workflow for the same company and call, not even after the first has closed.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: new TypedSearchAttributes([
          { key: SA.state, value: 'submitted' },
          { key: SA.call, value: form.callId },
          { key: SA.themes, value: form.themes },
        ]),
        staticSummary: `Application to ${form.callId} under rules v${rules.version}`,
      });
      return { applicationId, view: await handle.query(viewQuery) };
    } catch (err) {
      throw toUserError(err, applicationId);
    }
  }

  async view(applicationId: string): Promise<ApplicationView> {
    try {
      return await this.client.workflow.getHandle(applicationId).query(viewQuery);
    } catch (err) {
      throw toUserError(err, applicationId);
    }
  }

  /**
   * Delivers a command. As an Update (default) the answer is the new view or a refusal with its reason; as a signal
   * it is fire-and-forget. `updateId` makes a retried request count once.
   */
  async send(
    applicationId: string,
    rawEvent: unknown,
    meta: CommandMeta,
    options: { mode?: 'update' | 'signal'; updateId?: string } = {},
  ): Promise<ApplicationView | null> {
    const parsed = ApplicationCommandSchema.safeParse(rawEvent);
    if (!parsed.success) throw invalid('command', parsed.error);
    const event: ApplicationCommand = parsed.data;
    const handle = this.client.workflow.getHandle(applicationId);
    try {
      if (options.mode === 'signal') {
        await handle.signal(commandSignal, { event, meta });
        return null;
      }
      return await handle.executeUpdate(commandUpdate, {
        args: [{ event, meta }],
        ...(options.updateId ? { updateId: options.updateId } : {}),
      });
    } catch (err) {
      throw await this.closedOr(err, applicationId);
    }
  }

  /** A command to a closed application: Temporal says "not found" or "completed"; people need "it is final". */
  private async closedOr(err: unknown, applicationId: string): Promise<UserError> {
    const mapped = toUserError(err, applicationId);
    if (mapped.code !== 'not_found' && !/already completed/i.test(mapped.message)) return mapped;
    try {
      const description = await this.client.workflow.getHandle(applicationId).describe();
      if (description.status.name === 'RUNNING') return mapped;
      const view = await this.view(applicationId);
      return new UserError('event_refused', `the application is ${view.state}, a final state: no further events are accepted`);
    } catch {
      return mapped;
    }
  }

  async list(filter: { state?: ApplicationState; callId?: string; limit?: number }): Promise<{ applicationId: string; state: string; callId: string; status: string; startTime: Date }[]> {
    const clauses = [`WorkflowType = '${applicationWorkflow.name}'`];
    if (filter.state) clauses.push(`${SA.state.name} = '${filter.state}'`);
    if (filter.callId) clauses.push(`${SA.call.name} = '${filter.callId.replace(/'/g, '')}'`);
    const rows = [];
    try {
      for await (const wf of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: 100 })) {
        rows.push({
          applicationId: wf.workflowId,
          state: String(wf.typedSearchAttributes.get(SA.state) ?? ''),
          callId: String(wf.typedSearchAttributes.get(SA.call) ?? ''),
          status: wf.status.name,
          startTime: wf.startTime,
        });
        if (rows.length >= (filter.limit ?? 1000)) break;
      }
    } catch (err) {
      throw toUserError(err);
    }
    return rows;
  }
}
