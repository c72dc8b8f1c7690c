import type { CommandMeta } from '../../workflows/messages';

/**
 * The people the tests act as, declared once. Commission members are user ids (uuids), as the API makes them: the
 * workflow checks that a member or chair named in a command is its sender.
 */
export const PEOPLE = {
  operator: { actor: '00000000-0000-4000-8000-00000000000a', role: 'operator' },
  consultant: { actor: '00000000-0000-4000-8000-00000000000c', role: 'consultant' },
  company: { actor: 'company', role: 'company' },
  chair: { actor: '00000000-0000-4000-8000-0000000000c0', role: 'commission' },
  members: [
    { actor: '00000000-0000-4000-8000-0000000000c1', role: 'commission' },
    { actor: '00000000-0000-4000-8000-0000000000c2', role: 'commission' },
    { actor: '00000000-0000-4000-8000-0000000000c3', role: 'commission' },
  ],
} as const satisfies Record<string, CommandMeta | readonly CommandMeta[]>;

export const operator: CommandMeta = PEOPLE.operator;
