import type { Executor } from '../../db/repositories/applications';
import { UserError } from '../errors';

/**
 * The consultant's id in the registry, registering them with their body on first assignment. One body per
 * consultant: the same address under another body is refused, naming which.
 */
export async function ensureConsultant(
  db: Executor,
  bodyId: string,
  consultant: { name: string; email: string },
): Promise<string> {
  const body = await db
    .selectFrom('implementing_bodies')
    .select(['id', 'active'])
    .where('id', '=', bodyId)
    .executeTakeFirst();
  if (!body?.active) {
    throw new UserError(
      'invalid_input',
      `implementingBody: "${bodyId}" is not a registered, active implementing body`,
      [
        {
          path: 'body.implementingBody',
          message: 'unknown or inactive implementing body (innosocial bodies lists them)',
        },
      ],
    );
  }
  const email = consultant.email.toLowerCase();
  await db
    .insertInto('consultants')
    .values({ body_id: body.id, name: consultant.name, email })
    .onConflict((oc) => oc.column('email').doNothing())
    .execute();
  const row = await db
    .selectFrom('consultants')
    .select(['id', 'body_id'])
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  if (row.body_id !== body.id) {
    throw new UserError('invalid_input', `consultant.email: ${email} consults for ${row.body_id}, not ${body.id}`, [
      { path: 'body.consultant.email', message: `registered with ${row.body_id}` },
    ]);
  }
  return row.id;
}

/** The implementing bodies and their consultants: the registry operators assign from. */
export async function bodies(db: Executor) {
  const [rows, consultants] = await Promise.all([
    db.selectFrom('implementing_bodies').select(['id', 'name', 'active']).orderBy('id').execute(),
    db.selectFrom('consultants').select(['id', 'body_id', 'name', 'email', 'active']).orderBy('name').execute(),
  ]);
  return rows.map((b) => ({
    ...b,
    consultants: consultants.filter((c) => c.body_id === b.id).map(({ body_id: _, ...c }) => c),
  }));
}
