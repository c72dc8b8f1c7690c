import { Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { z } from 'zod';
import { currentRules } from '../config/calls';
import type { Config } from '../config/env';
import { ApplicationFormSchema } from '../domain/application';
import { APPLICATION_STATES, type ApplicationState } from '../machines/application.machine';
import { ThemeSchema } from '../domain/themes';
import { ApplicationCommandSchema, type ApplicationCommand } from '../machines/events';
import { applicationWorkflow } from '../workflows';
import { commandSignal, commandUpdate, viewQuery, type ApplicationView, type CommandMeta } from '../workflows/messages';
import { SA } from '../workflows/search-attributes';
import { applicationIdFor } from './ids';
import { UserError, toUserError } from './errors';

/** zod issues as "where: what" pairs, for one-line errors and problem+json alike. */
export function issuesOf(error: z.ZodError, prefix = '') {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: i.message,
  }));
}

function invalid(what: string, error: z.ZodError, prefix?: string): UserError {
  const issues = issuesOf(error, prefix);
  return new UserError(
    'invalid_input',
    `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  );
}

const slug = /^[a-z0-9][a-z0-9._-]*$/;
export const ListFilterSchema = z
  .object({
    state: z.enum(APPLICATION_STATES as unknown as [ApplicationState, ...ApplicationState[]]).optional(),
    callId: z.string().regex(slug, 'a call id').optional(),
    body: z.string().regex(slug, 'an implementing body id').optional(),
    theme: ThemeSchema.optional(),
    idPrefix: z.string().regex(slug, 'the start of an application id').optional(),
    limit: z.number().int().positive().max(10_000).optional(),
  })
  .strict();
export type ListFilter = z.input<typeof ListFilterSchema>;

export interface ApplicationSummary {
  applicationId: string;
  state: string;
  callId: string;
  implementingBody: string | null;
  themes: string[];
  requestedCents: number | null;
  admittedCents: number | null;
  deadlineAt: string | null;
  status: string;
  startTime: Date;
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
      throw new UserError('invalid_input', (err as Error).message, [
        { path: 'callId', message: (err as Error).message },
      ]);
    }
    const applicationId = applicationIdFor(this.config.ID_SECRET, form.callId, form.company.vatNumber);
    try {
      const handle = await this.client.workflow.start(applicationWorkflow, {
        workflowId: applicationId,
        taskQueue: this.config.TEMPORAL_TASK_QUEUE,
        args: [
          {
            applicationId,
            rules,
            form,
            submittedBy: meta,
            continueAsNewAfterEvents: this.config.CONTINUE_AS_NEW_AFTER_EVENTS,
          },
        ],
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
      return new UserError(
        'event_refused',
        `the application is ${view.state}, a final state: no further events are accepted`,
      );
    } catch {
      return mapped;
    }
  }

  /** Applications from Temporal visibility; every filter value is checked against its pattern before it is quoted. */
  async list(filter: ListFilter): Promise<ApplicationSummary[]> {
    const clauses = [`WorkflowType = '${applicationWorkflow.name}'`];
    const parsed = ListFilterSchema.safeParse(filter);
    if (!parsed.success) throw invalid('filter', parsed.error);
    const f = parsed.data;
    if (f.state) clauses.push(`${SA.state.name} = '${f.state}'`);
    if (f.callId) clauses.push(`${SA.call.name} = '${f.callId}'`);
    if (f.body) clauses.push(`${SA.body.name} = '${f.body}'`);
    if (f.theme) clauses.push(`${SA.themes.name} = '${f.theme}'`);
    if (f.idPrefix) clauses.push(`WorkflowId STARTS_WITH '${f.idPrefix}'`);
    const rows = [];
    try {
      for await (const wf of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: 100 })) {
        rows.push({
          applicationId: wf.workflowId,
          state: String(wf.typedSearchAttributes.get(SA.state) ?? ''),
          callId: String(wf.typedSearchAttributes.get(SA.call) ?? ''),
          implementingBody: (wf.typedSearchAttributes.get(SA.body) as string | undefined) ?? null,
          themes: (wf.typedSearchAttributes.get(SA.themes) as string[] | undefined) ?? [],
          requestedCents: (wf.typedSearchAttributes.get(SA.requestedCents) as number | undefined) ?? null,
          admittedCents: (wf.typedSearchAttributes.get(SA.admittedCents) as number | undefined) ?? null,
          deadlineAt: (wf.typedSearchAttributes.get(SA.deadline) as Date | undefined)?.toISOString() ?? null,
          status: wf.status.name,
          startTime: wf.startTime,
        });
        if (rows.length >= (f.limit ?? 1000)) break;
      }
    } catch (err) {
      throw toUserError(err);
    }
    return rows;
  }
}
