import type { PreProject } from '../domain/pre-project';
import type { SessionAnswer, SessionInput, StoredDocument } from './events';

/** A no-op action whose params are typed: `transition()` hands it back, the handlers perform it. */
const effect =
  <Params>() =>
  (_args: unknown, _params: Params): void =>
    undefined;

/**
 * Every effect the machine may ask for, declared once with its parameters. The machine uses these as its action
 * stubs; the handlers that perform them (activities/effects) are typed from the same declaration, so an effect
 * added here is a compile error until it is handled.
 */
export const applicationEffects = {
  assignConsultant: effect<{ implementingBody: string; consultantId: string; effectiveOn: string }>(),
  storeSession: effect<SessionInput>(),
  confirmSession: effect<SessionAnswer>(),
  disputeSession: effect<SessionAnswer>(),
  resendSessionCode: effect<{ date: string; start: string }>(),
  attachDocument: effect<StoredDocument>(),
  storePreProject: effect<{ version: number; preProject: PreProject }>(),
  freezePreProject: effect<{ version: number }>(),
  reserveBudget: effect<{ amountCents: number }>(),
  releaseBudget: effect<{ reason: string }>(),
  settleBudget: effect<{ finalAmountCents: number }>(),
};

export type ApplicationEffects = {
  [K in keyof typeof applicationEffects]: Parameters<(typeof applicationEffects)[K]>[1];
};
export type EffectName = keyof ApplicationEffects;
export type Effect = { [K in EffectName]: { type: K; params: ApplicationEffects[K] } }[EffectName];

/** The effects among the actions `transition()` returned (assignments are applied by xstate itself). */
export function effectsOf(actions: readonly { type: string; params?: unknown }[]): Effect[] {
  return actions
    .filter((a) => Object.prototype.hasOwnProperty.call(applicationEffects, a.type))
    .map((a) => ({ type: a.type, params: a.params }) as Effect);
}
