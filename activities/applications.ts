import { createHash } from 'node:crypto';
import type { ApplicationForm } from '../domain/application';
import { ineligibilityReasons, type Comune, type IneligibilityReason } from '../domain/eligibility';
import type { CallRules } from '../domain/rules';
import { advanceApplication, appendAudit, insertApplication, type Executor } from '../db/repositories/applications';
import type { Db } from '../db/connect';
import type { ApplicationState } from '../machines/application.machine';
import type { Deadline } from '../machines/deadlines';
import { enqueue } from '../notifications/outbox';
import { recipientsOfReminder, recipientsOfState, type Interested } from '../notifications/recipients';
import { applicationStateSchema, roleSchema, type TransitionPayload } from '../notifications/templates';

export interface TransitionRecord {
  applicationId: string;
  seq: number;
  eventType: string;
  fromState: string | null;
  toState: string;
  actor: string;
  role: string;
  payload: unknown;
  occurredAt: string;
  /** The view's facts: the hours the pinned rules require are worded in the accompaniment's message. */
  facts: { implementingBody: string | null; requiredHours: number } & TransitionFacts & Record<string, unknown>;
  deadline: Deadline | null;
}

export interface RegisterInput {
  applicationId: string;
  rules: CallRules;
  form: ApplicationForm;
  actor: string;
  role: string;
  occurredAt: string;
}

/** Stable JSON (sorted keys), so the same payload always yields the same digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export const payloadDigest = (payload: unknown) => createHash('sha256').update(canonicalJson(payload)).digest('hex');

interface TransitionFacts {
  motivation?: string | null;
  ineligibilityReasons?: string[];
  admittedCents?: number | null;
  fundedCents?: number | null;
}

/** Whom an application's messages reach, and the names they use. */
async function whoToTell(trx: Executor, applicationId: string, staff: Pick<Interested, 'operators' | 'commission'>) {
  const app = await trx
    .selectFrom('applications')
    .leftJoin('consultants', 'consultants.id', 'applications.consultant_id')
    .leftJoin('implementing_bodies', 'implementing_bodies.id', 'applications.implementing_body')
    .select([
      'applications.representative_email',
      'applications.call_id',
      'applications.legal_name',
      'applications.form',
      'consultants.email as consultant_email',
      'consultants.name as consultant_name',
      'implementing_bodies.name as body_name',
    ])
    .where('applications.id', '=', applicationId)
    .executeTakeFirstOrThrow();
  const form = (typeof app.form === 'string' ? JSON.parse(app.form) : app.form) as ApplicationForm;
  const people: Interested = {
    ...staff,
    company: { address: app.representative_email, ...representative(form) },
    consultant: app.consultant_email ? { address: app.consultant_email, name: app.consultant_name } : null,
  };
  return {
    callId: app.call_id,
    companyName: app.legal_name,
    bodyName: app.body_name,
    consultantName: app.consultant_name,
    people,
  };
}

/** Queues `application.<to>` for everyone who hears of that state, in the caller's transaction, once per seq. */
async function announce(
  trx: Executor,
  seq: number,
  people: Interested,
  facts: Omit<TransitionPayload, 'audience' | 'recipientName'>,
): Promise<void> {
  for (const r of recipientsOfState(facts.to, people)) {
    await enqueue(trx, {
      template: `application.${facts.to}`,
      payload: { ...facts, audience: r.audience, recipientName: r.name },
      recipient: r,
      applicationId: facts.applicationId,
      idempotencyKey: `${facts.applicationId}:${seq}:${r.audience}:${r.address}`,
    });
  }
}

const representative = (form: ApplicationForm) => ({
  name: form.company.legalRepresentative.name,
  locale: form.company.legalRepresentative.locale,
});

export function applicationActivities(deps: {
  db: Db;
  territory: (comuniFile: string) => readonly Comune[];
  recipients?: { operators: readonly string[]; commission: readonly string[] };
}) {
  const { db, territory } = deps;
  const staff = { operators: deps.recipients?.operators ?? [], commission: deps.recipients?.commission ?? [] };
  return {
    /** Persists the application with its submission audit row, and says whether the company is eligible. */
    async registerApplication(input: RegisterInput): Promise<{ reasons: IneligibilityReason[] }> {
      const { form } = input;
      await db.transaction().execute(async (trx) => {
        const created = await insertApplication(trx, {
          id: input.applicationId,
          call_id: input.rules.callId,
          rules_version: input.rules.version,
          vat_number: form.company.vatNumber,
          legal_name: form.company.legalName,
          representative_email: form.company.legalRepresentative.email,
          form: JSON.stringify(form),
          state: 'submitted',
          last_seq: 0,
          facts: JSON.stringify({ themes: form.themes }),
        });
        if (!created) return;
        await appendAudit(trx, {
          application_id: input.applicationId,
          seq: 0,
          event_type: 'SUBMIT',
          from_state: null,
          to_state: 'submitted',
          actor: input.actor,
          role: input.role,
          payload_digest: payloadDigest(form),
          occurred_at: input.occurredAt,
        });
        const people: Interested = {
          ...staff,
          company: { address: form.company.legalRepresentative.email, ...representative(form) },
          consultant: null,
        };
        await announce(trx, 0, people, {
          applicationId: input.applicationId,
          callId: input.rules.callId,
          from: null,
          to: 'submitted',
          event: 'SUBMIT',
          actorRole: roleSchema.parse(input.role),
          deadline: null,
          motivation: null,
          reasons: [],
          amountCents: null,
          minimumHours: input.rules.accompaniment.minimumHours,
          companyName: form.company.legalName,
          bodyName: null,
          consultantName: null,
        });
      });
      return { reasons: ineligibilityReasons(form, input.rules, territory(input.rules.territory.comuniFile)) };
    },

    /**
     * Reminds whoever must act that a deadline approaches (or, with daysBefore 0, tells the operators it was missed
     * and escalated). One outbox row per recipient, keyed by the deadline and the distance: a retry adds nothing.
     */
    async queueReminder(input: {
      applicationId: string;
      deadline: Deadline;
      daysBefore: number;
      state: ApplicationState;
    }): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const app = await whoToTell(trx, input.applicationId, staff);
        const recipients = recipientsOfReminder(input.deadline.kind, input.daysBefore, app.people);
        const { applicationId, deadline, daysBefore, state } = input;
        for (const r of recipients) {
          const payload = {
            applicationId,
            callId: app.callId,
            audience: r.audience,
            recipientName: r.name,
            deadline,
            state,
          };
          const message = {
            recipient: r,
            applicationId,
            idempotencyKey:
              `${applicationId}:reminder:${deadline.kind}:${deadline.dueAt}:${daysBefore}:` +
              `${r.audience}:${r.address}`,
          };
          if (daysBefore === 0)
            await enqueue(trx, { template: 'deadline.escalation', payload: { ...payload, daysBefore: 0 }, ...message });
          else await enqueue(trx, { template: 'deadline.reminder', payload: { ...payload, daysBefore }, ...message });
        }
        return recipients.length;
      });
    },

    /**
     * Records one transition: the application row moves forward, an audit row is appended and, when the state
     * changed, the company's notification is queued, all in one transaction keyed by (application, seq).
     */
    async recordTransition(record: TransitionRecord): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const fresh = await appendAudit(trx, {
          application_id: record.applicationId,
          seq: record.seq,
          event_type: record.eventType,
          from_state: record.fromState,
          to_state: record.toState,
          actor: record.actor,
          role: record.role,
          payload_digest: payloadDigest(record.payload),
          occurred_at: record.occurredAt,
        });
        if (!fresh) return;
        await advanceApplication(trx, record.applicationId, {
          seq: record.seq,
          state: record.toState,
          implementingBody: record.facts.implementingBody,
          facts: { ...record.facts, deadline: record.deadline },
        });
        if (record.fromState === record.toState) return;
        const app = await whoToTell(trx, record.applicationId, staff);
        const { facts } = record;
        const to = applicationStateSchema.parse(record.toState);
        const from = record.fromState === null ? null : applicationStateSchema.parse(record.fromState);
        await announce(trx, record.seq, app.people, {
          applicationId: record.applicationId,
          callId: app.callId,
          from,
          to,
          event: record.eventType,
          actorRole: roleSchema.parse(record.role),
          deadline: record.deadline,
          motivation: facts.motivation || null,
          reasons: to === 'rejected' && from === 'submitted' ? (facts.ineligibilityReasons ?? []) : [],
          amountCents:
            to === 'admitted' ? (facts.admittedCents ?? null) : to === 'funded' ? (facts.fundedCents ?? null) : null,
          minimumHours: record.facts.requiredHours,
          companyName: app.companyName,
          bodyName: app.bodyName,
          consultantName: app.consultantName,
        });
      });
    },
  };
}
