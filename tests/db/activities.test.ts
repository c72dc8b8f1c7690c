import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createActivities, type Activities } from '../../activities';
import { blobPath } from '../../activities/documents';
import { loadComuni } from '../../config/comuni';
import type { Db } from '../../db/connect';
import { auditTrail } from '../../db/repositories/applications';
import { outboxFor } from '../../db/repositories/notifications';
import { applicationForm, dayFromToday, pdfBase64, projectRoot, rules2023 } from '../support/fixtures';
import { backends, openTestDb } from '../support/database';

describe.each(backends)('activities against %s', (backend) => {
  let db: Db;
  let acts: Activities;
  let documentsDir: string;
  const comuni = loadComuni(projectRoot);

  beforeAll(async () => {
    db = await openTestDb(backend);
    documentsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-docs-'));
    acts = createActivities({ db, comuni, documentsDir, documentMaxBytes: 2_000, now: () => new Date(Date.now() + 30 * 86_400_000) });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  async function registered(form = applicationForm()) {
    const applicationId = `test.${randomUUID()}`;
    const input = { applicationId, rules: rules2023, form, actor: 'op', role: 'operator', occurredAt: new Date().toISOString() };
    const first = await acts.registerApplication(input);
    return { applicationId, input, first };
  }

  const transition = (applicationId: string, seq: number, fromState: string, toState: string) => ({
    applicationId,
    seq,
    eventType: 'ASSIGN_BODY',
    fromState,
    toState,
    actor: 'op',
    role: 'operator',
    payload: { implementingBody: 'I3P scpa', consultant: 'Anna' },
    occurredAt: new Date().toISOString(),
    facts: { implementingBody: 'I3P scpa' },
    deadline: null,
  });

  test('migrations are applied once and are re-runnable', async () => {
    const { migrateToLatest } = await import('../../db/migrate');
    await expect(migrateToLatest(db)).resolves.toEqual([]);
  });

  test('registering twice stores one application, one audit row and one notification', async () => {
    const { applicationId, input, first } = await registered();
    expect(first.reasons).toEqual([]);
    await acts.registerApplication(input);
    const rows = await db.selectFrom('applications').selectAll().where('id', '=', applicationId).execute();
    expect(rows).toHaveLength(1);
    expect(await auditTrail(db, applicationId)).toHaveLength(1);
    expect(await outboxFor(db, applicationId)).toHaveLength(1);
  });

  test('the database refuses a second application of one company to one call', async () => {
    const form = applicationForm();
    await registered(form);
    await expect(registered(form)).rejects.toThrow(/applications_one_per_company_and_call/);
  });

  test('a retried transition is recorded once, and a late retry never moves the state back', async () => {
    const { applicationId } = await registered();
    const t1 = transition(applicationId, 1, 'submitted', 'accompaniment');
    await acts.recordTransition(t1);
    await acts.recordTransition(t1);
    await acts.recordTransition({ ...transition(applicationId, 2, 'accompaniment', 'withdrawn'), eventType: 'WITHDRAW' });
    await acts.recordTransition(t1);
    const trail = await auditTrail(db, applicationId);
    expect(trail.map((r) => [r.seq, r.to_state])).toEqual([[0, 'submitted'], [1, 'accompaniment'], [2, 'withdrawn']]);
    expect(trail[1]!.payload_digest).toMatch(/^[0-9a-f]{64}$/);
    const app = await db.selectFrom('applications').selectAll().where('id', '=', applicationId).executeTakeFirstOrThrow();
    expect(app).toMatchObject({ state: 'withdrawn', last_seq: 2, implementing_body: 'I3P scpa' });
    const mail = await outboxFor(db, applicationId);
    expect(mail.map((m) => m.template)).toEqual(['application.submitted', 'application.accompaniment', 'application.withdrawn']);
    expect(new Set(mail.map((m) => m.idempotency_key)).size).toBe(3);
  });

  test('the audit trail is append-only', async () => {
    const { applicationId } = await registered();
    await expect(sql`update audit_events set actor = 'mallory' where application_id = ${applicationId}`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_events where application_id = ${applicationId}`.execute(db)).rejects.toThrow(/append-only/);
    expect((await auditTrail(db, applicationId))[0]!.actor).toBe('op');
  });

  test('sessions are stored once and verified hours come from what is stored', async () => {
    const { applicationId } = await registered();
    const s = { date: dayFromToday(1), start: '09:00', end: '13:00', topic: 'impact', consultant: `c-${randomUUID()}` };
    const a = await acts.recordSession({ applicationId, session: s });
    const again = await acts.recordSession({ applicationId, session: s });
    expect(again.sessionId).toBe(a.sessionId);
    await acts.recordSession({ applicationId, session: { ...s, start: '12:00', end: '14:00' } });
    await acts.recordSession({ applicationId, session: { ...s, date: dayFromToday(2), start: '14:00', end: '17:30' } });
    const verdict = await acts.verifyAccompanimentHours({ applicationId, assignedAt: new Date().toISOString() });
    expect(verdict.verifiedMinutes).toBe(4 * 60 + 3.5 * 60);
    expect(verdict.discarded).toEqual([expect.objectContaining({ reason: expect.stringMatching(/overlaps the company's session/) })]);
  });

  test('a document is stored by content, once, and bad bytes are refused', async () => {
    const { applicationId } = await registered();
    const upload = { kind: 'pre_project' as const, filename: '../../etc/passwd.pdf', contentBase64: pdfBase64() };
    const stored = await acts.storeDocument({ applicationId, upload });
    const again = await acts.storeDocument({ applicationId, upload });
    expect(again).toEqual(stored);
    expect(stored).toMatchObject({ mediaType: 'application/pdf', filename: 'passwd.pdf' });
    const file = blobPath(documentsDir, stored.sha256);
    expect(readFileSync(file).toString('base64')).toBe(upload.contentBase64);
    const rows = await db.selectFrom('documents').selectAll().where('application_id', '=', applicationId).execute();
    expect(rows).toHaveLength(1);
    await expect(acts.storeDocument({ applicationId, upload: { ...upload, contentBase64: Buffer.from('MZ\x90\x00').toString('base64') } })).rejects.toMatchObject({
      type: 'InvalidDocument',
    });
    await expect(acts.storeDocument({ applicationId, upload: { ...upload, contentBase64: Buffer.alloc(3_000, 0x25).toString('base64') } })).rejects.toThrow(/limit is 2000/);
  });
});
