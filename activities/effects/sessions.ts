import { createHash, randomInt } from 'node:crypto';
import { sql } from 'kysely';
import { consultantSessionsElsewhere, sessionsOf } from '../../db/repositories/sessions';
import { INPUT_ERROR } from '../../domain/errors';
import { verifyHours } from '../../domain/hours';
import { romeClock } from '../../domain/rome';
import type { ApplicationEffects } from '../../machines/effects';
import type { ApplicationEvent, SessionAnswer } from '../../machines/events';
import { enqueue } from '../../notifications/outbox';
import { StepInputError, type EffectOutcome, type StepContext } from './context';
import { peopleOf } from './people';

const MAX_COUNTED_MINUTES_PER_DAY = 8 * 60;
const CODE_VALID_DAYS = 14;
/** Wrong codes a session takes before it needs a new one (`resend-code`); and the application, over all sessions. */
export const MAX_CODE_ATTEMPTS = 5;
export const MAX_APPLICATION_CODE_FAILURES = 20;

// Salted with the session id, so equal codes of two sessions never share a hash.
const codeHash = (sessionId: string, code: string) => createHash('sha256').update(`${sessionId}:${code}`).digest('hex');

/**
 * The one answer a company gets whatever was wrong (unknown session, wrong or expired code, locked, forged link):
 * a stranger learns nothing from it. The precise reason stays in the logs and the attempt counters.
 */
export const GENERIC_ANSWER_REFUSAL = 'the code or link is not valid for this session (wrong, expired or already used)';

/** Issues a new code (and link) for a session and mails it to the company: one message per issue. */
async function issueCode(ctx: StepContext, sessionId: string, issue: number) {
  const session = await ctx.trx
    .selectFrom('accompaniment_sessions')
    .selectAll()
    .where('id', '=', sessionId)
    .executeTakeFirstOrThrow();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const expiresAt = new Date(ctx.deps.now().getTime() + CODE_VALID_DAYS * 86_400_000);
  await ctx.trx
    .updateTable('accompaniment_sessions')
    .set({
      confirmation_code_hash: codeHash(sessionId, code),
      confirmation_expires_at: expiresAt,
      confirmation_attempts: 0,
      code_issue: issue,
    })
    .where('id', '=', sessionId)
    .execute();
  const people = await peopleOf(ctx, session.consultant_id);
  const link = `${ctx.deps.publicUrl}/s/${ctx.deps.links.sign({ applicationId: ctx.applicationId, sessionId, issue, expiresAt })}`;
  await enqueue(ctx.trx, {
    template: 'session.confirmation',
    idempotencyKey: `${sessionId}:confirmation:${issue}`,
    applicationId: ctx.applicationId,
    recipient: people.company,
    payload: {
      applicationId: ctx.applicationId,
      callId: ctx.callId,
      recipientName: people.company.name,
      companyName: people.companyName,
      date: session.session_date,
      start: session.starts_at.slice(0, 5),
      end: session.ends_at.slice(0, 5),
      topic: session.topic,
      consultantName: people.consultantName ?? 'the consultant',
      bodyName: people.bodyName,
      code,
      expiresAt: expiresAt.toISOString(),
      link,
    },
  });
}

async function findSession(ctx: StepContext, date: string, start: string) {
  return ctx.trx
    .selectFrom('accompaniment_sessions')
    .selectAll()
    .where('application_id', '=', ctx.applicationId)
    .where('session_date', '=', date)
    .where('starts_at', '=', start)
    .executeTakeFirst();
}

/**
 * Checks the company's answer for a session: its code or its personal link, unanswered, in time, within the
 * attempts. A wrong code is counted (in its own transaction: the step's is undone) against the session and the
 * application, so neither can be guessed at leisure.
 */
async function answeredSession(ctx: StepContext, answer: SessionAnswer) {
  const refuse = (why: string, counts = false) =>
    new StepInputError(
      'InvalidConfirmation',
      [{ path: answer.link ? 'link' : 'code', message: GENERIC_ANSWER_REFUSAL }],
      counts ? (db) => countWrongCode(db, ctx.applicationId, session!.id) : undefined,
      why,
    );
  const session = await findSession(ctx, answer.date, answer.start);
  if (!session) throw refuse('no such session');
  if (session.confirmed_at || session.disputed_at) throw refuse('the session was already answered');
  const failures = await ctx.trx
    .selectFrom('applications')
    .select('code_failures')
    .where('id', '=', ctx.applicationId)
    .executeTakeFirstOrThrow();
  if (session.confirmation_attempts >= MAX_CODE_ATTEMPTS || failures.code_failures >= MAX_APPLICATION_CODE_FAILURES) {
    throw refuse('too many wrong codes: a new code must be issued');
  }
  if (!session.confirmation_expires_at || session.confirmation_expires_at.getTime() < ctx.deps.now().getTime()) {
    throw refuse('the code has expired');
  }
  if (answer.link !== undefined) {
    const claims = ctx.deps.links.verify(answer.link);
    const genuine = claims?.applicationId === ctx.applicationId && claims.sessionId === session.id;
    if (!genuine || claims.issue !== session.code_issue) throw refuse("the link is not this session's current one");
  } else if (session.confirmation_code_hash !== codeHash(session.id, answer.code ?? '')) {
    throw refuse('wrong code', true);
  }
  return session;
}

async function countWrongCode(db: StepContext['deps']['db'], applicationId: string, sessionId: string) {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('accompaniment_sessions')
      .set({ confirmation_attempts: sql<number>`confirmation_attempts + 1` })
      .where('id', '=', sessionId)
      .execute();
    await trx
      .updateTable('applications')
      .set({ code_failures: sql<number>`code_failures + 1` })
      .where('id', '=', applicationId)
      .execute();
  });
}

/** Recomputes the verified hours from what PostgreSQL holds; a follow-up event only when they changed. */
async function reverifyHours(ctx: StepContext): Promise<EffectOutcome> {
  const own = await sessionsOf(ctx.trx, ctx.applicationId);
  const consultants = [...new Set(own.map((s) => s.consultant))];
  const elsewhere = await consultantSessionsElsewhere(ctx.trx, ctx.applicationId, consultants, [
    ...new Set(own.map((s) => s.date)),
  ]);
  const verdict = verifyHours(
    own,
    elsewhere,
    { ...romeClock(ctx.deps.now()), assignedOn: ctx.after.assignedOn },
    { maxCountedMinutesPerDay: MAX_COUNTED_MINUTES_PER_DAY },
  );
  const discarded = verdict.discarded.map((d) => d.reason);
  const c = ctx.after;
  const unchanged =
    verdict.verifiedMinutes === c.verifiedMinutes && discarded.join('\n') === c.discardedSessions.join('\n');
  const followUp: ApplicationEvent = {
    type: 'RECORD_VERIFIED_HOURS',
    verifiedMinutes: verdict.verifiedMinutes,
    discarded,
  };
  return { followUps: unchanged ? [] : [followUp] };
}

export const sessionEffects = {
  /** Stores a logged session and e-mails the company its code and personal link to confirm it. */
  async storeSession(ctx: StepContext, s: ApplicationEffects['storeSession']) {
    const consultant = await ctx.trx
      .selectFrom('consultants')
      .select(['id', 'email'])
      .where('id', '=', ctx.after.consultantId ?? '')
      .executeTakeFirst();
    if (!consultant)
      throw new StepInputError('InvalidSession', [{ path: 'session', message: 'the application has no consultant' }]);
    const inserted = await ctx.trx
      .insertInto('accompaniment_sessions')
      .values({
        application_id: ctx.applicationId,
        consultant: consultant.email,
        consultant_id: consultant.id,
        session_date: s.date,
        starts_at: s.start,
        ends_at: s.end,
        topic: s.topic,
        attendees: JSON.stringify(s.attendees),
      })
      .onConflict((oc) => oc.columns(['application_id', 'session_date', 'starts_at']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      throw new StepInputError(INPUT_ERROR.conflict, [
        { path: 'session.start', message: `a session starting ${s.date} ${s.start} is already logged` },
      ]);
    }
    await issueCode(ctx, inserted.id, 1);
    return reverifyHours(ctx);
  },

  /** The company confirms: the session counts from now on, and its consultant hears it. */
  async confirmSession(ctx: StepContext, answer: ApplicationEffects['confirmSession']) {
    const session = await answeredSession(ctx, answer);
    await ctx.trx
      .updateTable('accompaniment_sessions')
      .set({ confirmed_at: new Date(ctx.occurredAt), confirmation_code_hash: null })
      .where('id', '=', session.id)
      .execute();
    const people = await peopleOf(ctx, session.consultant_id);
    if (people.consultant) {
      await enqueue(ctx.trx, {
        template: 'session.confirmed',
        idempotencyKey: `${session.id}:confirmed`,
        applicationId: ctx.applicationId,
        recipient: { ...people.consultant, locale: 'it' },
        payload: {
          applicationId: ctx.applicationId,
          callId: ctx.callId,
          recipientName: people.consultant.name,
          companyName: people.companyName,
          date: session.session_date,
          start: session.starts_at.slice(0, 5),
          end: session.ends_at.slice(0, 5),
          topic: session.topic,
        },
      });
    }
    return reverifyHours(ctx);
  },

  /** The company says the session did not take place: it never counts, and the consultant and operators hear it. */
  async disputeSession(ctx: StepContext, answer: ApplicationEffects['disputeSession']) {
    const session = await answeredSession(ctx, answer);
    await ctx.trx
      .updateTable('accompaniment_sessions')
      .set({ disputed_at: new Date(ctx.occurredAt), confirmation_code_hash: null })
      .where('id', '=', session.id)
      .execute();
    const people = await peopleOf(ctx, session.consultant_id);
    const readers = [
      ...(people.consultant ? [{ audience: 'consultant' as const, ...people.consultant }] : []),
      ...people.operators.map((address) => ({ audience: 'operator' as const, address, name: null })),
    ];
    for (const reader of readers) {
      await enqueue(ctx.trx, {
        template: 'session.disputed',
        idempotencyKey: `${session.id}:disputed:${reader.address}`,
        applicationId: ctx.applicationId,
        recipient: { address: reader.address, name: reader.name, locale: 'it' },
        payload: {
          applicationId: ctx.applicationId,
          callId: ctx.callId,
          audience: reader.audience,
          recipientName: reader.name,
          companyName: people.companyName,
          date: session.session_date,
          start: session.starts_at.slice(0, 5),
          end: session.ends_at.slice(0, 5),
          topic: session.topic,
          consultantName: people.consultantName ?? 'the consultant',
          bodyName: people.bodyName,
        },
      });
    }
    return reverifyHours(ctx);
  },

  /** A new code for a session not yet answered: the old code and link stop working, the attempts start again. */
  async resendSessionCode(ctx: StepContext, p: ApplicationEffects['resendSessionCode']) {
    const session = await findSession(ctx, p.date, p.start);
    const where = `${p.date} ${p.start}`;
    if (!session)
      throw new StepInputError('InvalidSession', [{ path: 'start', message: `no session starting ${where}` }]);
    if (session.confirmed_at || session.disputed_at) {
      throw new StepInputError(INPUT_ERROR.conflict, [
        { path: 'start', message: `the company already answered for ${where}` },
      ]);
    }
    await ctx.trx.updateTable('applications').set({ code_failures: 0 }).where('id', '=', ctx.applicationId).execute();
    await issueCode(ctx, session.id, session.code_issue + 1);
  },
};
