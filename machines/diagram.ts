import type { AnyStateMachine } from 'xstate';
import { applicationMachine } from './application.machine';

interface Edge {
  target?: { key: string }[];
  guard?: { type: string } | string;
  description?: string;
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
        const guard = typeof edge.guard === 'string' ? edge.guard : edge.guard?.type;
        const label = event ?? `(${edge.description ?? 'always'})`;
        lines.push(`  ${name} --> ${target}: ${label}${guard ? ` [${guard}]` : ''}`);
      }
    }
  }
  return lines.join('\n');
}
