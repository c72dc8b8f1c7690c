import type { PreProject } from '../domain/pre-project';
import type { SessionAnswer, SessionInput, StoredDocument } from './events';
import type { ProjectMachineInput } from './project.machine';

/** A no-op action whose params are typed: `transition()` hands it back, the handlers perform it. */
export const effect =
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
  /** The funded application's project begins: its register row (its workflow is started by the application's). */
  openProject: effect<ProjectMachineInput>(),
};

export type ApplicationEffects = EffectParams<typeof applicationEffects>;
export type EffectName = keyof ApplicationEffects;
export type Effect = EffectIn<typeof applicationEffects>;

/** The params of each effect in a declaration like `applicationEffects`. */
export type EffectParams<D extends Record<string, (a: unknown, p: never) => void>> = {
  [K in keyof D]: Parameters<D[K]>[1];
};
export type EffectIn<D extends Record<string, (a: unknown, p: never) => void>> = {
  [K in keyof D]: { type: K; params: EffectParams<D>[K] };
}[keyof D];

/** The effects of a declaration among the actions `transition()` returned (xstate applies assignments itself). */
export function effectsIn<D extends Record<string, (a: unknown, p: never) => void>>(
  declared: D,
  actions: readonly { type: string; params?: unknown }[],
): EffectIn<D>[] {
  return actions
    .filter((a) => Object.prototype.hasOwnProperty.call(declared, a.type))
    .map((a) => ({ type: a.type, params: a.params }) as EffectIn<D>);
}

export const effectsOf = (actions: readonly { type: string; params?: unknown }[]): Effect[] =>
  effectsIn(applicationEffects, actions);
