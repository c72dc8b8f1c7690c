import { applicationMachine } from './application.machine';

interface Edge {
  target?: { key: string }[];
  guard?: { type: string } | string;
}

/** The machine as a Mermaid state diagram, read from the machine itself so the picture cannot drift. */
export function mermaidDiagram(): string {
  const root = applicationMachine.root;
  const lines = ['stateDiagram-v2', `  [*] --> ${root.initial.target[0]!.key}`];
  for (const [name, node] of Object.entries(root.states)) {
    if (node.type === 'final') {
      lines.push(`  ${name} --> [*]`);
      continue;
    }
    // Eventless transitions (the commission's quorum) are drawn with their guard in place of an event.
    const own = [
      ...Object.entries(node.on as Record<string, Edge[]>),
      ['(quorum)', (node.always ?? []) as unknown as Edge[]] as [string, Edge[]],
    ];
    for (const [event, edges] of own) {
      for (const edge of edges) {
        const target = edge.target?.[0]?.key;
        if (!target || target === name) continue;
        const guard = typeof edge.guard === 'string' ? edge.guard : edge.guard?.type;
        lines.push(`  ${name} --> ${target}: ${event}${guard ? ` [${guard}]` : ''}`);
      }
    }
  }
  return lines.join('\n');
}
