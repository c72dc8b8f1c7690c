import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accompanimentActivities } from '../../activities/accompaniment';
import { applicationActivities, type TransitionRecord } from '../../activities/applications';
import { loadComuni } from '../../config/comuni';
import type { Db } from '../../db/connect';
import { enqueueNotification, outboxFor, requeueFailedNotification } from '../../db/repositories/notifications';
import type { Deadline } from '../../machines/deadlines';
import { enqueue } from '../../notifications/outbox';
import { TemplateError } from '../../notifications/templates';
import { deliverPending, startDispatcher } from '../../notifications/dispatcher';
import { createMailer, messageIdFor, type Mailer } from '../../notifications/mailer';
import { listSinkMessages, readSinkMessage, startMailSink, type MailSink } from '../../notifications/sink';
import { applicationForm, dayFromToday, projectRoot, rules2023, session } from '../support/fixtures';
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
  let sessions: ReturnType<typeof accompanimentActivities>;
  let dir: string;
  let sink: MailSink;
  let mailer: Mailer;
  const comuni = loadComuni(projectRoot);

  beforeAll(async () => {
    db = await openTestDb(backend);
    acts = applicationActivities({ db, territory: () => comuni });
    sessions = accompanimentActivities({ db });
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
  async function registered(locale: 'it' | 'en' = 'it') {
    const applicationId = `test.${randomUUID()}`;
    const email = `rep.${randomUUID().slice(0, 8)}@example.org`;
    const form = applicationForm();
    form.company.legalRepresentative = { ...form.company.legalRepresentative, email, locale };
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
    deadline: Deadline | null,
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
    facts: { implementingBody: 'I3P scpa', requiredHours: 8 },
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
      expect(m.to).toBe(`Giulia Ferraris <${email}>`);
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
    for (const b of bodies) {
      expect(b.headers['content-type']).toMatch(/^multipart\/alternative; boundary=/);
      expect(b.text).toMatch(/^Gentile Giulia Ferraris,\r?\n/);
      expect(b.text).toContain(`Domanda: ${applicationId}`);
      expect(b.html).toMatch(/^<!DOCTYPE html>\r?\n<html lang="it">/);
      expect(b.html).toContain(`<dd style="margin:0 0 8px;">${applicationId}</dd>`);
    }
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
  const payloadOf = (row: { payload: unknown }) =>
    (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>;

  /** An application in its accompaniment with Marco Bianchi of SocialFare, and one session he logged. */
  async function loggedSession(locale: 'it' | 'en') {
    const app = await registered(locale);
    const consultant = `marco.${randomUUID().slice(0, 8)}@socialfare.example.org`;
    await sessions.assignConsultant({
      applicationId: app.applicationId,
      implementingBody: 'socialfare',
      consultant: { name: 'Marco Bianchi', email: consultant },
    });
    const s = session(dayFromToday(1), '09:00', '13:00');
    await sessions.recordSession({ applicationId: app.applicationId, session: s, consultant });
    const row = (await outboxFor(db, app.applicationId)).find((r) => r.template === 'session.confirmation')!;
    return { ...app, consultant, session: s, row };
  }

  test.each(['it', 'en'] as const)(
    "the session confirmation follows the company's locale (%s), greets the representative, names the consultant",
    async (locale) => {
      const { applicationId, email, consultant, session: s, row } = await loggedSession(locale);
      expect(row).toMatchObject({ locale, recipient: email, recipient_name: 'Giulia Ferraris' });
      await expect(deliverPending(db, mailer, { applicationIds: [applicationId] })).resolves.toEqual({
        sent: 2,
        failed: [],
      });
      const [, confirmation] = await Promise.all((await listSinkMessages(dir)).map((m) => readSinkMessage(m.path)));
      const code = String(payloadOf(row).code);
      expect(code).toMatch(/^\d{6}$/);
      if (locale === 'en') {
        expect(confirmation!.subject).toContain('confirm the session of');
        expect(confirmation!.text).toMatch(/^Dear Giulia Ferraris,/);
        expect(confirmation!.text).toContain('Marco Bianchi of SocialFare impresa sociale srl logged');
        expect(confirmation!.text).toContain(`Confirmation code: ${code}`);
      } else {
        expect(confirmation!.subject).toContain('conferma della sessione del');
        expect(confirmation!.text).toMatch(/^Gentile Giulia Ferraris,/);
        expect(confirmation!.text).toContain('Marco Bianchi di SocialFare impresa sociale srl ha registrato');
        expect(confirmation!.text).toContain(`Codice di conferma: ${code}`);
      }
      expect(confirmation!.text).toContain(`${s.start}-${s.end}`);
      expect(confirmation!.text).not.toContain(consultant);
      expect(confirmation!.html).toContain(`<html lang="${locale}">`);
    },
  );

  test('a sent message leaves no secret in the outbox; unsent and failed ones keep what they need', async () => {
    const { applicationId, row } = await loggedSession('it');
    expect(payloadOf(row)).toMatchObject({ code: expect.stringMatching(/^\d{6}$/), link: null });

    const signIn = await enqueue(db, {
      template: 'user.sign-in',
      payload: {
        recipientName: 'Anna Conti',
        link: `https://innosocial.example/sign-in/${randomUUID()}`,
        expiresAt: '2030-01-01T10:00:00.000Z',
      },
      recipient: { address: 'anna.conti@example.org', locale: 'en', name: 'Anna Conti' },
      applicationId: null,
      idempotencyKey: `sign-in:${randomUUID()}`,
    });
    expect(signIn).toBe(true);
    const [signInRow] = await db
      .selectFrom('notification_outbox')
      .selectAll()
      .where('application_id', 'is', null)
      .where('recipient', '=', 'anna.conti@example.org')
      .orderBy('id', 'desc')
      .limit(1)
      .execute();
    expect(payloadOf(signInRow!).link).toMatch(/^https:\/\/innosocial\.example\/sign-in\//);

    const failing = createMailer({ smtpUrl: sink.url, from: FROM, timeoutMs: 5_000 });
    const refused: Mailer = {
      ...failing,
      send: () => Promise.reject(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 })),
    };
    try {
      await expect(deliverPending(db, refused, { ids: [row.id] })).resolves.toMatchObject({ sent: 0 });
    } finally {
      failing.close();
    }
    const failed = (await outboxFor(db, applicationId)).find((r) => r.id === row.id)!;
    expect(failed.failed_at).toBeInstanceOf(Date);
    expect(payloadOf(failed).code).toBe(payloadOf(row).code);

    await requeueFailedNotification(db, row.id);
    await expect(deliverPending(db, mailer, { ids: [row.id, signInRow!.id] })).resolves.toEqual({
      sent: 2,
      failed: [],
    });
    const sent = (await outboxFor(db, applicationId)).find((r) => r.id === row.id)!;
    expect(sent.sent_at).toBeInstanceOf(Date);
    expect(payloadOf(sent)).not.toHaveProperty('code');
    expect(payloadOf(sent)).not.toHaveProperty('link');
    expect(payloadOf(sent)).toMatchObject({ applicationId, consultantName: 'Marco Bianchi', start: '09:00' });
    const signInSent = await db
      .selectFrom('notification_outbox')
      .selectAll()
      .where('id', '=', signInRow!.id)
      .executeTakeFirstOrThrow();
    expect(signInSent.sent_at).toBeInstanceOf(Date);
    expect(payloadOf(signInSent)).toEqual({ recipientName: 'Anna Conti', expiresAt: '2030-01-01T10:00:00.000Z' });

    const mails = await Promise.all((await listSinkMessages(dir)).map((m) => readSinkMessage(m.path)));
    const signInMail = mails.find((m) => m.subject === 'InnoSocialMetro - your sign-in link')!;
    expect(signInMail.to).toBe('Anna Conti <anna.conti@example.org>');
    expect(signInMail.html).toContain(`<a href="${String(payloadOf(signInRow!).link)}"`);
  });

  test('enqueue checks the payload against its template and writes nothing it refuses', async () => {
    const { applicationId, email } = await registered();
    const message = {
      template: 'deadline.reminder' as const,
      payload: {
        applicationId,
        callId: rules2023.callId,
        audience: 'company' as const,
        recipientName: 'Giulia Ferraris',
        deadline: { kind: 'accompaniment' as const, dueAt: '2027-03-24T10:00:00.000Z' },
        daysBefore: 3,
        state: 'accompaniment' as const,
      },
      recipient: { address: email, locale: 'it' as const, name: 'Giulia Ferraris' },
      applicationId,
      idempotencyKey: `${applicationId}:test-reminder`,
    };
    const refused = async (change: Record<string, unknown>, why: RegExp) => {
      const attempt = enqueue(db, { ...message, ...change } as typeof message);
      await expect(attempt).rejects.toThrow(TemplateError);
      await expect(attempt).rejects.toThrow(why);
    };
    await refused({ payload: { ...message.payload, daysBefore: 2.5 } }, /"deadline\.reminder": .*daysBefore: /);
    await refused({ payload: { ...message.payload, consultant: 'marco@example.org' } }, /consultant/);
    await refused({ applicationId: 'test.another' }, /applicationId test\.another differs/);
    await refused({ recipient: { ...message.recipient, name: 'Someone Else' } }, /recipientName/);
    expect((await outboxFor(db, applicationId)).map((r) => r.template)).toEqual(['application.submitted']);

    await expect(enqueue(db, message)).resolves.toBe(true);
    await expect(enqueue(db, message)).resolves.toBe(false);
    expect((await outboxFor(db, applicationId)).map((r) => r.template)).toEqual([
      'application.submitted',
      'deadline.reminder',
    ]);
  });
});
