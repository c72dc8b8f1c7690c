import { effect, effectsIn, type EffectIn, type EffectParams } from './effects';
import type { IntentionCause, IntentionKind, RecoveryKind, Verification } from './project.machine';
import type { FinalReport, InterimReport, Observations } from './project.events';

/**
 * Every effect the project's machine may ask for, declared once with its parameters: the machine's action stubs
 * and the handlers (activities/project/effects.ts) derive from it.
 */
export const projectEffects = {
  storeInterimReport: effect<{ number: number; report: InterimReport }>(),
  storeFinalReport: effect<{ report: FinalReport }>(),
  storeVerification: effect<Verification>(),
  /** A reduction or revocation announced, with its reasons and amount, before it takes effect (law 241/1990). */
  notifyIntention: effect<{
    kind: IntentionKind;
    cause: IntentionCause;
    reasons: string[];
    recoveryCents: number;
    observationDays: number;
  }>(),
  storeObservations: effect<{ kind: IntentionKind; observations: Observations; late: boolean }>(),
  notifyDecision: effect<{
    kind: IntentionKind;
    decision: 'confirmed' | 'dropped';
    motivation: string;
    recoveryCents: number;
  }>(),
  orderRecovery: effect<{ kind: RecoveryKind; amountCents: number; reasons: string[] }>(),
  recordRepayment: effect<{ amountCents: number; repaidOn: string; outstandingAfterCents: number }>(),
};

export type ProjectEffects = EffectParams<typeof projectEffects>;
export type ProjectEffect = EffectIn<typeof projectEffects>;
export type ProjectEffectName = keyof ProjectEffects;
export const projectEffectsOf = (actions: readonly { type: string; params?: unknown }[]): ProjectEffect[] =>
  effectsIn(projectEffects, actions);
