import type { Migration } from 'kysely';
import * as foundation from './2026-11-25T2200_foundation';

/** Every migration, by timestamped name. Listed, not globbed, so bundles and compiled builds carry them. */
export const migrations: Record<string, Migration> = {
  '2026-11-25T2200_foundation': foundation,
};
