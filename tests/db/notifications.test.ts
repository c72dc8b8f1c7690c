import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applicationActivities, type TransitionRecord } from '../../activities/applications';
import { loadComuni } from '../../config/comuni';
import type { Db } from '../../db/connect';
import { enqueueNotification, outboxFor } from '../../db/repositories/notifications';
import { deliverPending, startDispatcher } from '../../notifications/dispatcher';
import { createMailer, messageIdFor, type Mailer } from '../../notifications/mailer';
import { listSinkMessages, readSinkMessage, startMailSink, type MailSink } from '../../notifications/sink';
import { applicationForm, projectRoot, rules2023 } from '../support/fixtures';
import { backends, openTestDb } from '../support/database';

const FROM = 'InnoSocialMetro <noreply@innosocialmetro.invalid>';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe.each(backends)('outbox delivery against %s', (backend) => {
  let db: Db;
  let acts: ReturnType<typeof applicationActivities>;
  let dir: string;
  let sink: MailSink;
  let mailer: Mailer;
  const comuni = loadComuni(projectRoot);

  beforeAll(async () => {
    db = await openTestDb(backend);
    acts = applicationActivities({ db, territory: () => comuni });
  });
  afterAll(async () => {
    await db?.destroy();
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'innosocial-mail-'));
    sink = await startMailSink({ dir, port: 0 });
    mailer = createMailer({ smtpUrl: sink.url, from: FROM, timeoutMs: 5_000 });
  });
  afterEach(async () => {
    mailer.close();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const files = () => readdirSync(dir).filter((f) => f.endsWith('.eml'));

  /** A registered application of a fresh company whose representative has an address of its own. */
  async function registered() {
    const applicationId = `test.${randomUUID()}`;
    const email = `rep.${randomUUID().slice(0, 8)}@example.org`;
    const form = applicationForm();
    form.company.legalRepresentative = { ...form.company.legalRepresentative, email };
    await acts.registerApplication({
      applicationId,
      rules: rules2023,
      form,
      actor: 'op',
      role: 'operator',
      occurredAt: new Date().toISOString(),
    });
    return { applicationId, email };
  }

  const step = (
    applicationId: string,
    seq: number,
    fromState: string,
    toState: string,
    deadline: { kind: string; dueAt: string } | null,
  ): TransitionRecord => ({
    applicationId,
    seq,
    eventType: 'TEST_STEP',
    fromState,
    toState,
    actor: 'op',
    role: 'operator',
    payload: { seq },
    occurredAt: new Date().toISOString(),
    facts: { implementingBody: 'I3P scpa' },
    deadline,
  });

  /** Submitted, then through accompaniment, pre-project and commission to admitted: five notifications. */
  async function admittedApplication() {
    const app = await registered();
    await acts.recordTransition(
      step(app.applicationId, 1, 'submitted', 'accompaniment', {
        kind: 'accompaniment',
        dueAt: '2027-03-24T10:00:00.000Z',
      }),
    );
    await acts.recordTransition(
      step(app.applicationId, 2, 'accompaniment', 'pre_project', {
        kind: 'accompaniment',
        dueAt: '2027-03-24T10:00:00.000Z',
      }),
    );
    await acts.recordTransition(
      step(app.applicationId, 3, 'pre_project', 'commission', {
        kind: 'commission_decision',
        dueAt: '2027-05-10T10:00:00.000Z',
      }),
    );
    await acts.recordTransition(
      step(app.applicationId, 4, 'commission', 'admitted', { kind: 'funding', dueAt: '2027-11-06T10:00:00.000Z' }),
    );
    return app;
  }

  test('each outbox row reaches the representative once, as the message its template says', async () => {
    const { applicationId, email } = await admittedApplication();
    const report = await deliverPending(db, mailer, { applicationIds: [applicationId] });
    expect(report).toEqual({ sent: 5, failed: [] });

    const stored = await listSinkMessages(dir);
    expect(stored).toHaveLength(5);
    for (const m of stored) {
      expect(m.to).toBe(email);
      expect(m.from).toBe(FROM);
      expect(m.subject).toContain(applicationId);
    }
    expect(stored.map((m) => m.subject.split(': ').pop())).toEqual([
      'domanda ricevuta',
      'percorso di accompagnamento avviato',
      'pre-progetto in preparazione',
      "all'esame della Commissione di Valutazione",
      "ammessa all'agevolazione",
    ]);
    const outbox = await outboxFor(db, applicationId);
    expect(stored.map((m) => m.messageId)).toEqual(outbox.map((r) => messageIdFor(r.idempotency_key)));
    expect(messageIdFor(`${applicationId}:0:company`)).toBe(`<${applicationId}%3A0%3Acompany@innosocialmetro>`);

    const bodies = await Promise.all(stored.map((m) => readSinkMessage(m.path)));
    for (const b of bodies) expect(b.text).toContain(`Domanda: ${applicationId}`);
    expect(bodies[0]!.text).not.toContain('Scadenza');
    expect(bodies[1]!.text).toContain('Scadenza (completamento del percorso di accompagnamento): 24/03/2027');
    expect(bodies[3]!.text).toContain('Scadenza (decisione della Commissione di Valutazione): 10/05/2027');
    expect(bodies[4]!.text).toContain("Scadenza (erogazione dell'agevolazione): 06/11/2027");
    expect(bodies[4]!.headers['x-envelope-to']).toBe(email);

    for (const row of outbox) {
      expect(row.sent_at).toBeInstanceOf(Date);
      expect(row).toMatchObject({
        attempts: 1,
        failed_at: null,
        last_error: null,
        message_id: messageIdFor(row.idempotency_key),
      });
    }

    // A second run finds nothing to send.
    await expect(deliverPending(db, mailer, { applicationIds: [applicationId] })).resolves.toEqual({
      sent: 0,
      failed: [],
    });
    expect(files()).toHaveLength(5);
  });

  test('two dispatchers running at once send every message exactly once', async () => {
    const a = await admittedApplication();
    const b = await admittedApplication();
    const scope = { applicationIds: [a.applicationId, b.applicationId] };
    const [first, second] = await Promise.all([deliverPending(db, mailer, scope), deliverPending(db, mailer, scope)]);
    expect(first.failed).toEqual([]);
    expect(second.failed).toEqual([]);
    expect(first.sent + second.sent).toBe(10);
    const stored = await listSinkMessages(dir);
    expect(stored).toHaveLength(10);
    expect(new Set(stored.map((m) => m.messageId)).size).toBe(10);
  });

  test('a row with an unknown template is marked failed and does not block the others', async () => {
    const { applicationId, email } = await registered();
    await enqueueNotification(db, {
      idempotency_key: `${applicationId}:99:company`,
      application_id: applicationId,
      recipient: email,
      template: 'application.archived',
      locale: 'it',
      payload: JSON.stringify({ applicationId, callId: rules2023.callId }),
    });
    await acts.recordTransition(step(applicationId, 1, 'submitted', 'withdrawn', null));

    const report = await deliverPending(db, mailer, { applicationIds: [applicationId] });
    expect(report.sent).toBe(2);
    expect(report.failed).toEqual([
      {
        id: expect.any(String),
        error: expect.stringMatching(/"application\.archived": unknown template/),
        permanent: true,
      },
    ]);
    expect((await listSinkMessages(dir)).map((m) => m.subject)).toEqual([
      expect.stringContaining('domanda ricevuta'),
      expect.stringContaining('domanda ritirata'),
    ]);

    const bad = (await outboxFor(db, applicationId)).find((r) => r.template === 'application.archived')!;
    expect(bad).toMatchObject({ id: report.failed[0]!.id, sent_at: null, attempts: 1, message_id: null });
    expect(bad.failed_at).toBeInstanceOf(Date);
    expect(bad.last_error).toMatch(/unknown template/);

    // Failed for good: later runs leave it alone.
    await expect(deliverPending(db, mailer, { applicationIds: [applicationId] })).resolves.toEqual({
      sent: 0,
      failed: [],
    });
    expect(files()).toHaveLength(2);
  });

  test('an unreachable SMTP server keeps the rows pending with one more attempt each', async () => {
    const { applicationId } = await registered();
    await acts.recordTransition(
      step(applicationId, 1, 'submitted', 'accompaniment', {
        kind: 'accompaniment',
        dueAt: '2027-03-24T10:00:00.000Z',
      }),
    );
    const down = createMailer({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, from: FROM, timeoutMs: 2_000 });
    try {
      for (const run of [1, 2]) {
        const report = await deliverPending(db, down, { applicationIds: [applicationId] });
        expect(report.sent).toBe(0);
        expect(report.failed).toHaveLength(2);
        for (const f of report.failed)
          expect(f).toMatchObject({ permanent: false, error: expect.stringMatching(/ECONNREFUSED|connect/i) });
        const rows = await outboxFor(db, applicationId);
        for (const row of rows)
          expect(row).toMatchObject({
            sent_at: null,
            failed_at: null,
            attempts: run,
            last_error: expect.stringMatching(/ECONNREFUSED|connect/i),
          });
      }
    } finally {
      down.close();
    }
    expect(files()).toHaveLength(0);

    // The server is back: both go out, once.
    await expect(deliverPending(db, mailer, { applicationIds: [applicationId] })).resolves.toEqual({
      sent: 2,
      failed: [],
    });
    const rows = await outboxFor(db, applicationId);
    expect(rows.map((r) => [r.attempts, r.last_error, r.sent_at instanceof Date])).toEqual([
      [3, null, true],
      [3, null, true],
    ]);
    expect(files()).toHaveLength(2);
  });

  test('the polling dispatcher delivers new rows and stops cleanly', async () => {
    const { applicationId } = await registered();
    const reports: number[] = [];
    let running = 0;
    let overlapped = false;
    const watched: Mailer = {
      ...mailer,
      async send(mail) {
        running += 1;
        if (running > 1) overlapped = true;
        try {
          return await mailer.send(mail);
        } finally {
          running -= 1;
        }
      },
    };
    const errors: unknown[] = [];
    const dispatcher = startDispatcher(db, watched, {
      intervalMs: 20,
      applicationIds: [applicationId],
      onReport: (r) => reports.push(r.sent),
      onError: (err) => errors.push(err),
    });
    try {
      await acts.recordTransition(
        step(applicationId, 1, 'submitted', 'accompaniment', {
          kind: 'accompaniment',
          dueAt: '2027-03-24T10:00:00.000Z',
        }),
      );
      const deadline = Date.now() + 10_000;
      while ((await outboxFor(db, applicationId)).some((r) => r.sent_at === null) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await dispatcher.stop();
    }
    expect(files()).toHaveLength(2);
    expect(overlapped).toBe(false);
    expect(errors).toEqual([]);
    expect(reports.reduce((a, b) => a + b, 0)).toBe(2);
  });
});
