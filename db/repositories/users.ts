import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { UserRole } from '../../domain/roles';
import type { User } from '../schema';
import type { Executor } from './applications';

export type { UserRole };
export type PublicUser = Omit<User, 'token_hash'>;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Creates a user and returns its bearer token: shown once, only its hash is kept. */
export async function createUser(
  db: Executor,
  input: { name: string; role: UserRole; bodyId?: string | null; chair?: boolean; email?: string | null },
): Promise<{ user: PublicUser; token: string }> {
  const token = `ism_${randomBytes(32).toString('base64url')}`;
  const row = await db
    .insertInto('users')
    .values({
      name: input.name,
      role: input.role,
      body_id: input.bodyId ?? null,
      chair: input.chair ?? false,
      email: input.email ?? null,
      token_hash: hashToken(token),
    })
    .returning(['id', 'name', 'role', 'body_id', 'chair', 'created_at', 'revoked_at', 'email'])
    .executeTakeFirstOrThrow();
  return { user: row, token };
}

/** The active user a bearer token belongs to, or undefined (unknown or revoked). */
export async function userByToken(db: Executor, token: string): Promise<PublicUser | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'name', 'role', 'body_id', 'chair', 'created_at', 'revoked_at', 'email'])
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function listUsers(db: Executor): Promise<PublicUser[]> {
  return db
    .selectFrom('users')
    .select(['id', 'name', 'role', 'body_id', 'chair', 'created_at', 'revoked_at', 'email'])
    .orderBy('created_at')
    .execute();
}

/** Revokes a user's token; says whether there was an active one. */
export async function revokeUser(db: Executor, id: string): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return (result.numUpdatedRows ?? 0n) > 0n;
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
