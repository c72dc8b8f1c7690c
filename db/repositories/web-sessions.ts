import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from './applications';
import type { PublicUser } from './users';

/*
 * The pages' sign-in: single-use links and the sessions they open. Tokens are random (256 bits), shown once (in
 * the e-mail, in the cookie); only their SHA-256 is stored. A revoked user's links and sessions stop at once: every
 * lookup joins the user and requires `revoked_at is null`.
 */

const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');
const USER_COLUMNS = [
  'users.id',
  'users.name',
  'users.role',
  'users.body_id',
  'users.chair',
  'users.created_at',
  'users.revoked_at',
  'users.email',
] as const;

/** A fresh token for `userId` in `table`, expiring in `ttlMs`: the token is returned once, its digest stored. */
async function issueToken(
  db: Executor,
  table: 'sign_in_links' | 'web_sessions',
  userId: string,
  ttlMs: number,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(Date.now() + ttlMs);
  await db
    .insertInto(table)
    .values({ token_hash: digest(token), user_id: userId, expires_at: expiresAt })
    .execute();
  return { token, expiresAt };
}

/** The active user with this registered address (case-insensitive), if any. */
export async function activeUserByEmail(db: Executor, email: string): Promise<PublicUser | undefined> {
  return db
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where(sql<string>`lower(users.email)`, '=', email.trim().toLowerCase())
    .where('users.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** A new single-use sign-in link's token for this user, valid for `ttlMs`. */
export const createSignInLink = (db: Executor, userId: string, ttlMs: number) =>
  issueToken(db, 'sign_in_links', userId, ttlMs);

/** How many links this user was sent since `since`: the sign-in form sends no more than a few. */
export async function linksSentSince(db: Executor, userId: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('sign_in_links')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Whether a link can still be used (unused, unexpired, user active) without using it: the page before the button. */
export async function signInLinkUsable(db: Executor, token: string): Promise<boolean> {
  const row = await db
    .selectFrom('sign_in_links')
    .innerJoin('users', 'users.id', 'sign_in_links.user_id')
    .select('sign_in_links.user_id')
    .where('sign_in_links.token_hash', '=', digest(token))
    .where('sign_in_links.used_at', 'is', null)
    .where('sign_in_links.expires_at', '>', sql<Date>`now()`)
    .where('users.revoked_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

/** Uses a link up (once, atomically) and answers whose it was; undefined for an unknown, used or expired link. */
export async function useSignInLink(db: Executor, token: string): Promise<PublicUser | undefined> {
  const used = await db
    .updateTable('sign_in_links')
    .set({ used_at: sql<Date>`now()` })
    .where('token_hash', '=', digest(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning('user_id')
    .executeTakeFirst();
  if (!used) return undefined;
  return db
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where('users.id', '=', used.user_id)
    .where('users.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Opens a session for this user: the cookie's value, shown once. */
export const createWebSession = (db: Executor, userId: string, ttlMs: number) =>
  issueToken(db, 'web_sessions', userId, ttlMs);

/** The signed-in user of a session cookie: unexpired, not signed out, the user not revoked. */
export async function userBySession(db: Executor, token: string | undefined): Promise<PublicUser | undefined> {
  if (!token || token.length > 100) return undefined;
  return db
    .selectFrom('web_sessions')
    .innerJoin('users', 'users.id', 'web_sessions.user_id')
    .select(USER_COLUMNS)
    .where('web_sessions.token_hash', '=', digest(token))
    .where('web_sessions.revoked_at', 'is', null)
    .where('web_sessions.expires_at', '>', sql<Date>`now()`)
    .where('users.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Signs a session out. */
export async function revokeWebSession(db: Executor, token: string): Promise<void> {
  await db
    .updateTable('web_sessions')
    .set({ revoked_at: sql<Date>`now()` })
    .where('token_hash', '=', digest(token))
    .where('revoked_at', 'is', null)
    .execute();
}
