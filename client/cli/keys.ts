import type { Command } from 'commander';
import type { KeyUsage } from '../service/keys';
import { callApi } from './http';
import { addCommand } from './program';

function usageText(u: KeyUsage): string {
  const lines = u.keys.map((k) => {
    const state = k.active ? 'active' : k.inRing ? 'in the ring' : 'MISSING from the ring';
    const verdict = k.active
      ? ''
      : k.workflows === 0
        ? ': no history needs it, it may leave the ring'
        : k.inRing
          ? ': keep it'
          : ': these histories cannot be read until it is back';
    return `  ${k.id}  ${state}, used by ${k.workflows} workflow(s)${verdict}`;
  });
  return [`${u.workflows} workflow(s) read; payload keys:`, ...lines].join('\n');
}

export function keyCommands(program: Command) {
  const keys = program.command('keys').description('the payload encryption keys');
  keys.addHelpText('after', '\nExample:\n  innosocial keys usage');
  addCommand(keys, {
    name: 'usage',
    description: 'which keys the histories Temporal keeps still need (read before a key leaves the ring)',
    example: 'innosocial keys usage --call innosocialmetro-2023',
    options: [['--call <id>', "only this call's applications and projects (all histories without it)"]],
    run: async (_a, o, out) => {
      const query = o.call ? `?call=${encodeURIComponent(String(o.call))}` : '';
      const usage = await callApi<KeyUsage>('GET', `/keys/usage${query}`);
      out.print(usage, () => usageText(usage));
    },
  });
}
