import type { ApplicationEffects, Effect, EffectName } from '../../machines/effects';
import { assignmentEffects } from './assignment';
import { budgetEffects } from './budget';
import type { EffectOutcome, StepContext } from './context';
import { documentEffects } from './documents';
import { preProjectEffects } from './pre-projects';
import { sessionEffects } from './sessions';
import { openProject } from '../project/steps';

type Handlers = {
  [K in EffectName]: (ctx: StepContext, params: ApplicationEffects[K]) => Promise<EffectOutcome | void>;
};

/** One handler per effect the machine declares (machines/effects.ts): a missing one is a compile error here. */
const handlers: Handlers = {
  ...assignmentEffects,
  ...sessionEffects,
  ...documentEffects,
  ...preProjectEffects,
  ...budgetEffects,
  openProject,
};

export async function performEffect<K extends EffectName>(ctx: StepContext, effect: Extract<Effect, { type: K }>) {
  const handler = handlers[effect.type] as Handlers[K];
  return (await handler(ctx, effect.params as ApplicationEffects[K])) ?? {};
}
