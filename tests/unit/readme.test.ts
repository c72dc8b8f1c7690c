import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mermaidDiagram } from '../../machines/diagram';
import { projectMachine } from '../../machines/project.machine';
import { projectRoot } from '../support/fixtures';

// The README embeds `innosocial diagram`; when the machine changes, this says the picture must follow.
test('the README shows both lifecycles exactly as their machines define them', () => {
  const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  expect(readme).toContain('```mermaid\n' + mermaidDiagram() + '\n```');
  expect(readme).toContain('```mermaid\n' + mermaidDiagram(projectMachine) + '\n```');
});
