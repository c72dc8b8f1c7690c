import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db } from '../../db/connect';
import { enqueueNotification, outboxFor, requeueFailedNotification } from '../../db/repositories/notifications';
import { enqueue } from '../../notifications/outbox';
import { TemplateError } from '../../notifications/templates';
import { deliverPending, startDispatcher } from '../../notifications/dispatcher';
import { createMailer, messageIdFor, type Mailer } from '../../notifications/mailer';
import { listSinkMessages, readSinkMessage, startMailSink, type MailSink } from '../../notifications/sink';
import { dayFromToday, preProject, session } from '../support/fixtures';
import { PEOPLE } from '../support/people';
import { backends, openTestDb } from '../support/database';
import { OPERATORS, registerHarness, type Harness } from './harness';

const FROM = 'InnoSocialMetro <noreply@innosocialmetro.invalid>';
const DAY_MS = 86_400_000;

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The day of an instant as the Italian mail writes it (dd/mm/yyyy); the instants here are at 10:00 UTC. */
const italianDay = (instant: string) => instant.slice(0, 10).split('-').reverse().join('/');

describe.each(backends)('outbox delivery against %s', (backend) => {
  let db: Db;
  let h: Harness;
  let dir: string;
  let sink: MailSink;
  let mailer: Mailer;

  beforeAll(async () => {
    db = await openTestDb(backend);
    h = registerHarness(db);
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

  /** A registered, eligible application of a fresh company whose representative has an address of its own. */
  async function registered(locale: 'it' | 'en' = 'it') {
    const email = `rep.${randomUUID().slice(0, 8)}@example.org`;
    const applicationId = await h.registered({
      company: { legalRepresentative: { name: 'Giulia Ferraris', email, locale } },
    });
    return { applicationId, email };
  }

  /** The company's messages of an application: the ones addressed to its representative. */
  const companyRows = async (applicationId: string, email: string) =>
    (await outboxFor(db, applicationId)).filter((r) => r.recipient === email);

  /**
   * Submitted, then through its accompaniment (two confirmed sessions), pre-project and commission to admitted, each
   * deadline started at 10:00 UTC on a known day: the company hears of every state and of each session's code.
   */
  async function admittedApplication() {
    const app = await registered();
    const at = (daysAgo: number) => `${dayFromToday(-daysAgo)}T10:00:00.000Z`;
    const due = (instant: string, days: number) => new Date(Date.parse(instant) + days * DAY_MS).toISOString();
    await h.assign(app.applicationId, { effectiveOn: dayFromToday(-50), occurredAt: at(45) });
    await h.eightHours(app.applicationId);
    await h.step(app.applicationId, { type: 'COMPLETE_ACCOMPANIMENT' });
    await h.step(app.applicationId, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, PEOPLE.consultant);
    await h.step(app.applicationId, { type: 'FORWARD_TO_COMMISSION' }, PEOPLE.operator, { occurredAt: at(20) });
    await h.decide(app.applicationId, 'APPROVE', { occurredAt: at(5) });
    const deadlines = {
      accompaniment: due(at(50), 120),
      commission: due(at(20), 60),
      funding: due(at(5), 180),
    };
    return { ...app, deadlines };
  }

  test("each of the company's rows reaches the representative once, as the message its template says", async () => {
    const { applicationId, email, deadlines } = await admittedApplication();
    const rows = await companyRows(applicationId, email);
    const ids = rows.map((r) => r.id);
    expect(await deliverPending(db, mailer, { ids })).toEqual({ sent: 7, failed: [] });

    const stored = await listSinkMessages(dir);
    expect(stored).toHaveLength(7);
    for (const m of stored) {
      expect(m.to).toBe(`Giulia Ferraris <${email}>`);
      expect(m.from).toBe(FROM);
      expect(m.subject).toContain(applicationId);
    }
    const sessionDay = (days: number) => italianDay(dayFromToday(days));
    expect(stored.map((m) => m.subject.split(': ').pop())).toEqual([
      'domanda ricevuta',
      'percorso di accompagnamento avviato',
      `conferma della sessione del ${sessionDay(-40)}`,
      `conferma della sessione del ${sessionDay(-39)}`,
      'pre-progetto in preparazione',
      "all'esame della Commissione di Valutazione",
      "ammessa all'agevolazione",
    ]);
    expect(stored.map((m) => m.messageId)).toEqual(rows.map((r) => messageIdFor(r.idempotency_key)));
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
    expect(bodies[1]!.text).toContain(
      `Scadenza (completamento del percorso di accompagnamento): ${italianDay(deadlines.accompaniment)}`,
    );
    expect(bodies[5]!.text).toContain(
      `Scadenza (decisione della Commissione di Valutazione): ${italianDay(deadlines.commission)}`,
    );
    expect(bodies[6]!.text).toContain(`Scadenza (erogazione dell'agevolazione): ${italianDay(deadlines.funding)}`);
    expect(bodies[6]!.headers['x-envelope-to']).toBe(email);

    for (const row of await companyRows(applicationId, email)) {
      expect(row.sent_at).toBeInstanceOf(Date);
      expect(row).toMatchObject({
        attempts: 1,
        failed_at: null,
        last_error: null,
        message_id: messageIdFor(row.idempotency_key),
      });
    }

    // A second run finds nothing to send.
    await expect(deliverPending(db, mailer, { ids })).resolves.toEqual({ sent: 0, failed: [] });
    expect(files()).toHaveLength(7);
  });

  test('two dispatchers running at once send every message exactly once', async () => {
    const a = await admittedApplication();
    const b = await admittedApplication();
    const scope = { applicationIds: [a.applicationId, b.applicationId] };
    const total = (await outboxFor(db, a.applicationId)).length + (await outboxFor(db, b.applicationId)).length;
    // Company, consultant, commission and operators: more than one dispatcher's worth of rows to fight over.
    expect(total).toBeGreaterThan(20);
    const [first, second] = await Promise.all([deliverPending(db, mailer, scope), deliverPending(db, mailer, scope)]);
    expect(first.failed).toEqual([]);
    expect(second.failed).toEqual([]);
    expect(first.sent + second.sent).toBe(total);
    const stored = await listSinkMessages(dir);
    expect(stored).toHaveLength(total);
    expect(new Set(stored.map((m) => m.messageId)).size).toBe(total);
  });

  test('a row with an unknown template is marked failed and does not block the others', async () => {
    const { applicationId, email } = await registered();
    await enqueueNotification(db, {
      idempotency_key: `${applicationId}:99:company`,
      application_id: applicationId,
      recipient: email,
      template: 'application.archived',
      locale: 'it',
      payload: JSON.stringify({ applicationId, callId: h.callId }),
    });
    await h.step(applicationId, { type: 'WITHDRAW', reason: 'no longer interested' }, PEOPLE.company);
    // The company hears of the submission and of the withdrawal, each operator of the withdrawal.
    const good = (await outboxFor(db, applicationId)).length - 1;
    expect(good).toBe(2 + OPERATORS.length);

    const report = await deliverPending(db, mailer, { applicationIds: [applicationId] });
    expect(report.sent).toBe(good);
    expect(report.failed).toEqual([
      {
        id: expect.any(String),
        error: expect.stringMatching(/"application\.archived": unknown template/),
        permanent: true,
      },
    ]);
    const company = (await listSinkMessages(dir)).filter((m) => m.to.includes(email));
    expect(company.map((m) => m.subject)).toEqual([
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
    expect(files()).toHaveLength(good);
  });

  test('an unreachable SMTP server keeps the rows pending with one more attempt each', async () => {
    const { applicationId } = await registered();
    await h.assign(applicationId);
    // The submission to the company; the accompaniment to the company and to the consultant.
    const pending = (await outboxFor(db, applicationId)).length;
    expect(pending).toBe(3);
    const down = createMailer({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, from: FROM, timeoutMs: 2_000 });
    try {
      for (const run of [1, 2]) {
        const report = await deliverPending(db, down, { applicationIds: [applicationId] });
        expect(report.sent).toBe(0);
        expect(report.failed).toHaveLength(pending);
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

    // The server is back: every one goes out, once.
    await expect(deliverPending(db, mailer, { applicationIds: [applicationId] })).resolves.toEqual({
      sent: pending,
      failed: [],
    });
    const rows = await outboxFor(db, applicationId);
    expect(rows.map((r) => [r.attempts, r.last_error, r.sent_at instanceof Date])).toEqual(
      rows.map(() => [3, null, true]),
    );
    expect(files()).toHaveLength(pending);
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
      await h.assign(applicationId);
      const deadline = Date.now() + 10_000;
      while ((await outboxFor(db, applicationId)).some((r) => r.sent_at === null) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await dispatcher.stop();
    }
    expect(files()).toHaveLength(3);
    expect(overlapped).toBe(false);
    expect(errors).toEqual([]);
    expect(reports.reduce((a, b) => a + b, 0)).toBe(3);
  });
  const payloadOf = (row: { payload: unknown }) =>
    (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>;

  /** An application in its accompaniment with Marco Bianchi of SocialFare, and one session he logged. */
  async function loggedSession(locale: 'it' | 'en') {
    const app = await registered(locale);
    const { consultantId } = await h.assign(app.applicationId, { body: 'socialfare', consultant: 'Marco Bianchi' });
    const { email: consultant } = await db
      .selectFrom('consultants')
      .select('email')
      .where('id', '=', consultantId)
      .executeTakeFirstOrThrow();
    const s = session(dayFromToday(-40), '09:00', '13:00');
    await h.log(app.applicationId, s.date, s.start, s.end);
    const row = (await outboxFor(db, app.applicationId)).find((r) => r.template === 'session.confirmation')!;
    return { ...app, consultant, session: s, row };
  }

  test.each(['it', 'en'] as const)(
    "the session confirmation follows the company's locale (%s), greets the representative, names the consultant",
    async (locale) => {
      const { email, consultant, session: s, row } = await loggedSession(locale);
      expect(row).toMatchObject({ locale, recipient: email, recipient_name: 'Giulia Ferraris' });
      await expect(deliverPending(db, mailer, { ids: [row.id] })).resolves.toEqual({ sent: 1, failed: [] });
      const [confirmation] = await Promise.all((await listSinkMessages(dir)).map((m) => readSinkMessage(m.path)));
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
    expect(payloadOf(row)).toMatchObject({
      code: expect.stringMatching(/^\d{6}$/),
      link: expect.stringMatching(/^https:\/\/innosocial\.test\/s\/[\w-]+\.[\w-]+$/),
    });

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
        callId: h.callId,
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
