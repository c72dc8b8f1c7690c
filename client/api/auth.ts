import type { FastifyRequest } from 'fastify';
import type { Db } from '../../db/connect';
import { userByToken, type PublicUser } from '../../db/repositories/users';
import { UserError } from '../errors';
import type { Access } from './routes';

/** The bearer token of a request (Authorization: Bearer ...), if any. */
export const bearerOf = (req: FastifyRequest) => {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
};

/**
 * The person behind a request, checked against the route's access: 401 without a valid credential, 403 when their
 * role is not one the route serves. Public and company routes need no account (a company's code or link is
 * checked by the route itself).
 */
export async function authenticate(
  db: Db,
  req: FastifyRequest,
  access: Access,
  sessionUser: (req: FastifyRequest) => Promise<PublicUser | undefined> = async () => undefined,
): Promise<PublicUser | null> {
  if (access === 'public' || access === 'company') return null;
  const token = bearerOf(req);
  const user = token ? await userByToken(db, token) : await sessionUser(req);
  if (!user) {
    throw new UserError(
      'unauthorized',
      req.headers.authorization
        ? 'the bearer token is not valid (unknown or revoked)'
        : 'send Authorization: Bearer <token>',
    );
  }
  if (!access.includes(user.role))
    throw new UserError('forbidden', `${req.method} ${req.routeOptions.url} is not for the role ${user.role}`);
  return user;
}
