import { createUser, listUsers, revokeUser } from '../../../db/repositories/users';
import { UserError } from '../../errors';
import { bodies } from '../../service/registry';
import { route, type Route } from '../routes';
import {
  BodyListSchema,
  NewUserBody,
  NewUserSchema,
  RevokedSchema,
  UserIdParams,
  UserListSchema,
  UserSchema,
} from '../schemas';

export const peopleRoutes: Route[] = [
  route({
    method: 'GET',
    url: '/me',
    access: ['operator', 'auditor', 'commission', 'consultant'],
    summary: 'Who the credential belongs to',
    response: UserSchema,
    handler: async ({ user }) => user,
  }),
  route({
    method: 'GET',
    url: '/bodies',
    access: ['operator', 'auditor'],
    summary: 'The implementing bodies and their consultants (the registry)',
    response: BodyListSchema,
    handler: async ({ api }) => bodies(api.db),
  }),
  route({
    method: 'GET',
    url: '/users',
    access: ['operator'],
    summary: 'Users and their roles (never their tokens)',
    response: UserListSchema,
    handler: async ({ api }) => listUsers(api.db),
  }),
  route({
    method: 'POST',
    url: '/users',
    access: ['operator'],
    summary: 'Create a user; the answer carries its bearer token, shown this once',
    body: NewUserBody,
    response: NewUserSchema,
    status: 201,
    handler: async ({ api, body, reply }) => {
      if (
        body.body &&
        !(await api.db.selectFrom('implementing_bodies').select('id').where('id', '=', body.body).executeTakeFirst())
      ) {
        throw new UserError('invalid_input', `body: "${body.body}" is not a registered implementing body`, [
          { path: 'body.body', message: 'unknown implementing body' },
        ]);
      }
      reply.status(201);
      return createUser(api.db, {
        name: body.name,
        role: body.role,
        bodyId: body.body ?? null,
        chair: body.chair,
        email: body.email ?? null,
      });
    },
  }),
  route({
    method: 'DELETE',
    url: '/users/:userId',
    access: ['operator'],
    summary: "Revoke a user's token (and their sessions on the pages)",
    params: UserIdParams,
    response: RevokedSchema,
    handler: async ({ api, params }) => {
      if (!(await revokeUser(api.db, params.userId)))
        throw new UserError('not_found', `no active user ${params.userId}`);
      return { revoked: params.userId };
    },
  }),
];
