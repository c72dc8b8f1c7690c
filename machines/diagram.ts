import type { AnyStateMachine } from 'xstate';
import { applicationMachine } from './application.machine';

/** A guard as xstate keeps it: a name, a `{ type }` object, or a composite (`and`, `or`, `not`) of guards. */
type Guard = string | { type?: string; guards?: readonly Guard[]; name?: string } | undefined;

interface Edge {
  target?: { key: string }[];
  guard?: Guard;
  description?: string;
}

/** A guard in words; composites show every guard they combine (xstate's `and`, `or`, `not` are named functions). */
function guardLabel(guard: Guard): string | undefined {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  if (guard.guards) {
    const parts = guard.guards.map(guardLabel).filter(Boolean);
    return guard.name === 'not' ? `not ${parts.join(' ')}` : parts.join(guard.name === 'or' ? ' or ' : ' and ');
  }
  return guard.type;
}

/**
 * A machine as a Mermaid state diagram, read from the machine itself so the picture cannot drift. Only top-level
 * states are drawn (both machines are flat). Eventless transitions are drawn with their description in brackets
 * in place of an event, e.g. the commission's "(quorum)". Without an argument it draws the application's lifecycle,
 * as `innosocial diagram` and the README show it.
 */
export function mermaidDiagram(machine: AnyStateMachine = applicationMachine): string {
  const root = machine.root;
  const lines = ['stateDiagram-v2', `  [*] --> ${root.initial.target[0]!.key}`];
  for (const [name, node] of Object.entries(root.states)) {
    if (node.type === 'final') {
      lines.push(`  ${name} --> [*]`);
      continue;
    }
    const eventless = (node.always ?? []) as unknown as Edge[];
    const own: [string | null, Edge[]][] = [...Object.entries(node.on as Record<string, Edge[]>), [null, eventless]];
    for (const [event, edges] of own) {
      for (const edge of edges) {
        const target = edge.target?.[0]?.key;
        if (!target || target === name) continue;
        const guard = guardLabel(edge.guard);
        const label = event ?? `(${edge.description ?? 'always'})`;
        lines.push(`  ${name} --> ${target}: ${label}${guard ? ` [${guard}]` : ''}`);
      }
    }
  }
  return lines.join('\n');
}
