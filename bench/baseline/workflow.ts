import { allHandlersFinished, condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { BaselineActivities } from './activities';

/*
 * The floor for this job on Temporal: a bare workflow that takes the same ten Updates as a happy-path application
 * and runs one no-op activity for each. No machine, no database, no validation.
 */

export const COMMANDS_PER_LIFECYCLE = 10;
export const baselineCommand = defineUpdate<{ step: number }, [unknown]>('command');

const { noop } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30 seconds' });

export async function baselineWorkflow(_form: unknown): Promise<number> {
  let done = 0;
  setHandler(baselineCommand, async (command) => {
    await noop(command);
    done += 1;
    return { step: done };
  });
  await condition(() => done >= COMMANDS_PER_LIFECYCLE && allHandlersFinished());
  return done;
}
