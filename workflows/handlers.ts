import { ApplicationFailure, log, patched, setHandler } from '@temporalio/workflow';
import type { ApplicationEvent, CommandType } from '../machines/events';
import { refusalReason } from '../machines/explain';
import { COMMAND_TYPES, permissionProblem } from '../machines/permissions';
import { checkCommand, type Schema } from './check';
import schemas from './command-schemas.json';
import {
  budgetSignal,
  commandSignal,
  commandUpdate,
  FAILURE,
  upgradeSignal,
  viewQuery,
  type CommandRequest,
} from './messages';
import type { Run, Stepper } from './run';
import { isUntrusted, trusted, untrustedFailure } from './trust';

const COMMAND_SCHEMAS = schemas as Record<CommandType, Schema>;

/**
 * The command in a request, checked against its schema: what was wrong, where, as data. The first generation's
 * commands had shapes of their own; its path reads them (workflows/generation-1.ts).
 */
function parse(run: Run, request: CommandRequest): ApplicationEvent {
  if (run.generation === 1) return (request as Partial<CommandRequest> | null)?.event ?? ({ type: 'unknown' } as never);
  const event = (request as Partial<CommandRequest> | null)?.event as Record<string, unknown> | undefined;
  const type = event?.type;
  if (typeof type !== 'string' || !(COMMAND_TYPES as readonly string[]).includes(type)) {
    throw invalid([{ path: 'type', message: `unknown command; one of ${COMMAND_TYPES.join(', ')}` }]);
  }
  const { type: _type, ...payload } = event!;
  const problems = checkCommand(COMMAND_SCHEMAS[type as CommandType], type, payload);
  if (problems.length) throw invalid(problems);
  return event as unknown as ApplicationEvent;
}

const invalid = (problems: { path: string; message: string }[]) =>
  ApplicationFailure.create({
    type: FAILURE.invalid,
    message: `invalid command: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    nonRetryable: true,
    details: [problems],
  });

function authorize(request: CommandRequest, event: ApplicationEvent) {
  const meta = (request as Partial<CommandRequest>).meta;
  const problem = meta ? permissionProblem(meta.role, meta.actor, event) : 'the command names no sender';
  if (problem) throw ApplicationFailure.create({ type: FAILURE.forbidden, message: problem, nonRetryable: true });
}

/**
 * The first generation ran its commands through its own path. Whatever reaches such a run under this code, beyond
 * what its history recorded, first moves it into a run of the current generation (patched: those histories
 * replay without the marker), and the sender is asked to send again.
 */
function upgradingInstead(run: Run): boolean {
  if (run.generation !== 1 || !patched('upgrade-to-generation-2')) return false;
  run.upgradeRequested = true;
  return true;
}
const movingOn = () =>
  ApplicationFailure.create({
    type: FAILURE.refused,
    message: 'the application is moving to the current version of the system: send the command again in a moment',
    nonRetryable: true,
  });

export function setHandlers(run: Run, stepper: Stepper) {
  setHandler(viewQuery, () => run.view());

  setHandler(
    commandUpdate,
    (raw) =>
      run.exclusive(async () => {
        const request = trusted<CommandRequest>(raw, 'command', run.generation);
        if (upgradingInstead(run)) throw movingOn();
        const event = parse(run, request);
        // Runs recorded before roles were checked here accepted such commands, and must replay as they ran.
        if (run.generation === 2 || patched('commands-by-role')) authorize(request, event);
        await stepper.apply(event, request.meta);
        return run.result();
      }),
    {
      // Rejected here, an impossible command never enters the history.
      validator: (raw) => {
        if (isUntrusted(raw)) throw untrustedFailure('command', raw.$untrusted);
        if (run.generation === 1) return;
        const event = parse(run, raw);
        authorize(raw, event);
        const reason = refusalReason(run.snapshot, event);
        if (reason) throw run.refuse(event, reason);
      },
    },
  );

  setHandler(commandSignal, (raw) =>
    run.exclusive(async () => {
      const type = typeof (raw as Partial<CommandRequest>)?.event?.type === 'string' ? raw.event.type : 'unknown';
      try {
        const request = trusted<CommandRequest>(raw, 'command', run.generation);
        if (upgradingInstead(run)) throw movingOn();
        const event = parse(run, request);
        if (run.generation === 2 || patched('commands-by-role')) authorize(request, event);
        await stepper.apply(event, request.meta);
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) throw err;
        run.rememberRefusedSignal(type, err.message);
        log.warn('signal refused', { type, reason: err.message });
      }
    }),
  );

  // A poke, not a fact: the ledger in the database says whether the money is really there.
  setHandler(budgetSignal, () =>
    run.exclusive(async () => {
      if (!upgradingInstead(run)) await stepper.budgetChanged();
    }),
  );

  setHandler(upgradeSignal, () => void upgradingInstead(run));
}
