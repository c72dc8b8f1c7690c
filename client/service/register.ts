import { sql } from 'kysely';
import type { Db } from '../../db/connect';
import type { Executor } from '../../db/repositories/applications';
import { deadlineOfRow } from '../../db/repositories/register';
import { applicationMachine, type ApplicationState } from '../../machines/application.machine';
import type { Deadline } from '../../machines/deadlines';
import { allowedCommands, stateOf } from '../../machines/explain';
import type { CommandType } from '../../machines/events';
import { factsOf, type ApplicationFacts } from '../../machines/view';
import { UserError } from '../errors';
import type { ListFilter } from './filters';

/*
 * The register: every read people make of applications comes from PostgreSQL, kept current by each step's
 * transaction. Temporal's visibility serves its own UI; it forgets closed workflows after the namespace's retention,
 * the register does not.
 */

export interface ApplicationSummary {
  applicationId: string;
  callId: string;
  state: ApplicationState;
  companyName: string;
  comune: string | null;
  implementingBody: string | null;
  themes: string[];
  requestedCents: number | null;
  admittedCents: number | null;
  fundedCents: number | null;
  deadline: Deadline | null;
  submittedAt: string;
  closedAt: string | null;
}

export interface TimelineEntry {
  seq: number;
  at: string;
  event: string;
  from: string | null;
  to: string;
  actor: string;
  role: string;
  summary: Record<string, unknown> | null;
}

export interface ApplicationView extends ApplicationSummary {
  rulesVersion: number;
  final: boolean;
  seq: number;
  allowedCommands: CommandType[];
  company: {
    legalName: string;
    vatNumber: string;
    comune: string | null;
    atecoCode: string | null;
    sizeClass: string | null;
  };
  consultant: { id: string; name: string; email: string; bodyId: string; bodyName: string } | null;
  facts: ApplicationFacts | null;
  documents: {
    documentId: string;
    kind: string;
    filename: string;
    mediaType: string;
    sizeBytes: number;
    sha256: string;
    attachedAt: string | null;
  }[];
  timeline: TimelineEntry[];
}

const num = (v: string | number | null) => (v === null ? null : Number(v));

const summaryColumns = [
  'applications.id',
  'applications.call_id',
  'applications.state',
  'applications.legal_name',
  'applications.comune',
  'applications.implementing_body',
  'applications.themes',
  'applications.requested_cents',
  'applications.admitted_cents',
  'applications.funded_cents',
  'applications.deadline_kind',
  'applications.deadline_at',
  'applications.created_at',
  'applications.closed_at',
] as const;

type SummaryRow = {
  id: string;
  call_id: string;
  state: string;
  legal_name: string;
  comune: string | null;
  implementing_body: string | null;
  themes: string[];
  requested_cents: string | null;
  admitted_cents: string | null;
  funded_cents: string | null;
  deadline_kind: string | null;
  deadline_at: Date | null;
  created_at: Date;
  closed_at: Date | null;
};

const toSummary = (r: SummaryRow): ApplicationSummary => ({
  applicationId: r.id,
  callId: r.call_id,
  state: r.state as ApplicationState,
  companyName: r.legal_name,
  comune: r.comune,
  implementingBody: r.implementing_body,
  themes: r.themes,
  requestedCents: num(r.requested_cents),
  admittedCents: num(r.admitted_cents),
  fundedCents: num(r.funded_cents),
  deadline: deadlineOfRow(r),
  submittedAt: r.created_at.toISOString(),
  closedAt: r.closed_at?.toISOString() ?? null,
});

/**
 * The page cursor: where the last row of a page stands in the (submission time, id) order. The time is PostgreSQL's
 * own, to the microsecond: a JS Date keeps milliseconds, and a cursor earlier than its row would list it again.
 */
const cursorAt = sql<string>`to_char(applications.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const encodeCursor = (r: { cursor_at: string; id: string }) =>
  Buffer.from(`${r.cursor_at}|${r.id}`).toString('base64url');
function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || Number.isNaN(Date.parse(at))) {
    throw new UserError('invalid_input', 'after: not a cursor this list gave', [
      { path: 'after', message: 'unknown cursor' },
    ]);
  }
  return { at, id };
}

/** Applications matching the filter, oldest first, a page at a time: each filter an indexed condition. */
export async function listApplications(
  db: Executor,
  filter: ListFilter,
): Promise<{ items: ApplicationSummary[]; next: string | null }> {
  let query = db.selectFrom('applications').select([...summaryColumns, cursorAt.as('cursor_at')]);
  if (filter.state) query = query.where('applications.state', '=', filter.state);
  if (filter.call) query = query.where('applications.call_id', '=', filter.call);
  if (filter.body) query = query.where('applications.implementing_body', '=', filter.body);
  if (filter.theme) query = query.where(sql<boolean>`applications.themes @> array[${filter.theme}]::text[]`);
  if (filter.vat) query = query.where('applications.vat_number', '=', filter.vat);
  if (filter.name)
    query = query.where('applications.legal_name', 'ilike', `%${filter.name.replace(/[\\%_]/g, '\\$&')}%`);
  if (filter.due) query = query.where('applications.deadline_at', '<', new Date(`${filter.due}T00:00:00Z`));
  if (filter.after) {
    const { at, id } = decodeCursor(filter.after);
    query = query.where(sql<boolean>`(applications.created_at, applications.id) > (${at}::timestamptz, ${id})`);
  }
  const rows = (await query
    .orderBy('applications.created_at')
    .orderBy('applications.id')
    .limit(filter.limit + 1)
    .execute()) as (SummaryRow & { cursor_at: string })[];
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return { items: page.map(toSummary), next: rows.length > filter.limit && last ? encodeCursor(last) : null };
}

/** Every page of a filter (the export): the same query, followed to its end. */
export async function allApplications(db: Executor, filter: Omit<ListFilter, 'after' | 'limit'>) {
  const items: ApplicationSummary[] = [];
  let after: string | undefined;
  do {
    const page = await listApplications(db, { ...filter, limit: 1_000, ...(after ? { after } : {}) });
    items.push(...page.items);
    after = page.next ?? undefined;
  } while (after);
  return items;
}

/** One application as the register holds it: its machine state, company, consultant, documents and timeline. */
export async function applicationView(db: Db | Executor, applicationId: string): Promise<ApplicationView> {
  const row = await db
    .selectFrom('applications')
    .leftJoin('consultants', 'consultants.id', 'applications.consultant_id')
    .leftJoin('implementing_bodies', 'implementing_bodies.id', 'consultants.body_id')
    .select([
      ...summaryColumns,
      'applications.rules_version',
      'applications.last_seq',
      'applications.snapshot',
      'applications.vat_number',
      'applications.ateco_code',
      'applications.size_class',
      'consultants.id as consultant_id',
      'consultants.name as consultant_name',
      'consultants.email as consultant_email',
      'consultants.body_id as consultant_body',
      'implementing_bodies.name as body_name',
    ])
    .where('applications.id', '=', applicationId)
    .executeTakeFirst();
  if (!row) throw new UserError('not_found', `no application ${applicationId}`);
  const snapshot = row.snapshot ? applicationMachine.resolveState(row.snapshot) : null;
  const [documents, audit] = await Promise.all([
    db
      .selectFrom('documents')
      .select(['id', 'kind', 'filename', 'media_type', 'size_bytes', 'sha256', 'attached_at'])
      .where('application_id', '=', applicationId)
      .where('attached_at', 'is not', null)
      .orderBy('attached_seq')
      .execute(),
    db
      .selectFrom('audit_events')
      .leftJoin('users', (join) => join.on(sql`users.id::text`, '=', sql.ref('audit_events.actor')))
      .select([
        'audit_events.seq',
        'audit_events.occurred_at',
        'audit_events.event_type',
        'audit_events.from_state',
        'audit_events.to_state',
        'audit_events.actor',
        'audit_events.role',
        'audit_events.summary',
        'users.name as actor_name',
      ])
      .where('audit_events.application_id', '=', applicationId)
      .orderBy('audit_events.seq')
      .execute(),
  ]);
  return {
    ...toSummary(row as SummaryRow),
    rulesVersion: row.rules_version,
    final: snapshot ? snapshot.status !== 'active' : false,
    seq: row.last_seq,
    allowedCommands: snapshot ? allowedCommands(snapshot) : [],
    state: (snapshot ? stateOf(snapshot) : row.state) as ApplicationState,
    company: {
      legalName: row.legal_name,
      vatNumber: row.vat_number,
      comune: row.comune,
      atecoCode: row.ateco_code,
      sizeClass: row.size_class,
    },
    consultant:
      row.consultant_id && row.consultant_name && row.consultant_email && row.consultant_body
        ? {
            id: row.consultant_id,
            name: row.consultant_name,
            email: row.consultant_email,
            bodyId: row.consultant_body,
            bodyName: row.body_name ?? row.consultant_body,
          }
        : null,
    facts: snapshot ? factsOf(snapshot.context) : null,
    documents: documents.map((d) => ({
      documentId: d.id,
      kind: d.kind,
      filename: d.filename,
      mediaType: d.media_type,
      sizeBytes: d.size_bytes,
      sha256: d.sha256,
      attachedAt: d.attached_at?.toISOString() ?? null,
    })),
    timeline: audit.map((a) => ({
      seq: a.seq,
      at: a.occurred_at.toISOString(),
      event: a.event_type,
      from: a.from_state,
      to: a.to_state,
      actor: a.actor_name ?? a.actor,
      role: a.role,
      summary: a.summary,
    })),
  };
}

/** Waits (briefly) until the register holds a step: how `apply` reports the eligibility the workflow recorded. */
export async function untilRecorded(db: Executor, applicationId: string, seq: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 10; Date.now() < deadline; pause = Math.min(pause * 2, 200)) {
    const row = await db
      .selectFrom('applications')
      .select('last_seq')
      .where('id', '=', applicationId)
      .executeTakeFirst();
    if (row && row.last_seq >= seq) return true;
    await new Promise((r) => setTimeout(r, pause));
  }
  return false;
}
