import { createHash, randomInt } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { sql } from 'kysely';
import type { ApplicationForm } from '../domain/application';
import { INPUT_ERROR } from '../domain/errors';
import { verifyHours, type HoursVerdict } from '../domain/hours';
import type { SessionConfirmation, SessionInput } from '../machines/events';
import type { Db } from '../db/connect';
import { enqueue } from '../notifications/outbox';
import { consultantSessionsElsewhere, findSession, insertSession, sessionsOf } from '../db/repositories/sessions';

const ROME = 'Europe/Rome';
const MAX_COUNTED_MINUTES_PER_DAY = 8 * 60;
const CODE_VALID_DAYS = 14;
const MAX_CODE_ATTEMPTS = 5;

/** Calendar date and HH:MM in Italian time: sessions are logged in local time. */
function romeNow(now: Date) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: ROME,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return { today: `${parts.year}-${parts.month}-${parts.day}`, nowTime: `${parts.hour}:${parts.minute}` };
}

// Salted with the session id, so equal codes of two sessions never share a hash.
const codeHash = (sessionId: string, code: string) => createHash('sha256').update(`${sessionId}:${code}`).digest('hex');

export function accompanimentActivities(deps: { db: Db; now?: () => Date }) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    /** Binds the application to a registered body and its consultant; the consultant joins the registry on first use. */
    async assignConsultant(input: {
      applicationId: string;
      implementingBody: string;
      consultant: { name: string; email: string };
    }) {
      return db.transaction().execute(async (trx) => {
        const body = await trx
          .selectFrom('implementing_bodies')
          .selectAll()
          .where('id', '=', input.implementingBody)
          .executeTakeFirst();
        if (!body || !body.active) {
          throw ApplicationFailure.nonRetryable(
            `implementingBody: "${input.implementingBody}" is not a registered, active implementing body`,
            INPUT_ERROR.assignment,
          );
        }
        const email = input.consultant.email.toLowerCase();
        await trx
          .insertInto('consultants')
          .values({ body_id: body.id, name: input.consultant.name, email })
          .onConflict((oc) => oc.column('email').doNothing())
          .execute();
        const consultant = await trx
          .selectFrom('consultants')
          .selectAll()
          .where('email', '=', email)
          .executeTakeFirstOrThrow();
        if (consultant.body_id !== body.id) {
          throw ApplicationFailure.nonRetryable(
            `consultant.email: ${email} consults for ${consultant.body_id}, not ${body.id}`,
            INPUT_ERROR.assignment,
          );
        }
        await trx
          .updateTable('applications')
          .set({ consultant_id: consultant.id, assigned_at: sql<Date>`coalesce(assigned_at, now())` })
          .where('id', '=', input.applicationId)
          .execute();
        return { bodyId: body.id, bodyName: body.name, consultantId: consultant.id };
      });
    },

    /**
     * Stores a session and, the first time only, e-mails the company a single-use code to confirm it:
     * the session, the code's hash and the outbox message are written in one transaction.
     */
    async recordSession(input: {
      applicationId: string;
      session: SessionInput;
      consultant: string;
    }): Promise<{ sessionId: string }> {
      const s = input.session;
      return db.transaction().execute(async (trx) => {
        const { id, created } = await insertSession(trx, {
          application_id: input.applicationId,
          consultant: input.consultant,
          session_date: s.date,
          starts_at: s.start,
          ends_at: s.end,
          topic: s.topic,
          attendees: JSON.stringify(s.attendees),
        });
        if (created) {
          const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
          const expiresAt = new Date(now().getTime() + CODE_VALID_DAYS * 86_400_000);
          await trx
            .updateTable('accompaniment_sessions')
            .set({ confirmation_code_hash: codeHash(id, code), confirmation_expires_at: expiresAt })
            .where('id', '=', id)
            .execute();
          // The consultant by name, from the registry the assignment filled; the address only if it has no entry.
          const app = await trx
            .selectFrom('applications')
            .leftJoin('consultants', (j) => j.on('consultants.email', '=', input.consultant.toLowerCase()))
            .leftJoin('implementing_bodies', 'implementing_bodies.id', 'consultants.body_id')
            .select([
              'applications.representative_email',
              'applications.call_id',
              'applications.legal_name',
              'applications.form',
              'consultants.name as consultant_name',
              'implementing_bodies.name as body_name',
            ])
            .where('applications.id', '=', input.applicationId)
            .executeTakeFirstOrThrow();
          const form = (typeof app.form === 'string' ? JSON.parse(app.form) : app.form) as ApplicationForm;
          const { name, locale } = form.company.legalRepresentative;
          await enqueue(trx, {
            template: 'session.confirmation',
            payload: {
              applicationId: input.applicationId,
              callId: app.call_id,
              recipientName: name,
              companyName: app.legal_name,
              date: s.date,
              start: s.start,
              end: s.end,
              topic: s.topic,
              consultantName: app.consultant_name ?? input.consultant,
              bodyName: app.body_name,
              code,
              expiresAt: expiresAt.toISOString(),
              link: null,
            },
            recipient: { address: app.representative_email, locale, name },
            applicationId: input.applicationId,
            idempotencyKey: `${id}:confirmation`,
          });
        }
        return { sessionId: id };
      });
    },

    /** Checks the company's code; single use, limited attempts, expiring. A confirmed session stays confirmed. */
    async confirmSession(input: { applicationId: string } & SessionConfirmation): Promise<{ sessionId: string }> {
      const session = await findSession(db, input.applicationId, input.date, input.start);
      const where = `session ${input.date} ${input.start}`;
      if (!session)
        throw ApplicationFailure.nonRetryable(
          `${where}: no such session for this application`,
          INPUT_ERROR.confirmation,
        );
      if (session.confirmed_at) return { sessionId: session.id };
      if (session.confirmation_attempts >= MAX_CODE_ATTEMPTS) {
        throw ApplicationFailure.nonRetryable(
          `${where}: too many wrong codes; ask the consultant to log the session again`,
          INPUT_ERROR.confirmation,
        );
      }
      if (!session.confirmation_expires_at || session.confirmation_expires_at.getTime() < now().getTime()) {
        throw ApplicationFailure.nonRetryable(`${where}: the confirmation code has expired`, INPUT_ERROR.confirmation);
      }
      if (session.confirmation_code_hash !== codeHash(session.id, input.code)) {
        await db
          .updateTable('accompaniment_sessions')
          .set({ confirmation_attempts: sql<number>`confirmation_attempts + 1` })
          .where('id', '=', session.id)
          .execute();
        throw ApplicationFailure.nonRetryable(
          `code: does not match the code sent for ${where}`,
          INPUT_ERROR.confirmation,
        );
      }
      // Consumed by the same statement that confirms: the code cannot be used twice.
      await db
        .updateTable('accompaniment_sessions')
        .set({ confirmed_at: sql<Date>`now()`, confirmation_code_hash: null })
        .where('id', '=', session.id)
        .where('confirmed_at', 'is', null)
        .execute();
      return { sessionId: session.id };
    },

    /** Tells the consultant that the company confirmed a session: once per session, whatever the retries. */
    async acknowledgeSession(input: { applicationId: string; sessionId: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('accompaniment_sessions')
          .innerJoin('applications', 'applications.id', 'accompaniment_sessions.application_id')
          .innerJoin('consultants', 'consultants.id', 'applications.consultant_id')
          .select([
            'accompaniment_sessions.session_date',
            'accompaniment_sessions.starts_at',
            'accompaniment_sessions.ends_at',
            'accompaniment_sessions.topic',
            'applications.call_id',
            'applications.legal_name',
            'consultants.email',
            'consultants.name',
          ])
          .where('accompaniment_sessions.id', '=', input.sessionId)
          .executeTakeFirst();
        if (!row) return;
        await enqueue(trx, {
          template: 'session.confirmed',
          payload: {
            applicationId: input.applicationId,
            callId: row.call_id,
            recipientName: row.name,
            companyName: row.legal_name,
            date: row.session_date,
            start: row.starts_at.slice(0, 5),
            end: row.ends_at.slice(0, 5),
            topic: row.topic,
          },
          // Consultants have no language of their own yet: staff messages are Italian.
          recipient: { address: row.email, locale: 'it', name: row.name },
          applicationId: input.applicationId,
          idempotencyKey: `${input.sessionId}:confirmed:${row.email}`,
        });
      });
    },

    /** Recomputes verified hours from what Postgres holds; pure of side effects, so retries are free. */
    async verifyAccompanimentHours(input: { applicationId: string; assignedAt: string | null }): Promise<HoursVerdict> {
      const own = await sessionsOf(db, input.applicationId);
      const elsewhere = await consultantSessionsElsewhere(
        db,
        input.applicationId,
        [...new Set(own.map((s) => s.consultant))],
        [...new Set(own.map((s) => s.date))],
      );
      const clock = romeNow(now());
      const assignedOn = input.assignedAt ? romeNow(new Date(input.assignedAt)).today : null;
      return verifyHours(
        own,
        elsewhere,
        { ...clock, assignedOn },
        { maxCountedMinutesPerDay: MAX_COUNTED_MINUTES_PER_DAY },
      );
    },
  };
}
