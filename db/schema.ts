import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { UserRole } from '../domain/roles';
import type { ApplicationContext } from '../machines/application.machine';
import type { ProjectContext } from '../machines/project.machine';

type CreatedAt = ColumnType<Date, string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

export interface ApplicationsTable {
  id: string;
  call_id: string;
  rules_version: number;
  vat_number: string;
  legal_name: string;
  representative_email: string;
  form: Json<unknown>;
  state: string;
  last_seq: number;
  implementing_body: string | null;
  consultant_id: string | null;
  assigned_at: Date | null;
  facts: Json<unknown>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, string | undefined, string>;
  /** 1: recorded by the first generation's activities (no snapshot); 2: by one-transaction steps. */
  generation: ColumnType<number, number | undefined, number>;
  /** The machine's snapshot after `last_seq` ({ value, context }): what every read of the register starts from. */
  snapshot: ColumnType<StoredSnapshot | null, string | null | undefined, string | null>;
  comune: string | null;
  ateco_code: string | null;
  size_class: 'micro' | 'small' | null;
  themes: ColumnType<string[], string[] | undefined, string[]>;
  eligibility: ColumnType<string, string | undefined, string>;
  requested_cents: ColumnType<string | null, number | null | undefined, number | null>;
  admitted_cents: ColumnType<string | null, number | null | undefined, number | null>;
  funded_cents: ColumnType<string | null, number | null | undefined, number | null>;
  deadline_kind: string | null;
  deadline_at: ColumnType<Date | null, string | null | undefined, string | null>;
  closed_at: ColumnType<Date | null, string | null | undefined, string | null>;
  code_failures: Generated<number>;
}

export interface StoredSnapshot {
  value: string;
  context: ApplicationContext;
}

export interface AuditEventsTable {
  id: Generated<string>;
  application_id: string;
  seq: number;
  event_type: string;
  from_state: string | null;
  to_state: string;
  actor: string;
  role: string;
  payload_digest: string;
  occurred_at: ColumnType<Date, string, never>;
  recorded_at: CreatedAt;
  /** What the event said that people may read in the timeline (no personal data, no document bytes). */
  summary: ColumnType<Record<string, unknown> | null, string | null | undefined, never>;
  /** What the step answered (its follow-ups, promotions): a retried step returns this. */
  outcome: ColumnType<unknown, string | null | undefined, never>;
}

export interface AccompanimentSessionsTable {
  id: Generated<string>;
  application_id: string;
  consultant: string;
  session_date: string;
  starts_at: string;
  ends_at: string;
  topic: string;
  attendees: Json<string[]>;
  confirmation_code_hash: string | null;
  confirmation_expires_at: Date | null;
  confirmation_attempts: Generated<number>;
  confirmed_at: Date | null;
  created_at: CreatedAt;
  consultant_id: string | null;
  disputed_at: Date | null;
  code_issue: Generated<number>;
}

export interface ImplementingBodiesTable {
  id: string;
  name: string;
  active: Generated<boolean>;
  created_at: CreatedAt;
}

export interface ConsultantsTable {
  id: Generated<string>;
  body_id: string;
  name: string;
  email: string;
  created_at: CreatedAt;
  active: Generated<boolean>;
}

export interface PreProjectsTable {
  application_id: string;
  version: number;
  content: Json<unknown>;
  content_digest: string;
  submitted_by: string;
  submitted_at: CreatedAt;
  forwarded_at: Date | null;
}

export interface DocumentsTable {
  id: Generated<string>;
  application_id: string;
  kind: string;
  sha256: string;
  filename: string;
  media_type: string;
  size_bytes: number;
  created_at: CreatedAt;
  uploaded_by: string | null;
  attached_at: Date | null;
  attached_seq: number | null;
}

export interface DocumentBlobsTable {
  sha256: string;
  content: Uint8Array;
  size_bytes: number;
  created_at: CreatedAt;
}

export interface NotificationOutboxTable {
  id: Generated<string>;
  idempotency_key: string;
  /** Null for a message about a person rather than an application (a sign-in link). */
  application_id: string | null;
  recipient: string;
  /** The recipient's name for the To header; null when a role is meant. */
  recipient_name: string | null;
  template: string;
  locale: string;
  payload: Json<unknown>;
  created_at: CreatedAt;
  sent_at: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
  message_id: string | null;
  failed_at: Date | null;
}

/** bigint columns: PostgreSQL and PGlite return INT8 as a string; the budget repository converts to number. */
type Int8 = ColumnType<string, number | string, number | string>;

export type BudgetReservationStatus = 'reserved' | 'waiting' | 'released' | 'consumed';

export interface CallBudgetsTable {
  call_id: string;
  total_cents: Int8;
  committed_cents: ColumnType<string, number | string | undefined, number | string>;
}

export interface BudgetReservationsTable {
  application_id: string;
  call_id: string;
  amount_cents: Int8;
  status: BudgetReservationStatus;
  queue_position: ColumnType<string, never, never>;
  requested_at: CreatedAt;
  reserved_at: ColumnType<Date | null, string | null | undefined, string | null>;
  released_at: ColumnType<Date | null, string | null | undefined, string | null>;
  release_reason: string | null;
  promoted_by: string | null;
}

export interface BudgetLedgerTable {
  id: ColumnType<string, never, never>;
  call_id: string;
  application_id: string;
  kind: 'reserve' | 'release' | 'adjust' | 'repay';
  amount_cents: Int8;
  idempotency_key: string;
  at: ColumnType<Date, string | undefined, never>;
}

export interface UsersTable {
  id: Generated<string>;
  name: string;
  role: UserRole;
  body_id: string | null;
  chair: Generated<boolean>;
  token_hash: string;
  created_at: CreatedAt;
  revoked_at: Date | null;
  email: string | null;
}

export interface ProjectsTable {
  application_id: string;
  call_id: string;
  state: string;
  last_seq: number;
  snapshot: ColumnType<StoredProjectSnapshot, string, string>;
  deadline_kind: string | null;
  deadline_starts_on: string | null;
  deadline_due_on: string | null;
  deadline_at: ColumnType<Date | null, string | null | undefined, string | null>;
  outcome: string | null;
  started_at: CreatedAt;
  updated_at: ColumnType<Date, string | undefined, string>;
  closed_at: ColumnType<Date | null, string | null | undefined, string | null>;
}

export interface StoredProjectSnapshot {
  value: string;
  context: ProjectContext;
}

export interface ProjectEventsTable {
  id: ColumnType<string, never, never>;
  application_id: string;
  seq: number;
  event_type: string;
  from_state: string | null;
  to_state: string;
  actor: string;
  role: string;
  payload_digest: string;
  summary: ColumnType<Record<string, unknown> | null, string | null | undefined, never>;
  outcome: ColumnType<unknown, string | null | undefined, never>;
  occurred_at: ColumnType<Date, string, never>;
  recorded_at: CreatedAt;
}

export interface ProjectReportsTable {
  application_id: string;
  kind: 'interim' | 'final';
  number: number;
  content: Json<unknown>;
  submitted_by: string;
  submitted_at: ColumnType<Date, string, never>;
}

export interface ProjectRecordsTable {
  application_id: string;
  seq: number;
  kind: 'verification' | 'observations';
  content: Json<unknown>;
  recorded_by: string;
  recorded_at: ColumnType<Date, string, never>;
}

export interface RecoveryOrdersTable {
  application_id: string;
  call_id: string;
  kind: 'reduction' | 'revocation' | 'withdrawal';
  amount_cents: Int8;
  repaid_cents: ColumnType<string, number | string | undefined, number | string>;
  reasons: Json<string[]>;
  ordered_at: ColumnType<Date, string, never>;
}

/** A single-use sign-in link (its token's SHA-256): good once, until it expires. */
export interface SignInLinksTable {
  token_hash: string;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

/** A signed-in session of the pages (its cookie's SHA-256). */
export interface WebSessionsTable {
  id: Generated<string>;
  token_hash: string;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface Database {
  users: UsersTable;
  projects: ProjectsTable;
  project_events: ProjectEventsTable;
  project_reports: ProjectReportsTable;
  project_records: ProjectRecordsTable;
  recovery_orders: RecoveryOrdersTable;
  implementing_bodies: ImplementingBodiesTable;
  consultants: ConsultantsTable;
  pre_projects: PreProjectsTable;
  applications: ApplicationsTable;
  audit_events: AuditEventsTable;
  accompaniment_sessions: AccompanimentSessionsTable;
  documents: DocumentsTable;
  document_blobs: DocumentBlobsTable;
  notification_outbox: NotificationOutboxTable;
  call_budgets: CallBudgetsTable;
  budget_reservations: BudgetReservationsTable;
  budget_ledger: BudgetLedgerTable;
  sign_in_links: SignInLinksTable;
  web_sessions: WebSessionsTable;
}

export type Application = Selectable<ApplicationsTable>;
export type NewApplication = Insertable<ApplicationsTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type AccompanimentSession = Selectable<AccompanimentSessionsTable>;
export type NewAccompanimentSession = Insertable<AccompanimentSessionsTable>;
export type DocumentRow = Selectable<DocumentsTable>;
export type NewDocument = Insertable<DocumentsTable>;
export type OutboxMessage = Selectable<NotificationOutboxTable>;
export type NewOutboxMessage = Insertable<NotificationOutboxTable>;
export type CallBudget = Selectable<CallBudgetsTable>;
export type NewCallBudget = Insertable<CallBudgetsTable>;
export type BudgetReservation = Selectable<BudgetReservationsTable>;
export type NewBudgetReservation = Insertable<BudgetReservationsTable>;
export type BudgetMovement = Selectable<BudgetLedgerTable>;
export type NewBudgetMovement = Insertable<BudgetLedgerTable>;
export type ImplementingBody = Selectable<ImplementingBodiesTable>;
export type Consultant = Selectable<ConsultantsTable>;
export type PreProjectRow = Selectable<PreProjectsTable>;
export type User = Selectable<UsersTable>;
