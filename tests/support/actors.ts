import type { ApplicationCommand } from '../../machines/events';
import { COMMANDS_BY_ROLE, type Role } from '../../machines/permissions';
import type { CommandMeta } from '../../workflows/messages';

const NAMES: Partial<Record<Role, string>> = {
  operator: 'op.rossi',
  commission: 'commission',
  company: 'legal representative',
  consultant: 'cons.bianchi',
};

/** The person who would naturally send a command: an operator where operators may, else its only sender. */
export function actorFor(event: Pick<ApplicationCommand, 'type'>): CommandMeta {
  const role = (['operator', 'commission', 'company', 'consultant'] as const).find((r) =>
    COMMANDS_BY_ROLE[r].includes(event.type),
  );
  if (!role) throw new Error(`no role sends ${event.type}`);
  return { actor: NAMES[role]!, role };
}
