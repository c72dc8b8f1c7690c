import type { Command } from 'commander';
import type { PublicUser } from '../../db/repositories/users';
import { UserError, invalid } from '../errors';
import { callApi, path_ } from './http';
import { addCommand } from './program';
import { table } from './output';

/**
 * The one door that bypasses the API: the first operator of a new installation is created straight in the
 * database (DATABASE_URL), since nobody holds a token yet. Everything else goes through the API.
 */
async function createDirectly(body: {
  name: string;
  role: PublicUser['role'];
  email?: string | undefined;
  body?: string | undefined;
  chair: boolean;
}) {
  const { loadConfig } = await import('../../config/env');
  const config = loadConfig();
  if (!config.DATABASE_URL)
    throw new UserError('invalid_input', '--direct needs DATABASE_URL (the PostgreSQL of the installation)');
  const { connectDb } = await import('../../db/connect');
  const { createUser } = await import('../../db/repositories/users');
  const db = await connectDb({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  try {
    if (
      body.body &&
      !(await db.selectFrom('implementing_bodies').select('id').where('id', '=', body.body).executeTakeFirst())
    ) {
      throw new UserError('invalid_input', `--body: "${body.body}" is not a registered implementing body`);
    }
    return await createUser(db, {
      name: body.name,
      role: body.role,
      bodyId: body.body ?? null,
      chair: body.chair,
      email: body.email ?? null,
    });
  } finally {
    await db.destroy();
  }
}

export function userCommands(program: Command) {
  const users = program.command('users').description('people and their bearer tokens');
  users.addHelpText(
    'after',
    '\nExample:\n  innosocial users add --role commission --name "Chiara Rossi" --email chiara.rossi@example.org --chair',
  );
  addCommand(users, {
    name: 'add',
    description:
      'create a user and print their bearer token once (only its hash is stored); a consultant needs --body, ' +
      '--chair marks the commission’s chair; --direct writes straight to DATABASE_URL (the first operator)',
    example: [
      'innosocial users add --role commission --name "Chiara Rossi" --email chiara.rossi@example.org --chair',
      'DATABASE_URL=postgres://... innosocial users add --direct --role operator --name "Olga Operatrice"',
    ],
    options: [
      ['--role <role>', 'operator, consultant, commission or auditor'],
      ['--name <name>', 'their name'],
      ['--email <address>', 'where their sign-in links go'],
      ['--body <id>', 'a consultant’s implementing body'],
      ['--chair', 'the chair of the commission'],
      ['--direct', 'create it in the database itself (needs DATABASE_URL): the first operator of an installation'],
    ],
    run: async (_a, o, out) => {
      const { NewUserBody } = await import('../api/schemas');
      const parsed = NewUserBody.safeParse({
        name: o.name,
        role: o.role,
        email: o.email,
        body: o.body,
        chair: Boolean(o.chair),
      });
      if (!parsed.success) throw invalid('user', parsed.error);
      const created = o.direct
        ? await createDirectly(parsed.data)
        : await callApi<{ user: PublicUser; token: string }>('POST', '/users', parsed.data);
      out.print(
        created,
        `created ${created.user.id} (${created.user.role}); its token, shown this once:\n${created.token}`,
      );
    },
  });
  addCommand(users, {
    name: 'list',
    description: 'users and their roles (never their tokens)',
    example: 'innosocial users list',
    run: async (_a, _o, out) => {
      const all = await callApi<PublicUser[]>('GET', '/users');
      out.print(all, () =>
        table(
          all.map((u) => [
            u.id,
            u.role + (u.chair ? ' (chair)' : ''),
            u.name,
            u.email ?? '-',
            u.body_id ?? '-',
            u.revoked_at ? 'revoked' : 'active',
          ]),
        ),
      );
    },
  });
  addCommand(users, {
    name: 'revoke',
    args: '<user-id>',
    description: "revoke a user's token and their sessions",
    example: 'innosocial users revoke 0f8fad5b-d9cb-469f-a165-70867728950e',
    run: async ([id], _o, out) => {
      const r = await callApi<{ revoked: string }>('DELETE', path_('users', id!));
      out.print(r, `revoked ${r.revoked}`);
    },
  });
}
