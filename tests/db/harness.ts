import { randomUUID } from 'node:crypto';
import { createActivities, type Activities, type ActivityDeps } from '../../activities';
import { machineInputOf, recordSubmission } from '../../client/service/applications';
import { applicationIdFor } from '../../client/service/ids';
import { ensureConsultant } from '../../client/service/registry';
import { loadComuni } from '../../config/comuni';
import type { Db } from '../../db/connect';
import type { ApplicationForm } from '../../domain/application';
import { ineligibilityReasons } from '../../domain/eligibility';
import type { CallRules } from '../../domain/rules';
import type { ApplicationEvent } from '../../machines/events';
import { sessionLinks } from '../../security/links';
import type { CommandMeta } from '../../workflows/messages';
import type { StepOutcome } from '../../workflows/steps';
import {
  applicationForm,
  dayFromToday,
  preProject,
  projectRoot,
  rules2023,
  session,
  type PreProjectOverrides,
} from '../support/fixtures';
import { operator, PEOPLE } from '../support/people';
import { confirmationMail } from '../support/system';

/*
 * The register's steps outside Temporal: the activities built as worker.ts builds them, called the way the
 * workflow calls them (one seq after the other), on a test database. Every application is registered the way the
 * service registers it, so what a test reads is what production writes.
 */

export const OPERATORS = ['uffici.innosocial@example.org', 'bandi.innosocial@example.org'] as const;
export const COMMISSION = ['commissione.innosocial@example.org'] as const;
const ID_SECRET = 'tests-db-register-harness-secret';
const DAY_MS = 86_400_000;
export const SYSTEM: CommandMeta = { actor: 'system', role: 'system' };

/** Everything a test may want to see unchanged: the register row and the rows a step can write. */
export async function footprint(db: Db, applicationId: string) {
  const count = async (table: 'audit_events' | 'notification_outbox' | 'accompaniment_sessions' | 'pre_projects') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('application_id', '=', applicationId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const row = await db
    .selectFrom('applications')
    .select([
      'state',
      'last_seq',
      'snapshot',
      'deadline_kind',
      'deadline_at',
      'consultant_id',
      'assigned_at',
      'code_failures',
    ])
    .where('id', '=', applicationId)
    .executeTakeFirstOrThrow();
  const ledger = await db
    .selectFrom('budget_ledger')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('application_id', '=', applicationId)
    .executeTakeFirstOrThrow();
  const reservation = await db
    .selectFrom('budget_reservations')
    .select(['status', 'amount_cents'])
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  const attached = await db
    .selectFrom('documents')
    .select(['id', 'attached_seq'])
    .where('application_id', '=', applicationId)
    .orderBy('id')
    .execute();
  return {
    row,
    audit: await count('audit_events'),
    outbox: await count('notification_outbox'),
    sessions: await count('accompaniment_sessions'),
    preProjects: await count('pre_projects'),
    ledger: Number(ledger.n),
    reservation: reservation ?? null,
    attached,
  };
}

export type Harness = ReturnType<typeof registerHarness>;
type FormOverrides = Parameters<typeof applicationForm>[0];

/** A register of its own calls on `db`: the activities, and one helper per step of an application's journey. */
export function registerHarness(db: Db) {
  const calls = new Map<string, CallRules>();
  const comuni = loadComuni(projectRoot);
  const links = sessionLinks(ID_SECRET);
  const deps: ActivityDeps = {
    db,
    rules: (callId) => {
      const rules = calls.get(callId);
      if (!rules) throw new Error(`no rules for ${callId} in this test`);
      return rules;
    },
    territory: () => comuni,
    recipients: { operators: OPERATORS, commission: COMMISSION },
    publicUrl: 'https://innosocial.test',
    links,
    now: () => new Date(),
  };
  const acts = createActivities(deps);

  /** A call of its own (the 2023 rules under a fresh id): budgets and lists never meet other tests'. */
  function newCall(budgetCents = rules2023.budgetCents): string {
    const callId = `test-db-${randomUUID().slice(0, 8)}`;
    calls.set(callId, { ...rules2023, callId, budgetCents });
    return callId;
  }
  const callId = newCall();

  /** The activities with some dependencies replaced: a clock moved on, a failing part. */
  const activitiesWith = (overrides: Partial<ActivityDeps>): Activities => createActivities({ ...deps, ...overrides });
  const activitiesAt = (offsetDays: number) =>
    activitiesWith({ now: () => new Date(Date.now() + offsetDays * DAY_MS) });

  /** Registers an application as the service does (seq 0), submitted 60 days ago so the past is open to it. */
  async function submission(
    overrides: FormOverrides = {},
    call = callId,
    meta: CommandMeta = operator,
  ): Promise<{ id: string; form: ApplicationForm }> {
    const rules = calls.get(call);
    if (!rules) throw new Error(`no call ${call} in this test`);
    const form = applicationForm({ callId: call, submittedOn: dayFromToday(-60), ...overrides });
    const id = applicationIdFor(ID_SECRET, call, form.company.vatNumber);
    const machine = machineInputOf(form, rules, id, form.submittedOn!);
    const created = await recordSubmission(db, { form, machine, meta, occurredAt: new Date().toISOString() });
    if (!created) throw new Error(`${id} was already registered`);
    return { id, form };
  }
  const submit = async (overrides: FormOverrides = {}, call = callId, meta: CommandMeta = operator) =>
    (await submission(overrides, call, meta)).id;

  const lastSeq = async (applicationId: string) =>
    (await db.selectFrom('applications').select('last_seq').where('id', '=', applicationId).executeTakeFirstOrThrow())
      .last_seq;

  /** One step, as the workflow sends it: the next seq unless told otherwise, at the workflow's time. */
  async function step(
    applicationId: string,
    event: ApplicationEvent,
    meta: CommandMeta = operator,
    options: { seq?: number; occurredAt?: string; activities?: Activities } = {},
  ): Promise<StepOutcome> {
    const seq = options.seq ?? (await lastSeq(applicationId)) + 1;
    const occurredAt = options.occurredAt ?? new Date().toISOString();
    return (options.activities ?? acts).applyStep({ applicationId, seq, event, meta, occurredAt });
  }

  /**
   * Registered, with the workflow's first step: the eligibility the service decided from the form (reasons by code
   * and field only, as the workflow's input carries them).
   */
  async function registered(overrides: FormOverrides = {}, call = callId, meta: CommandMeta = operator) {
    const { id, form } = await submission(overrides, call, meta);
    const reasons = ineligibilityReasons(form, calls.get(call)!, comuni).map(({ code, field }) => ({ code, field }));
    const first: ApplicationEvent = reasons.length
      ? { type: 'REJECT_INELIGIBLE', reasons }
      : { type: 'CONFIRM_ELIGIBILITY' };
    await step(id, first, SYSTEM);
    return id;
  }

  /** A consultant of its own in the registry (one per application: the same person is never in two places). */
  async function consultant(body = 'i3p', name = 'Anna Rossi') {
    const tag = randomUUID().slice(0, 8);
    const first = name.split(' ')[0]!.toLowerCase();
    return ensureConsultant(db, body, { name, email: `${first}.${tag}@${body}.example.org` });
  }

  async function assign(
    id: string,
    options: { body?: string; consultant?: string; effectiveOn?: string; occurredAt?: string; meta?: CommandMeta } = {},
  ) {
    const body = options.body ?? 'i3p';
    const consultantId = await consultant(body, options.consultant);
    const effectiveOn = options.effectiveOn ?? dayFromToday(-50);
    const event: ApplicationEvent = { type: 'ASSIGN_BODY', implementingBody: body, consultantId, effectiveOn };
    const at = options.occurredAt ? { occurredAt: options.occurredAt } : {};
    const outcome = await step(id, event, options.meta ?? operator, at);
    return { consultantId, outcome };
  }

  async function inAccompaniment(overrides: FormOverrides = {}, call = callId) {
    const id = await registered(overrides, call);
    await assign(id);
    return id;
  }

  const log = (id: string, date: string, start: string, end: string) =>
    step(id, { type: 'LOG_SESSION', session: session(date, start, end) }, PEOPLE.consultant);

  /** The company's latest code and link for a session, from the mail that carries them. */
  const mail = (id: string, date: string, start: string) => confirmationMail(db, id, date, start);

  async function confirmed(id: string, date: string, start: string, end: string) {
    await log(id, date, start, end);
    const { code } = await mail(id, date, start);
    return step(id, { type: 'CONFIRM_SESSION', date, start, code }, PEOPLE.company);
  }

  /** Eight confirmed hours on two days after the assignment: the 2023 rules' minimum. */
  async function eightHours(id: string) {
    await confirmed(id, dayFromToday(-40), '09:00', '13:00');
    return confirmed(id, dayFromToday(-39), '14:00', '18:00');
  }

  async function inPreProject(call = callId) {
    const id = await inAccompaniment({}, call);
    await eightHours(id);
    await step(id, { type: 'COMPLETE_ACCOMPANIMENT' });
    return id;
  }

  async function inCommission(call = callId, overrides: PreProjectOverrides = {}) {
    const id = await inPreProject(call);
    await step(id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject(overrides) }, PEOPLE.consultant);
    await step(id, { type: 'FORWARD_TO_COMMISSION' });
    return id;
  }

  /** The chair's decision, named as the commission's door names it. */
  const decide = (
    id: string,
    type: 'APPROVE' | 'REJECT' | 'REQUEST_INTEGRATION',
    options: { motivation?: string; occurredAt?: string } = {},
  ) =>
    step(
      id,
      { type, motivation: options.motivation ?? 'solid social impact plan', chair: PEOPLE.chair.actor },
      PEOPLE.chair,
      options.occurredAt ? { occurredAt: options.occurredAt } : {},
    );

  async function admitted(call = callId, overrides: PreProjectOverrides = {}) {
    const id = await inCommission(call, overrides);
    const outcome = await decide(id, 'APPROVE');
    return { id, outcome };
  }

  return {
    db,
    deps,
    acts,
    links,
    callId,
    newCall,
    rulesOf: (call: string) => calls.get(call)!,
    activitiesWith,
    activitiesAt,
    submit,
    lastSeq,
    step,
    registered,
    consultant,
    assign,
    inAccompaniment,
    log,
    mail,
    confirmed,
    eightHours,
    inPreProject,
    inCommission,
    decide,
    admitted,
    footprint: (id: string) => footprint(db, id),
  };
}
