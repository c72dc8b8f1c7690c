import { getNextTransitions, type AnyMachineSnapshot } from 'xstate';

type GuardRef = string | { type: string } | { guards: readonly GuardRef[] } | undefined;

/** The named guards of a transition, composite guards (`and`) flattened. */
function guardNames<G extends string>(guard: GuardRef): G[] {
  if (!guard) return [];
  if (typeof guard === 'string') return [guard as G];
  if ('guards' in guard) return guard.guards.flatMap((g) => guardNames<G>(g));
  return [guard.type as G];
}

/**
 * Refusals in words for a machine: which commands are possible now, and why an event is not. Read from the machine
 * itself (xstate's getNextTransitions), so a new transition or guard needs no second list here; each guard's
 * wording comes from its machine's table, typed by the guards' names so none is forgotten.
 */
export function refusals<C, E extends { type: string }, G extends string, T extends string>(spec: {
  /** "application" or "project": how the sentences name the thing. */
  noun: string;
  /** How a sentence says where the thing is: "in commission" for an application, "reduced" for a project. */
  where: (state: string) => string;
  /** Whether a guard's refusal names the state as "refused in S" (the application) or "refused while ... is S". */
  refusedIn: boolean;
  guards: Record<G, (args: { context: C; event: E }) => boolean>;
  wording: Record<G, (context: C, event: E) => string>;
  /** Guards that read the event's payload: without one they cannot say, so they count as "possible". */
  payloadGuards: ReadonlySet<G>;
  commandTypes: readonly T[];
}) {
  const next = (snapshot: AnyMachineSnapshot) => getNextTransitions(snapshot);

  function allowedCommands(snapshot: AnyMachineSnapshot): T[] {
    if (snapshot.status !== 'active') return [];
    const possible = new Set(
      next(snapshot)
        .filter((t) =>
          guardNames<G>(t.guard as GuardRef).every(
            (g) =>
              spec.payloadGuards.has(g) ||
              spec.guards[g]({ context: snapshot.context as C, event: { type: t.eventType } as E }),
          ),
        )
        .map((t) => t.eventType),
    );
    return spec.commandTypes.filter((type) => possible.has(type));
  }

  /** Null when the machine accepts the event, otherwise why not: no such transition now, or the guards that said no. */
  function refusalReason(snapshot: AnyMachineSnapshot, event: E): string | null {
    const state = String(snapshot.value);
    if (snapshot.status !== 'active')
      return `the ${spec.noun} is ${state}, a final state: no further events are accepted`;
    if (snapshot.can(event)) return null;
    const transitions = next(snapshot).filter((t) => t.eventType === event.type);
    if (transitions.length === 0) {
      const allowed = allowedCommands(snapshot);
      const now = allowed.join(', ') || 'none';
      return `${event.type} is not possible while the ${spec.noun} is ${spec.where(state)}; possible now: ${now}`;
    }
    const args = { context: snapshot.context as C, event };
    const reasons = new Set(
      transitions
        .flatMap((t) => guardNames<G>(t.guard as GuardRef))
        .filter((g) => !spec.guards[g](args))
        .map((g) => spec.wording[g](snapshot.context as C, event)),
    );
    const at = spec.refusedIn ? `in ${state}` : `while the ${spec.noun} is ${spec.where(state)}`;
    return `${event.type} refused ${at}: ${[...reasons].join('; ') || 'not allowed'}`;
  }

  return { allowedCommands, refusalReason };
}
