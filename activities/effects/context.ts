import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema';
import type { Comune } from '../../domain/eligibility';
import type { CallRules } from '../../domain/rules';
import type { ApplicationContext } from '../../machines/application.machine';
import type { ApplicationEvent } from '../../machines/events';
import type { SessionLinks } from '../../security/links';
import type { CommandMeta } from '../../workflows/messages';

/** What the activities are built from (worker.ts, the composition root, gives them). */
export interface ActivityDeps {
  db: import('../../db/connect').Db;
  /** The rules an application pinned, by call and version. */
  rules: (callId: string, version: number) => CallRules;
  /** The comuni of a territory file named by a call's rules. */
  territory: (comuniFile: string) => readonly Comune[];
  /** Configured addresses: they hear when they must act. */
  recipients: { operators: readonly string[]; commission: readonly string[] };
  /** Where people open the pages, and how the company's personal links are signed. */
  publicUrl: string;
  links: SessionLinks;
  /** The activities' clock; tests move it forward to stand weeks after an assignment. */
  now?: () => Date;
}

/** Everything one step's effects may read and write: they all share its transaction. */
export interface StepContext {
  trx: Transaction<Database>;
  deps: ActivityDeps & { now: () => Date };
  applicationId: string;
  callId: string;
  rules: CallRules;
  seq: number;
  meta: CommandMeta;
  occurredAt: string;
  /** The machine's context before the event, and after it (the effects run for the step that leads there). */
  before: ApplicationContext;
  after: ApplicationContext;
}

/** What an effect produced: system events to apply next, and admissions its release moved out of the reserve list. */
export interface EffectOutcome {
  followUps?: ApplicationEvent[];
  promoted?: string[];
  /** Work that comes after the step's transition is recorded, in the same transaction: messages that follow its own. */
  afterTransition?: () => Promise<void>;
}

/**
 * An input mistake the step found (a wrong code, a consultant of another body): the step's transaction rolls back
 * and the sender hears what and where. `afterwards` runs in a transaction of its own once the step's is undone:
 * a wrong code still counts against the session's and the application's attempts.
 */
export class StepInputError extends Error {
  constructor(
    readonly kind: string,
    readonly problems: { path: string; message: string }[],
    readonly afterwards?: (db: ActivityDeps['db']) => Promise<void>,
    /** What really happened, for the logs, when the sender is told less (the company's generic answer). */
    readonly detail?: string,
  ) {
    super(problems.map((p) => p.message).join('; '));
  }
}
