import { sql, type Kysely } from 'kysely';

/** The implementing bodies selected by Finpiemonte in 2023 (DOMAIN.md), as they stood when this ran. */
const BODIES_2023: [string, string][] = [
  ['i3p', 'I3P scpa'],
  ['socialfare', 'SocialFare impresa sociale srl'],
  ['il-nodo', 'Il nodo formazione consulenza e ricerca scs'],
  ['2i3t', '2i3T scarl'],
  ['vision2050', 'Vision2050 srl'],
  ['cdo-piemonte', 'Associazione Compagnia delle Opere del Piemonte'],
  ['ape-consulting', 'APE Consulting'],
  ['uomo-e-ambiente', 'Uomo e Ambiente srl'],
  ['cna', "CNA (Confederazione Nazionale dell'Artigianato e della Piccola e Media Impresa)"],
  ['soges', 'Soges spa'],
  ['next', 'NeXt Nuova Economia per Tutti'],
  ['redrim', 'Redrim sc'],
  ['ashoka-italia', 'Ashoka Italia'],
  ['nemo', 'NEMO Nuova Economia in Montagna Soc. Coop.'],
  ['smart-revolution', 'Smart Revolution srl'],
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('implementing_bodies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('implementing_bodies_slug', sql`id ~ '^[a-z0-9][a-z0-9-]*$'`)
    .execute();
  await db
    .insertInto('implementing_bodies')
    .values(BODIES_2023.map(([id, name]) => ({ id, name })))
    .execute();

  await db.schema
    .createTable('consultants')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('body_id', 'text', (c) => c.notNull().references('implementing_bodies.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A person consults for one body: the same address under two bodies is refused.
    .addUniqueConstraint('consultants_email_once', ['email'])
    .execute();

  await db.schema
    .alterTable('applications')
    .addColumn('consultant_id', 'uuid', (c) => c.references('consultants.id'))
    .addColumn('assigned_at', 'timestamptz')
    .execute();

  await db.schema
    .alterTable('accompaniment_sessions')
    .addColumn('attendees', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('confirmation_code_hash', 'text')
    .addColumn('confirmation_expires_at', 'timestamptz')
    .addColumn('confirmation_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('confirmed_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('pre_projects')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('content', 'jsonb', (c) => c.notNull())
    .addColumn('content_digest', 'text', (c) => c.notNull())
    .addColumn('submitted_by', 'text', (c) => c.notNull())
    .addColumn('submitted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('forwarded_at', 'timestamptz')
    .addPrimaryKeyConstraint('pre_projects_pk', ['application_id', 'version'])
    .execute();
  // Versions are never rewritten; the only change a row may see is being forwarded to the commission, once.
  await sql`
    create function pre_projects_immutable() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        raise exception 'pre_projects are kept: delete refused' using errcode = 'insufficient_privilege';
      end if;
      if new.content is distinct from old.content or new.content_digest is distinct from old.content_digest
         or new.version is distinct from old.version or new.application_id is distinct from old.application_id
         or new.submitted_at is distinct from old.submitted_at or new.submitted_by is distinct from old.submitted_by
         or (old.forwarded_at is not null and new.forwarded_at is distinct from old.forwarded_at) then
        raise exception 'pre-project % v% is immutable once submitted', old.application_id, old.version using errcode = 'insufficient_privilege';
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger pre_projects_immutable before update or delete on pre_projects
    for each row execute function pre_projects_immutable()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('pre_projects').execute();
  await sql`drop function if exists pre_projects_immutable()`.execute(db);
  await db.schema
    .alterTable('accompaniment_sessions')
    .dropColumn('attendees')
    .dropColumn('confirmation_code_hash')
    .dropColumn('confirmation_expires_at')
    .dropColumn('confirmation_attempts')
    .dropColumn('confirmed_at')
    .execute();
  await db.schema.alterTable('applications').dropColumn('consultant_id').dropColumn('assigned_at').execute();
  await db.schema.dropTable('consultants').execute();
  await db.schema.dropTable('implementing_bodies').execute();
}
