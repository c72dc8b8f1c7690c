import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createActivities, type Activities } from '../../activities';
import { blobPath, readStoredDocument } from '../../activities/documents';
import { loadComuni } from '../../config/comuni';
import type { Db } from '../../db/connect';
import { auditTrail } from '../../db/repositories/applications';
import { outboxFor } from '../../db/repositories/notifications';
import {
  applicationForm,
  dayFromToday,
  pdfBase64,
  preProject,
  projectRoot,
  rules2023,
  session,
} from '../support/fixtures';
import { confirmationCode } from '../support/system';
import { backends, openTestDb } from '../support/database';

describe.each(backends)('activities against %s', (backend) => {
  let db: Db;
  let acts: Activities;
  let documentsDir: string;
  const comuni = loadComuni(projectRoot);

  beforeAll(async () => {
    db = await openTestDb(backend);
    documentsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-docs-'));
    acts = createActivities({
      db,
      territory: () => comuni,
      documentsDir,
      documentMaxBytes: 2_000,
      now: () => new Date(Date.now() + 30 * 86_400_000),
    });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  async function registered(form = applicationForm()) {
    const applicationId = `test.${randomUUID()}`;
    const input = {
      applicationId,
      rules: rules2023,
      form,
      actor: 'op',
      role: 'operator',
      occurredAt: new Date().toISOString(),
    };
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
    facts: { implementingBody: 'I3P scpa', requiredHours: 8 },
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
    await acts.recordTransition({
      ...transition(applicationId, 2, 'accompaniment', 'withdrawn'),
      eventType: 'WITHDRAW',
    });
    await acts.recordTransition(t1);
    const trail = await auditTrail(db, applicationId);
    expect(trail.map((r) => [r.seq, r.to_state])).toEqual([
      [0, 'submitted'],
      [1, 'accompaniment'],
      [2, 'withdrawn'],
    ]);
    expect(trail[1]!.payload_digest).toMatch(/^[0-9a-f]{64}$/);
    const app = await db
      .selectFrom('applications')
      .selectAll()
      .where('id', '=', applicationId)
      .executeTakeFirstOrThrow();
    expect(app).toMatchObject({ state: 'withdrawn', last_seq: 2, implementing_body: 'I3P scpa' });
    const mail = await outboxFor(db, applicationId);
    expect(mail.map((m) => m.template)).toEqual([
      'application.submitted',
      'application.accompaniment',
      'application.withdrawn',
    ]);
    expect(new Set(mail.map((m) => m.idempotency_key)).size).toBe(3);
  });

  test('the audit trail is append-only', async () => {
    const { applicationId } = await registered();
    await expect(
      sql`update audit_events set actor = 'mallory' where application_id = ${applicationId}`.execute(db),
    ).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_events where application_id = ${applicationId}`.execute(db)).rejects.toThrow(
      /append-only/,
    );
    expect((await auditTrail(db, applicationId))[0]!.actor).toBe('op');
  });

  /** Logs a session and confirms it with the code the company was sent. */
  async function confirmedSession(applicationId: string, s: ReturnType<typeof session>, consultant: string) {
    const stored = await acts.recordSession({ applicationId, session: s, consultant });
    const code = await confirmationCode(db, applicationId, s.date, s.start);
    await acts.confirmSession({ applicationId, date: s.date, start: s.start, code });
    return stored;
  }

  test('sessions are stored once, e-mail one code, and only confirmed ones count', async () => {
    const { applicationId } = await registered();
    const consultant = `c-${randomUUID()}`;
    const s = session(dayFromToday(1), '09:00', '13:00');
    const a = await acts.recordSession({ applicationId, session: s, consultant });
    const again = await acts.recordSession({ applicationId, session: s, consultant });
    expect(again.sessionId).toBe(a.sessionId);
    const codes = (await outboxFor(db, applicationId)).filter((m) => m.template === 'session.confirmation');
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatchObject({ recipient: 'giulia.ferraris@example.org' });
    const assignedAt = new Date().toISOString();
    expect((await acts.verifyAccompanimentHours({ applicationId, assignedAt })).verifiedMinutes).toBe(0);

    await acts.confirmSession({
      applicationId,
      date: s.date,
      start: s.start,
      code: await confirmationCode(db, applicationId, s.date, s.start),
    });
    await confirmedSession(applicationId, session(dayFromToday(1), '12:00', '14:00'), consultant);
    await confirmedSession(applicationId, session(dayFromToday(2), '14:00', '17:30'), consultant);
    const verdict = await acts.verifyAccompanimentHours({ applicationId, assignedAt });
    expect(verdict.verifiedMinutes).toBe(4 * 60 + 3.5 * 60);
    expect(verdict.discarded).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/overlaps the company's session/) }),
    ]);
  });

  test('a confirmation code is single-use, checked, and locked after five wrong tries', async () => {
    const { applicationId } = await registered();
    const s = session(dayFromToday(1), '09:00', '10:00');
    await acts.recordSession({ applicationId, session: s, consultant: 'c' });
    const code = await confirmationCode(db, applicationId, s.date, s.start);
    const wrong = code === '000000' ? '111111' : '000000';
    await expect(acts.confirmSession({ applicationId, date: s.date, start: '11:00', code })).rejects.toMatchObject({
      type: 'InvalidConfirmation',
      message: expect.stringMatching(/no such session/),
    });
    await expect(
      acts.confirmSession({ applicationId, date: s.date, start: s.start, code: wrong }),
    ).rejects.toMatchObject({ type: 'InvalidConfirmation', message: expect.stringMatching(/^code: does not match/) });
    await acts.confirmSession({ applicationId, date: s.date, start: s.start, code });
    // A retry of the same confirmation is harmless; the hash is gone, so the code cannot serve again.
    await acts.confirmSession({ applicationId, date: s.date, start: s.start, code });
    const row = await db
      .selectFrom('accompaniment_sessions')
      .selectAll()
      .where('application_id', '=', applicationId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ confirmation_code_hash: null, confirmation_attempts: 1 });
    expect(row.confirmed_at).toBeInstanceOf(Date);

    const t = session(dayFromToday(2), '09:00', '10:00');
    await acts.recordSession({ applicationId, session: t, consultant: 'c' });
    const right = await confirmationCode(db, applicationId, t.date, t.start);
    const bad = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++)
      await expect(acts.confirmSession({ applicationId, date: t.date, start: t.start, code: bad })).rejects.toThrow(
        /does not match/,
      );
    await expect(acts.confirmSession({ applicationId, date: t.date, start: t.start, code: right })).rejects.toThrow(
      /too many wrong codes/,
    );
  });

  test('assignment needs a registered body, and a consultant belongs to one body', async () => {
    const { applicationId } = await registered();
    expect(await db.selectFrom('implementing_bodies').select('name').execute()).toHaveLength(15);
    const email = `anna.${randomUUID()}@example.org`;
    await expect(
      acts.assignConsultant({ applicationId, implementingBody: 'acme', consultant: { name: 'Anna', email } }),
    ).rejects.toMatchObject({
      type: 'InvalidAssignment',
      message: expect.stringMatching(/^implementingBody: "acme" is not a registered/),
    });
    const first = await acts.assignConsultant({
      applicationId,
      implementingBody: 'socialfare',
      consultant: { name: 'Anna', email },
    });
    expect(first).toMatchObject({ bodyId: 'socialfare', bodyName: 'SocialFare impresa sociale srl' });
    expect(
      await acts.assignConsultant({
        applicationId,
        implementingBody: 'socialfare',
        consultant: { name: 'Anna', email },
      }),
    ).toEqual(first);
    await expect(
      acts.assignConsultant({
        applicationId,
        implementingBody: 'i3p',
        consultant: { name: 'Anna', email: email.toUpperCase() },
      }),
    ).rejects.toThrow(/consults for socialfare, not i3p/);
    const app = await db
      .selectFrom('applications')
      .selectAll()
      .where('id', '=', applicationId)
      .executeTakeFirstOrThrow();
    expect(app.consultant_id).toBe(first.consultantId);
  });

  test('pre-project versions are kept, and a forwarded version can no longer change', async () => {
    const { applicationId } = await registered();
    await acts.storePreProject({ applicationId, version: 1, preProject: preProject(), submittedBy: 'cons' });
    await acts.storePreProject({ applicationId, version: 1, preProject: preProject(), submittedBy: 'cons' });
    await acts.freezePreProject({ applicationId, version: 1 });
    await acts.storePreProject({
      applicationId,
      version: 2,
      preProject: preProject({ title: 'Revised' }),
      submittedBy: 'cons',
    });
    const rows = await db
      .selectFrom('pre_projects')
      .selectAll()
      .where('application_id', '=', applicationId)
      .orderBy('version')
      .execute();
    expect(rows.map((r) => [r.version, (r.content as { title: string }).title, r.forwarded_at !== null])).toEqual([
      [1, 'Laboratorio di riuso tessile', true],
      [2, 'Revised', false],
    ]);
    await expect(
      sql`update pre_projects set content = '{}'::jsonb where application_id = ${applicationId} and version = 1`.execute(
        db,
      ),
    ).rejects.toThrow(/immutable/);
    await expect(
      sql`update pre_projects set forwarded_at = now() where application_id = ${applicationId} and version = 1`.execute(
        db,
      ),
    ).rejects.toThrow(/immutable/);
    await expect(sql`delete from pre_projects where application_id = ${applicationId}`.execute(db)).rejects.toThrow(
      /delete refused/,
    );
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
    await expect(
      acts.storeDocument({
        applicationId,
        upload: { ...upload, contentBase64: Buffer.from('MZ\x90\x00').toString('base64') },
      }),
    ).rejects.toMatchObject({
      type: 'InvalidDocument',
    });
    await expect(
      acts.storeDocument({
        applicationId,
        upload: { ...upload, contentBase64: Buffer.alloc(3_000, 0x25).toString('base64') },
      }),
    ).rejects.toThrow(/limit is 2000/);

    // Integrity on read: the bytes must still hash to the name they are filed under.
    expect((await readStoredDocument(documentsDir, stored.sha256)).toString('base64')).toBe(upload.contentBase64);
    const original = readFileSync(file);
    writeFileSync(file, Buffer.concat([original.subarray(0, 10), Buffer.from('tampered')]));
    await expect(readStoredDocument(documentsDir, stored.sha256)).rejects.toThrow(/corrupted on disk/);
    // Storing the same upload again repairs the damaged copy.
    await acts.storeDocument({ applicationId, upload });
    await expect(readStoredDocument(documentsDir, stored.sha256)).resolves.toEqual(original);
    await expect(readStoredDocument(documentsDir, '../../etc/passwd')).rejects.toThrow(/not a SHA-256 digest/);
  });
});
