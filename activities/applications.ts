import { createHash } from 'node:crypto';
import type { ApplicationForm } from '../domain/application';
import { ineligibilityReasons, type Comune, type IneligibilityReason } from '../domain/eligibility';
import type { CallRules } from '../domain/rules';
import { advanceApplication, appendAudit, insertApplication, type Executor } from '../db/repositories/applications';
import { enqueueNotification } from '../db/repositories/notifications';
import type { Db } from '../db/connect';

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
  facts: { implementingBody: string | null } & Record<string, unknown>;
  deadline: unknown;
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

export interface Recipient {
  audience: 'company' | 'consultant' | 'operator' | 'commission';
  address: string;
  locale: 'it' | 'en';
}

/**
 * Who hears of a new state: the company always; the consultant while the accompaniment and its outcome concern
 * them; operators when they must act (record the disbursement) or when an application closes early; the
 * commission when a pre-project reaches it.
 */
export function recipientsFor(
  state: string,
  who: {
    company: { address: string; locale: 'it' | 'en' };
    consultant: string | null;
    operators: readonly string[];
    commission: readonly string[];
  },
): Recipient[] {
  const list: Recipient[] = [{ audience: 'company', ...who.company }];
  const consultantStates = [
    'accompaniment',
    'pre_project',
    'commission',
    'admitted',
    'rejected',
    'withdrawn',
    'lapsed',
  ];
  if (who.consultant && consultantStates.includes(state))
    list.push({ audience: 'consultant', address: who.consultant, locale: 'it' });
  if (['admitted', 'withdrawn', 'lapsed'].includes(state))
    for (const a of who.operators) list.push({ audience: 'operator', address: a, locale: 'it' });
  if (state === 'commission')
    for (const a of who.commission) list.push({ audience: 'commission', address: a, locale: 'it' });
  return list;
}

/** The addresses an application's messages go to: its legal representative (in their language) and its consultant. */
async function whoToTell(trx: Executor, applicationId: string) {
  const app = await trx
    .selectFrom('applications')
    .leftJoin('consultants', 'consultants.id', 'applications.consultant_id')
    .select([
      'applications.representative_email',
      'applications.call_id',
      'applications.form',
      'consultants.email as consultant_email',
    ])
    .where('applications.id', '=', applicationId)
    .executeTakeFirstOrThrow();
  const form = (typeof app.form === 'string' ? JSON.parse(app.form) : app.form) as ApplicationForm;
  return {
    callId: app.call_id,
    company: { address: app.representative_email, locale: form.company.legalRepresentative.locale ?? ('it' as const) },
    consultant: app.consultant_email,
  };
}

export function applicationActivities(deps: {
  db: Db;
  territory: (comuniFile: string) => readonly Comune[];
  recipients?: { operators: readonly string[]; commission: readonly string[] };
}) {
  const { db, territory } = deps;
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
        await enqueueNotification(trx, {
          idempotency_key: `${input.applicationId}:0:company:${form.company.legalRepresentative.email}`,
          application_id: input.applicationId,
          recipient: form.company.legalRepresentative.email,
          template: 'application.submitted',
          locale: form.company.legalRepresentative.locale ?? 'it',
          payload: JSON.stringify({
            applicationId: input.applicationId,
            callId: input.rules.callId,
            audience: 'company',
          }),
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
      deadline: { kind: string; dueAt: string };
      daysBefore: number;
      state: string;
    }): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const app = await whoToTell(trx, input.applicationId);
        const operators = (deps.recipients?.operators ?? []).map((address) => ({
          audience: 'operator' as const,
          address,
          locale: 'it' as const,
        }));
        const commission = (deps.recipients?.commission ?? []).map((address) => ({
          audience: 'commission' as const,
          address,
          locale: 'it' as const,
        }));
        const company = { audience: 'company' as const, ...app.company };
        const consultant = app.consultant
          ? [{ audience: 'consultant' as const, address: app.consultant, locale: 'it' as const }]
          : [];
        const byKind: Record<string, Recipient[]> = {
          accompaniment: [company, ...consultant],
          integration_answer: [company, ...consultant],
          commission_decision: [...commission, ...operators],
          funding: operators,
        };
        const recipients = input.daysBefore === 0 ? operators : (byKind[input.deadline.kind] ?? [company]);
        const template = input.daysBefore === 0 ? 'deadline.escalation' : 'deadline.reminder';
        for (const r of recipients) {
          await enqueueNotification(trx, {
            idempotency_key: `${input.applicationId}:reminder:${input.deadline.kind}:${input.deadline.dueAt}:${input.daysBefore}:${r.audience}:${r.address}`,
            application_id: input.applicationId,
            recipient: r.address,
            template,
            locale: r.locale,
            payload: JSON.stringify({
              applicationId: input.applicationId,
              callId: app.callId,
              deadline: input.deadline,
              daysBefore: input.daysBefore,
              state: input.state,
              audience: r.audience,
            }),
          });
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
        const app = await whoToTell(trx, record.applicationId);
        const facts = record.facts as TransitionFacts;
        const base = {
          applicationId: record.applicationId,
          callId: app.callId,
          from: record.fromState,
          to: record.toState,
          event: record.eventType,
          deadline: record.deadline,
          motivation: facts.motivation ?? null,
          reasons:
            record.toState === 'rejected' && record.fromState === 'submitted'
              ? (facts.ineligibilityReasons ?? [])
              : null,
          amountCents:
            record.toState === 'admitted'
              ? (facts.admittedCents ?? null)
              : record.toState === 'funded'
                ? (facts.fundedCents ?? null)
                : null,
        };
        const recipients = recipientsFor(record.toState, {
          company: app.company,
          consultant: app.consultant,
          operators: deps.recipients?.operators ?? [],
          commission: deps.recipients?.commission ?? [],
        });
        for (const r of recipients) {
          await enqueueNotification(trx, {
            idempotency_key: `${record.applicationId}:${record.seq}:${r.audience}:${r.address}`,
            application_id: record.applicationId,
            recipient: r.address,
            template: `application.${record.toState}`,
            locale: r.locale,
            payload: JSON.stringify({ ...base, audience: r.audience }),
          });
        }
      });
    },
  };
}
