import { getExternalWorkflowHandle, patched, proxyActivities } from '@temporalio/workflow';
import { transition } from 'xstate';
import type { ApplicationForm } from '../domain/application';
import { INPUT_ERROR_TYPES } from '../domain/errors';
import { machineRules } from '../domain/machine-rules';
import type { CallRules } from '../domain/rules';
import { applicationMachine, type ApplicationContext } from '../machines/application.machine';
import { deadlineAfter } from '../machines/deadlines';
import { effectsOf, type Effect } from '../machines/effects';
import type { ApplicationEvent, SessionInput } from '../machines/events';
import { refusalReason } from '../machines/explain';
import { budgetSignal, type CommandMeta } from './messages';
import type { Run, Stepper } from './run';
import { asInvalidCommand, SYSTEM } from './steps';
import { trusted } from './trust';

/*
 * Applications started before the one-transaction steps (tests/replay/histories/2026-11-25-*) ran one activity per
 * effect and one per transition record. Their histories must replay as they ran, so this path issues exactly the
 * commands they issued, for the events they received. It never acts on anything new: the first message, timer or
 * upgrade signal such a run sees under this code moves it into a run of the current generation (patched()
 * `upgrade-to-generation-2`), so its activities are declared here as types and no longer implemented by the worker.
 */

interface Upload {
  kind: string;
  filename: string;
  contentBase64: string;
}

/** What the first generation's activities took and answered (their names and order are what replay checks). */
interface FirstGenerationActivities {
  registerApplication(input: object): Promise<{ reasons: { code: string; field: string; message: string }[] }>;
  recordTransition(input: object): Promise<void>;
  assignConsultant(input: object): Promise<unknown>;
  recordSession(input: { applicationId: string; session: SessionInput; consultant: string }): Promise<unknown>;
  confirmSession(input: object): Promise<{ sessionId: string }>;
  acknowledgeSession(input: object): Promise<void>;
  verifyAccompanimentHours(input: object): Promise<{ verifiedMinutes: number; discarded: { reason: string }[] }>;
  storeDocument(input: { applicationId: string; upload: Upload }): Promise<Record<string, unknown>>;
  storePreProject(input: object): Promise<unknown>;
  freezePreProject(input: object): Promise<void>;
  reserveBudget(input: object): Promise<{ status: 'reserved' } | { status: 'waiting'; position: number }>;
  releaseBudget(input: object): Promise<{ promoted: string[] }>;
  adjustBudget(input: object): Promise<{ promoted: string[] }>;
  consumeBudget(input: object): Promise<void>;
  budgetStatus(input: object): Promise<{ status: string; position: number | null } | null>;
}

const proxied = proxyActivities<FirstGenerationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...INPUT_ERROR_TYPES] },
});

/** Their results were recorded in plain JSON, before payloads were encrypted: read as trusted() says. */
const act = new Proxy(proxied, {
  get: (target, name: keyof FirstGenerationActivities) => (input: never) =>
    (target[name] as (i: never) => Promise<unknown>)(input).then((result) => trusted(result, `the result of ${name}`)),
}) as FirstGenerationActivities;

export interface FirstGenerationInput {
  rules: CallRules;
  form: ApplicationForm;
  submittedBy: CommandMeta;
}

/** Fills what the current machine reads but a first-generation context (carried across runs) never had. */
export function normaliseFirstGeneration(context: ApplicationContext): ApplicationContext {
  const old = context as ApplicationContext & { consultantEmail?: string | null };
  return {
    ...context,
    consultantId: context.consultantId ?? old.consultantEmail ?? null,
    assignedOn: context.assignedOn ?? null,
    sizeClass: context.sizeClass ?? null,
    submittedOn: context.submittedOn ?? '1970-01-01',
    disbursedOn: context.disbursedOn ?? null,
  };
}

/**
 * A first-generation event as the current machine reads it: the consultant named by e-mail (their identity then),
 * an upload once stored, a decision without a named chair. Null when it is not one this generation accepted.
 */
function translate(raw: unknown, occurredAt: string, stored?: Record<string, unknown>): ApplicationEvent | null {
  if (!raw || typeof raw !== 'object' || typeof (raw as { type?: unknown }).type !== 'string') return null;
  const event = raw as Record<string, unknown> & { type: string };
  if (event.type === 'ASSIGN_BODY') {
    const consultant = event.consultant as { email?: unknown } | undefined;
    if (typeof event.implementingBody !== 'string' || typeof consultant?.email !== 'string') return null;
    return {
      type: 'ASSIGN_BODY',
      implementingBody: event.implementingBody,
      consultantId: consultant.email.toLowerCase(),
      effectiveOn: occurredAt.slice(0, 10),
    };
  }
  if (event.type === 'ATTACH_DOCUMENT') {
    return stored ? ({ type: 'ATTACH_DOCUMENT', document: stored } as ApplicationEvent) : null;
  }
  return event as unknown as ApplicationEvent;
}

export function firstGenerationSteps(run: Run, input: FirstGenerationInput, assignedAtCarried: string | null): Stepper {
  const { applicationId } = run;
  const { rules } = input;
  let assignedAt = assignedAtCarried;

  async function tellPromoted(ids: string[]) {
    for (const id of ids) await getExternalWorkflowHandle(id).signal(budgetSignal);
  }

  async function reverifyHours(): Promise<ApplicationEvent[]> {
    const verified = await act.verifyAccompanimentHours({ applicationId, assignedAt });
    const discarded = verified.discarded.map((d) => d.reason);
    const c = run.snapshot.context;
    const unchanged =
      verified.verifiedMinutes === c.verifiedMinutes && discarded.join('\n') === c.discardedSessions.join('\n');
    return unchanged ? [] : [{ type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: verified.verifiedMinutes, discarded }];
  }

  /** Performs one effect as the first generation did; returns the system events its outcome produced. */
  async function perform(effect: Effect, raw: Record<string, unknown>, meta: CommandMeta): Promise<ApplicationEvent[]> {
    switch (effect.type) {
      case 'assignConsultant':
        await act.assignConsultant({
          applicationId,
          implementingBody: effect.params.implementingBody,
          consultant: raw.consultant,
        });
        return [];
      case 'storeSession':
        await act.recordSession({
          applicationId,
          session: effect.params,
          consultant: run.snapshot.context.consultantId ?? 'unknown',
        });
        return reverifyHours();
      case 'confirmSession': {
        const { sessionId } = await act.confirmSession({ applicationId, ...effect.params });
        // Added after histories were recorded without it (2026-11-25-a): those replay without the call.
        if (patched('consultant-hears-confirmations')) await act.acknowledgeSession({ applicationId, sessionId });
        return reverifyHours();
      }
      case 'storePreProject':
        await act.storePreProject({ applicationId, ...effect.params, submittedBy: meta.actor });
        return [];
      case 'freezePreProject':
        await act.freezePreProject({ applicationId, version: effect.params.version });
        return [];
      case 'reserveBudget': {
        const amountCents = effect.params.amountCents;
        const outcome = await act.reserveBudget({
          applicationId,
          callId: rules.callId,
          amountCents,
          callBudgetCents: rules.budgetCents,
        });
        return [
          {
            type: 'RECORD_BUDGET',
            status: outcome.status,
            position: outcome.status === 'waiting' ? outcome.position : null,
          },
        ];
      }
      case 'releaseBudget':
        await tellPromoted((await act.releaseBudget({ applicationId, reason: effect.params.reason })).promoted);
        return [];
      case 'settleBudget': {
        // A smaller disbursement than admitted freed the difference for the reserve list.
        const { finalAmountCents } = effect.params;
        if (finalAmountCents < (run.snapshot.context.admittedCents ?? 0)) {
          await tellPromoted((await act.adjustBudget({ applicationId, finalAmountCents })).promoted);
        }
        await act.consumeBudget({ applicationId });
        return [];
      }
      default:
        // attachDocument: the upload was stored before the machine saw it. The rest did not exist then.
        return [];
    }
  }

  /** One transition as the first generation recorded it: its own activity, then the search attributes. */
  async function record(eventType: string, from: string, payload: unknown, meta: CommandMeta) {
    run.seq += 1;
    const to = run.state;
    const now = new Date(Date.now()).toISOString();
    const previous = run.deadline;
    run.deadline = deadlineAfter(from as never, to, run.deadline, rules.deadlines, Date.now(), run.snapshot.context);
    if (run.deadline !== previous) run.deadlineStartedAt = Date.now();
    if (eventType === 'ASSIGN_BODY') assignedAt = now;
    await act.recordTransition({
      applicationId,
      seq: run.seq,
      eventType,
      fromState: from,
      toState: to,
      actor: meta.actor,
      role: meta.role,
      payload,
      occurredAt: now,
      deadline: run.deadline,
    });
    if (meta.role !== 'system') run.lastActor = meta;
    run.publish('all');
  }

  async function apply(raw: ApplicationEvent, meta: CommandMeta): Promise<void> {
    const occurredAt = new Date(Date.now()).toISOString();
    let stored: Record<string, unknown> | undefined;
    const upload = raw.type === 'ATTACH_DOCUMENT' ? ((raw as unknown as { document?: Upload }).document ?? null) : null;
    if (upload && typeof upload.contentBase64 === 'string') {
      // Stored first, then recorded, then its DOCUMENT_STORED transition: the order those runs recorded.
      if (refusalReason(run.snapshot, { type: 'ATTACH_DOCUMENT' } as ApplicationEvent)?.includes('not possible')) {
        throw run.refuse(raw, refusalReason(run.snapshot, { type: 'ATTACH_DOCUMENT' } as ApplicationEvent)!);
      }
      stored = await act.storeDocument({ applicationId, upload }).catch((err) => {
        throw asInvalidCommand(err);
      });
    }
    const event = translate(raw, occurredAt, stored);
    if (!event) throw run.refuse(raw, `${raw.type} is not a command of this application's generation`);
    const reason = refusalReason(run.snapshot, event);
    if (reason) throw run.refuse(event, reason);
    const from = run.state;
    const [next, actions] = transition(applicationMachine, run.snapshot, event);
    const followUps: ApplicationEvent[] = [];
    try {
      for (const effect of effectsOf(actions)) followUps.push(...(await perform(effect, raw as never, meta)));
    } catch (err) {
      throw asInvalidCommand(err);
    }
    run.snapshot = next;
    await record(raw.type, from, raw, meta);
    if (stored) await record('DOCUMENT_STORED', run.state, { type: 'DOCUMENT_STORED', document: stored }, SYSTEM);
    for (const followUp of followUps) await apply(followUp, SYSTEM);
  }

  return {
    async begin() {
      const { form } = input;
      const occurredAt = new Date(Date.now()).toISOString();
      const { reasons } = await act.registerApplication({
        applicationId,
        rules,
        form,
        ...input.submittedBy,
        occurredAt,
      });
      run.publish('all');
      await apply(reasons.length ? { type: 'REJECT_INELIGIBLE', reasons } : { type: 'CONFIRM_ELIGIBILITY' }, SYSTEM);
    },
    apply,
    async budgetChanged() {
      if (run.state !== 'admitted' || run.snapshot.context.budget !== 'waiting') return;
      const status = await act.budgetStatus({ applicationId });
      if (status?.status === 'reserved')
        await apply({ type: 'RECORD_BUDGET', status: 'reserved', position: null }, SYSTEM);
      else if (status?.status === 'waiting' && status.position !== run.snapshot.context.budgetPosition) {
        await apply({ type: 'RECORD_BUDGET', status: 'waiting', position: status.position }, SYSTEM);
      }
    },
  };
}

/** The machine's input for a first-generation run, from the rules file and form it carried. */
export function firstGenerationStart(applicationId: string, input: FirstGenerationInput) {
  return {
    applicationId,
    callId: input.rules.callId,
    rulesVersion: input.rules.version,
    rules: machineRules(input.rules),
    themes: input.form.themes,
    deMinimisRoomCents: Math.max(0, input.rules.deMinimis.ceilingCents - input.form.deMinimisReceivedCents),
    sizeClass: null,
    submittedOn: new Date(Date.now()).toISOString().slice(0, 10),
  };
}
