import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { initialTransition, transition } from 'xstate';
import type { Activities } from '../activities';
import type { ApplicationForm } from '../domain/application';
import { machineRules, type CallRules } from '../domain/rules';
import { applicationMachine, type ApplicationState } from '../machines/application.machine';
import { deadlineAfter, type Deadline } from '../machines/deadlines';
import { ApplicationCommandSchema, eligibleCostOf, type ApplicationEvent, type DocumentUpload, type SessionInput } from '../machines/events';
import { allowedCommands, refusalReason, stateOf, type ApplicationSnapshot } from '../machines/explain';
import {
  FAILURE,
  commandSignal,
  commandUpdate,
  viewQuery,
  type ApplicationView,
  type CommandMeta,
  type CommandRequest,
  type RefusedSignal,
} from './messages';
import { SA } from './search-attributes';
import { describeState } from './details';

export interface ApplicationWorkflowInput {
  applicationId: string;
  rules: CallRules;
  form: ApplicationForm;
  submittedBy: CommandMeta;
}

export interface ApplicationOutcome {
  applicationId: string;
  state: ApplicationState;
  admittedCents: number | null;
  fundedCents: number | null;
}

const {
  registerApplication,
  recordTransition,
  recordSession,
  verifyAccompanimentHours,
  storeDocument,
} = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['InvalidDocument'] },
});

const SYSTEM: CommandMeta = { actor: 'system', role: 'system' };
const MAX_REFUSED_SIGNALS = 20;

/** Drops document bodies from what goes to the audit trail: the stored document's digest follows as its own event. */
function auditPayload(event: ApplicationEvent): Record<string, unknown> {
  if (event.type === 'ATTACH_DOCUMENT') {
    const { contentBase64, ...rest } = event.document;
    return { type: event.type, document: { ...rest, base64Length: contentBase64.length } };
  }
  return { ...event };
}

/** Runs message handlers one at a time so two decisions arriving together cannot interleave their activities. */
function serialized() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
}

export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<ApplicationOutcome> {
  const { applicationId, rules, form } = input;
  let [snapshot]: [ApplicationSnapshot, unknown] = initialTransition(applicationMachine, {
    applicationId,
    callId: rules.callId,
    rulesVersion: rules.version,
    rules: machineRules(rules),
    themes: form.themes,
  });
  let seq = 0;
  let deadline = null as Deadline | null;
  let assignedAt: string | null = null;
  const refusedSignals: RefusedSignal[] = [];
  const exclusive = serialized();

  const view = (): ApplicationView => {
    const c = snapshot.context;
    return {
      applicationId,
      callId: c.callId,
      rulesVersion: c.rulesVersion,
      state: stateOf(snapshot),
      final: snapshot.status !== 'active',
      allowedCommands: allowedCommands(snapshot),
      deadline,
      transitions: seq,
      facts: {
        themes: c.themes,
        eligibility: c.eligibility,
        ineligibilityReasons: c.ineligibilityReasons,
        implementingBody: c.implementingBody,
        consultant: c.consultant,
        sessionsLogged: c.sessionsLogged,
        verifiedHours: c.verifiedMinutes / 60,
        requiredHours: c.rules.minimumAccompanimentMinutes / 60,
        documents: c.documents,
        preProject: c.preProject && {
          version: c.preProjectVersion,
          title: c.preProject.title,
          eligibleCostCents: eligibleCostOf(c.preProject),
          grantCents: c.preProject.grantCents,
        },
        integrationRequests: c.integrationRequests,
        motivation: c.motivation,
        admittedCents: c.admittedCents,
        fundedCents: c.fundedCents,
        closingReason: c.closingReason,
      },
      refusedSignals: [...refusedSignals],
    };
  };

  const publish = () => {
    const c = snapshot.context;
    upsertSearchAttributes([
      { key: SA.state, value: stateOf(snapshot) },
      { key: SA.themes, value: c.themes },
      { key: SA.call, value: c.callId },
      ...(c.implementingBody ? [{ key: SA.body, value: c.implementingBody }] : []),
    ]);
    setCurrentDetails(describeState(view()));
  };

  const refuse = (event: { type: string }, reason: string) =>
    ApplicationFailure.create({ type: FAILURE.refused, message: reason, nonRetryable: true, details: [{ event: event.type, state: stateOf(snapshot) }] });

  /**
   * One machine step. The effects the machine asks for run first: when one fails (a bad upload) the snapshot
   * and the record stay as they were. Then the transition is recorded, then the events the effects produced.
   */
  async function apply(event: ApplicationEvent, meta: CommandMeta): Promise<void> {
    const reason = refusalReason(snapshot, event);
    if (reason) throw refuse(event, reason);
    const from = stateOf(snapshot);
    const [next, effects] = transition(applicationMachine, snapshot, event);
    const followUps: ApplicationEvent[] = [];
    for (const effect of effects) {
      if (effect.type === 'storeSession') followUps.push(...(await performStoreSession(effect.params as SessionInput)));
      else if (effect.type === 'storeDocument') followUps.push(...(await performStoreDocument(effect.params as DocumentUpload)));
    }
    snapshot = next;
    seq += 1;
    const to = stateOf(snapshot);
    const now = new Date(Date.now()).toISOString();
    deadline = deadlineAfter(from, to, deadline, rules.deadlines, Date.now());
    if (event.type === 'ASSIGN_BODY') assignedAt = now;
    await recordTransition({
      applicationId,
      seq,
      eventType: event.type,
      fromState: from,
      toState: to,
      actor: meta.actor,
      role: meta.role,
      payload: auditPayload(event),
      occurredAt: now,
      facts: view().facts,
      deadline,
    });
    publish();
    for (const followUp of followUps) await apply(followUp, SYSTEM);
  }

  async function performStoreSession(session: SessionInput): Promise<ApplicationEvent[]> {
    const consultant = session.consultant ?? snapshot.context.consultant ?? 'unknown';
    await recordSession({ applicationId, session: { ...session, consultant } });
    const verified = await verifyAccompanimentHours({ applicationId, assignedAt });
    return verified.verifiedMinutes === snapshot.context.verifiedMinutes
      ? []
      : [{ type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: verified.verifiedMinutes }];
  }

  async function performStoreDocument(upload: DocumentUpload): Promise<ApplicationEvent[]> {
    try {
      return [{ type: 'DOCUMENT_STORED', document: await storeDocument({ applicationId, upload }) }];
    } catch (err) {
      // A bad upload is the sender's mistake: say so as an invalid command, the application carries on.
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'InvalidDocument') {
        throw ApplicationFailure.create({ type: FAILURE.invalid, message: err.cause.message, nonRetryable: true, details: [[{ path: 'document', message: err.cause.message }]] });
      }
      throw err;
    }
  }

  /** Parses a command from outside; system events and malformed payloads never reach the machine. */
  function parseCommand(request: CommandRequest): ApplicationEvent {
    const parsed = ApplicationCommandSchema.safeParse(request?.event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'event';
      throw ApplicationFailure.create({
        type: FAILURE.invalid,
        message: `invalid command at ${where}: ${issue?.message ?? 'malformed'}`,
        nonRetryable: true,
        details: [parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))],
      });
    }
    return parsed.data as ApplicationEvent;
  }

  setHandler(viewQuery, view);

  setHandler(
    commandUpdate,
    (request) =>
      exclusive(async () => {
        await apply(parseCommand(request), request.meta);
        return view();
      }),
    {
      // Rejected here, an impossible command never enters the history.
      validator: (request) => {
        const event = parseCommand(request);
        const reason = refusalReason(snapshot, event);
        if (reason) throw refuse(event, reason);
      },
    },
  );

  setHandler(commandSignal, (request) =>
    exclusive(async () => {
      try {
        await apply(parseCommand(request), request.meta);
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) throw err;
        const type = typeof request?.event?.type === 'string' ? request.event.type : 'unknown';
        refusedSignals.push({ type, reason: err.message, at: new Date(Date.now()).toISOString() });
        refusedSignals.splice(0, Math.max(0, refusedSignals.length - MAX_REFUSED_SIGNALS));
        log.warn('signal refused', { type, reason: err.message });
      }
    }),
  );

  await exclusive(async () => {
    const { reasons } = await registerApplication({
      applicationId,
      rules,
      form,
      actor: input.submittedBy.actor,
      role: input.submittedBy.role,
      occurredAt: new Date(Date.now()).toISOString(),
    });
    publish();
    if (reasons.length > 0) await apply({ type: 'REJECT_INELIGIBLE', reasons }, SYSTEM);
    else await apply({ type: 'CONFIRM_ELIGIBILITY' }, SYSTEM);
  });

  while (snapshot.status === 'active') {
    const state = stateOf(snapshot);
    const running = deadline;
    const changed = () => snapshot.status !== 'active' || stateOf(snapshot) !== state || deadline !== running;
    const moved = running ? await condition(changed, Math.max(1, Date.parse(running.dueAt) - Date.now())) : (await condition(changed), true);
    if (!moved && running) {
      await exclusive(async () => {
        // An event may have landed while we waited for the lock: it wins over the timer.
        if (snapshot.status === 'active' && stateOf(snapshot) === state && deadline === running) {
          await apply({ type: 'LAPSE', deadline: running.kind, dueAt: running.dueAt }, SYSTEM);
        }
      });
    }
  }

  await condition(allHandlersFinished);
  log.info('application closed', { state: stateOf(snapshot), workflowId: workflowInfo().workflowId });
  return {
    applicationId,
    state: stateOf(snapshot),
    admittedCents: snapshot.context.admittedCents,
    fundedCents: snapshot.context.fundedCents,
  };
}
