import type { Migration } from 'kysely';
import * as foundation from './2026-11-25T2200_foundation';
import * as budget from './2026-11-25T2300_budget';
import * as accompaniment from './2026-11-25T2330_accompaniment';
import * as users from './2026-11-25T2340_users';
import * as outboxDelivery from './2026-11-25T2310_outbox_delivery';
import * as outboxMessages from './2026-11-26T0900_outbox_messages';
import * as register from './2026-11-26T1000_register';
import * as signIn from './2026-11-26T1200_sign_in';
import * as projects from './2026-11-26T1300_projects';

/** Every migration, by timestamped name. Listed, not globbed, so bundles and compiled builds carry them. */
export const migrations: Record<string, Migration> = {
  '2026-11-25T2200_foundation': foundation,
  '2026-11-25T2300_budget': budget,
  '2026-11-25T2330_accompaniment': accompaniment,
  '2026-11-25T2340_users': users,
  '2026-11-25T2310_outbox_delivery': outboxDelivery,
  '2026-11-26T0900_outbox_messages': outboxMessages,
  '2026-11-26T1000_register': register,
  '2026-11-26T1200_sign_in': signIn,
  '2026-11-26T1300_projects': projects,
};
