import { WorkflowIdReusePolicy, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, TypedSearchAttributes } from '@temporalio/common';
import { initialTransition } from 'xstate';
import { payloadDigest } from '../../activities/digest';
import { currentRules, RulesError } from '../../config/calls';
import type { Config } from '../../config/env';
import type { Db } from '../../db/connect';
import { appendAudit, insertApplication, registerColumns } from '../../db/repositories/register';
import { ApplicationFormSchema, type ApplicationForm } from '../../domain/application';
import { ineligibilityReasons, sizeClassOf, type Comune } from '../../domain/eligibility';
import { machineRules } from '../../domain/machine-rules';
import { romeToday } from '../../domain/rome';
import type { CallRules } from '../../domain/rules';
import { applicationMachine, type ApplicationMachineInput } from '../../machines/application.machine';
import type { ApplicationCommand } from '../../machines/events';
import { refusalReason } from '../../machines/explain';
import { enqueue } from '../../notifications/outbox';
import { applicationWorkflow, type ApplicationWorkflowInput } from '../../workflows/application.workflow';
import {
  catchingUp,
  commandSignal,
  commandUpdate,
  FAILURE,
  type CommandMeta,
  type StepResult,
} from '../../workflows/messages';
import { SA } from '../../workflows/search-attributes';
import { invalid, UserError } from '../errors';
import { applicationIdFor } from './ids';
import { untilRecorded } from './register';
import { toUserError } from './temporal-errors';

/** The workflow's lifecycle said no (not a malformed command, not a mistake its step found in what was sent). */
const refusedByMachine = (err: unknown) =>
  err instanceof WorkflowUpdateFailedError &&
  err.cause instanceof ApplicationFailure &&
  err.cause.type === FAILURE.refused;

export interface ServiceDeps {
  config: Config;
  client: Client;
  db: Db;
  territory: (comuniFile: string) => readonly Comune[];
  now?: () => Date;
}

export interface Registration {
  applicationId: string;
  /** Eligible, or rejected at once with every reason (the register says the same once the workflow recorded it). */
  eligible: boolean;
  reasons: { code: string; field: string; message: string }[];
  sizeClass: 'micro' | 'small' | null;
}

/**
 * What the doors (the HTTP API, and through it the CLI and the pages) do with applications: register them and send
 * them commands. Reads go to the register (./register.ts). Commands arrive here validated and authorised.
 */
export class ApplicationService {
  private readonly now: () => Date;

  constructor(private readonly deps: ServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Registers an application: the form goes into PostgreSQL (its only home), with the submission's audit row and
   * the company's acknowledgement, in one transaction; then the workflow starts with what its machine reads and no
   * personal data, and records the eligibility decided here. One application per company and call: the database's
   * unique constraint says so, whatever Temporal still remembers.
   */
  async apply(rawForm: unknown, meta: CommandMeta): Promise<Registration> {
    const parsed = ApplicationFormSchema.safeParse(rawForm);
    if (!parsed.success) throw invalid('application', parsed.error);
    const form = parsed.data;
    const rules = this.rulesFor(form);
    const today = romeToday(this.now());
    const submittedOn = form.submittedOn ?? today;
    if (submittedOn > today || submittedOn < rules.opensOn) {
      const why = submittedOn > today ? 'is in the future' : `is before the call opened (${rules.opensOn})`;
      throw new UserError('invalid_input', `submittedOn: ${submittedOn} ${why}`, [
        { path: 'submittedOn', message: why },
      ]);
    }
    const reasons = ineligibilityReasons(form, rules, this.deps.territory(rules.territory.comuniFile));
    const applicationId = applicationIdFor(this.deps.config.ID_SECRET, form.callId, form.company.vatNumber);
    const machine = machineInputOf(form, rules, applicationId, submittedOn);
    const registered = await recordSubmission(this.deps.db, {
      form,
      machine,
      meta,
      occurredAt: this.now().toISOString(),
    });
    if (!registered) {
      // A crash between this commit and the start would leave a row without its workflow: starting it again mends
      // that. Only while its first step is unrecorded: a workflow that ran and was deleted by retention must not
      // come back (it would start over from `submitted` while the register holds the application's real state).
      if (await this.neverStarted(applicationId))
        await this.start(applicationId, machine, reasons, meta).catch(() => undefined);
      throw new UserError(
        'already_applied',
        `this company has already applied to this call: application ${applicationId}`,
      );
    }
    await this.start(applicationId, machine, reasons, meta);
    await untilRecorded(this.deps.db, applicationId, 1);
    return { applicationId, eligible: reasons.length === 0, reasons, sizeClass: machine.sizeClass };
  }

  private async neverStarted(applicationId: string): Promise<boolean> {
    const row = await this.deps.db
      .selectFrom('applications')
      .select('last_seq')
      .where('id', '=', applicationId)
      .executeTakeFirst();
    return row?.last_seq === 0;
  }

  private rulesFor(form: ApplicationForm) {
    try {
      return currentRules(this.deps.config.CALLS_DIR, form.callId);
    } catch (err) {
      if (!(err instanceof RulesError)) throw err;
      throw new UserError('invalid_input', `callId: no open call "${form.callId}"`, [
        { path: 'callId', message: err.message },
      ]);
    }
  }

  private async start(
    applicationId: string,
    machine: ApplicationMachineInput,
    reasons: Registration['reasons'],
    meta: CommandMeta,
  ) {
    const input: ApplicationWorkflowInput = {
      applicationId,
      start: { machine, ineligibility: reasons.map(({ code, field }) => ({ code, field })), submittedBy: meta },
      continueAsNewAfterEvents: this.deps.config.CONTINUE_AS_NEW_AFTER_EVENTS,
    };
    try {
      await this.deps.client.workflow.start(applicationWorkflow, {
        workflowId: applicationId,
        taskQueue: this.deps.config.TEMPORAL_TASK_QUEUE,
        args: [input],
        // Never a second workflow for the same company and call while Temporal remembers the first.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: new TypedSearchAttributes([
          { key: SA.state, value: 'submitted' },
          { key: SA.call, value: machine.callId },
          { key: SA.themes, value: machine.themes },
        ]),
        // Tells applications apart in the UI's list without personal data.
        staticSummary:
          `${machine.callId} (rules v${machine.rulesVersion}) · ${machine.sizeClass ?? 'not an SME'} enterprise · ` +
          `${machine.themes.join(', ') || 'no theme yet'}`,
      });
    } catch (err) {
      throw toUserError(err, applicationId);
    }
  }

  /**
   * Delivers a command. As an Update (default) the answer says where the application now stands, or why the
   * command was refused; as a signal it is fire-and-forget. `updateId` makes a retried request count once.
   */
  async send(
    applicationId: string,
    event: ApplicationCommand,
    meta: CommandMeta,
    options: { mode?: 'update' | 'signal'; updateId?: string } = {},
  ): Promise<StepResult | null> {
    const handle = this.deps.client.workflow.getHandle(applicationId);
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
      const mapped = await this.closedOr(err, applicationId);
      if (refusedByMachine(err) && (await this.registerAhead(applicationId, event))) {
        throw new UserError('temporal_unavailable', catchingUp(applicationId));
      }
      throw mapped;
    }
  }

  /**
   * Whether the register accepts a command the workflow refused. A step commits the register first and the workflow
   * adopts its outcome when its task completes; a worker that dies in between leaves the register ahead until the
   * task runs again, and meanwhile the workflow judges commands against the state before the step (a command the
   * register's view offers, refused). Only the register of the current generation is written first.
   */
  private async registerAhead(applicationId: string, event: ApplicationCommand): Promise<boolean> {
    const row = await this.deps.db
      .selectFrom('applications')
      .select(['generation', 'snapshot'])
      .where('id', '=', applicationId)
      .executeTakeFirst();
    if (row?.generation !== 2 || !row.snapshot) return false;
    return refusalReason(applicationMachine.resolveState(row.snapshot), event) === null;
  }

  /** A command to a closed (or forgotten) workflow: people need "the application is final", from the register. */
  private async closedOr(err: unknown, applicationId: string): Promise<UserError> {
    const mapped = toUserError(err, applicationId);
    if (
      mapped.code !== 'not_found' &&
      !/already completed|workflow execution already completed/i.test(mapped.message)
    ) {
      return mapped;
    }
    const row = await this.deps.db
      .selectFrom('applications')
      .select('state')
      .where('id', '=', applicationId)
      .executeTakeFirst();
    if (!row) return new UserError('not_found', `no application ${applicationId}`);
    return new UserError(
      'event_refused',
      `the application is ${row.state}, a final state: no further events are accepted`,
    );
  }
}

/** What the machine of a new application starts from: read from the form and the call's rules, no personal data. */
export function machineInputOf(
  form: ApplicationForm,
  rules: CallRules,
  applicationId: string,
  submittedOn: string,
): ApplicationMachineInput {
  return {
    applicationId,
    callId: rules.callId,
    rulesVersion: rules.version,
    rules: machineRules(rules),
    themes: form.themes,
    deMinimisRoomCents: Math.max(0, rules.deMinimis.ceilingCents - form.deMinimisReceivedCents),
    sizeClass: sizeClassOf(form, rules),
    submittedOn,
  };
}

/**
 * The submission's record, in one transaction: the application row (the form, the machine's snapshot at seq 0 and
 * the register's columns), its SUBMIT audit row and the company's acknowledgement. False, writing nothing, when the
 * company already applied to the call (the unique constraint said so).
 */
export async function recordSubmission(
  db: Db,
  s: { form: ApplicationForm; machine: ApplicationMachineInput; meta: CommandMeta; occurredAt: string },
): Promise<boolean> {
  const { form, machine, meta } = s;
  const snapshot = initialTransition(applicationMachine, machine)[0];
  const { company } = form;
  const representative = company.legalRepresentative;
  return db.transaction().execute(async (trx) => {
    const created = await insertApplication(trx, {
      id: machine.applicationId,
      call_id: machine.callId,
      rules_version: machine.rulesVersion,
      vat_number: company.vatNumber,
      legal_name: company.legalName,
      representative_email: representative.email,
      form: JSON.stringify(form),
      last_seq: 0,
      facts: '{}',
      generation: 2,
      snapshot: JSON.stringify({ value: 'submitted', context: snapshot.context }),
      comune: company.operatingSite.comune,
      ateco_code: company.atecoCode,
      ...registerColumns('submitted', snapshot.context, null, false),
    } as never);
    if (!created) return false;
    await appendAudit(trx, {
      applicationId: machine.applicationId,
      seq: 0,
      eventType: 'SUBMIT',
      from: null,
      to: 'submitted',
      actor: meta.actor,
      role: meta.role,
      payloadDigest: payloadDigest(form),
      occurredAt: s.occurredAt,
      summary: { callId: machine.callId, rulesVersion: machine.rulesVersion },
    });
    const recipient = { address: representative.email, locale: representative.locale, name: representative.name };
    await enqueue(trx, {
      template: 'application.submitted',
      idempotencyKey: `${machine.applicationId}:0:company:${representative.email}`,
      applicationId: machine.applicationId,
      recipient,
      payload: {
        applicationId: machine.applicationId,
        callId: machine.callId,
        audience: 'company',
        recipientName: representative.name,
        from: null,
        to: 'submitted',
        event: 'SUBMIT',
        actorRole: meta.role,
        deadline: null,
        motivation: null,
        reasons: [],
        amountCents: null,
        minimumHours: machine.rules.minimumAccompanimentMinutes / 60,
        companyName: company.legalName,
        bodyName: null,
        consultantName: null,
        reserveListPosition: null,
      },
    });
    return true;
  });
}
