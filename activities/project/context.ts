import type { ProjectContext } from '../../machines/project.machine';
import type { CommandMeta } from '../../workflows/messages';
import type { StepContext } from '../effects/context';

/** What one project step's effects read and write: they share its transaction, like an application step's. */
export interface ProjectStepContext extends Pick<
  StepContext,
  'trx' | 'deps' | 'applicationId' | 'callId' | 'seq' | 'occurredAt'
> {
  meta: CommandMeta;
  before: ProjectContext;
  after: ProjectContext;
}
