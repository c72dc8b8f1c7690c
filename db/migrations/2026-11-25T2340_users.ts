import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('operator', 'consultant', 'commission', 'auditor')`),
    )
    .addColumn('body_id', 'text', (c) => c.references('implementing_bodies.id'))
    .addColumn('chair', 'boolean', (c) => c.notNull().defaultTo(false))
    // Only the SHA-256 of the token: a leaked table gives no way in.
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addCheckConstraint('users_consultant_has_body', sql`(role = 'consultant') = (body_id is not null)`)
    .addCheckConstraint('users_chair_is_commission', sql`not chair or role = 'commission'`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('users').execute();
}
