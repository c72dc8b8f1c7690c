import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

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
  facts: Json<unknown>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, string | undefined, string>;
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
}

export interface AccompanimentSessionsTable {
  id: Generated<string>;
  application_id: string;
  consultant: string;
  session_date: string;
  starts_at: string;
  ends_at: string;
  topic: string;
  created_at: CreatedAt;
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
}

export interface NotificationOutboxTable {
  id: Generated<string>;
  idempotency_key: string;
  application_id: string;
  recipient: string;
  template: string;
  locale: string;
  payload: Json<unknown>;
  created_at: CreatedAt;
  sent_at: Date | null;
}

export interface Database {
  applications: ApplicationsTable;
  audit_events: AuditEventsTable;
  accompaniment_sessions: AccompanimentSessionsTable;
  documents: DocumentsTable;
  notification_outbox: NotificationOutboxTable;
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
