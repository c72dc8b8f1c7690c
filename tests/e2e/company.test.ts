import { randomBytes } from 'node:crypto';
import { REFUSAL_FLOOR_MS } from '../../client/api/routes/accompaniment';
import { dayFromToday, session } from '../support/fixtures';
import { startTestApi, type Caller, type TestApi } from '../support/api';
import { inAccompaniment } from '../support/journeys';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

/*
 * The company's doors (issue 10): it confirms or disputes a session with the 6-digit code from its e-mail, and has
 * no account. Every refusal looks the same to it and to a stranger; codes cannot be guessed at leisure; an operator
 * or the consultant can issue a new one. Then the rate limits in front of every door.
 */

let sys: TestSystem;
let api: TestApi;

beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
  // These tests send many codes on purpose: the rate limits have their own tests below.
  api = await startTestApi(sys, { rateLimit: { perMinute: 10_000, strictPerMinute: 10_000 } });
});
afterAll(async () => {
  await api?.stop();
  await sys?.stop();
});

interface Answer {
  status: number;
  type: string;
  body: unknown;
  ms: number;
  headers: Headers;
}

/** A request as a stranger or the company makes it (no token), with its duration and headers. */
async function raw(base: string, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    type,
    body: type.includes('json') ? JSON.parse(text) : text,
    ms: performance.now() - started,
    headers: res.headers,
  };
}

const answer = (id: string, verb: 'confirm' | 'dispute', date: string, start: string, code: string) =>
  raw(api.base, 'POST', `/applications/${id}/sessions/${verb}`, { date, start, code });
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** A session logged by the consultant (dayFromToday(day), an hour from `start`): its code from the e-mail. */
async function logged(id: string, day: number, start = '09:00', by: Caller = api.users.consultant) {
  const date = dayFromToday(day);
  const end = `${String(Number(start.slice(0, 2)) + 1).padStart(2, '0')}:${start.slice(3)}`;
  const res = await api.call('POST', `/applications/${id}/sessions`, {
    token: by.token,
    body: { session: session(date, start, end) },
  });
  expect(res.status).toBe(200);
  return { date, start, code: await confirmationCode(sys.db, id, date, start) };
}

const resend = (id: string, s: { date: string; start: string }, by: Caller) =>
  api.call('POST', `/applications/${id}/sessions/resend-code`, {
    token: by.token,
    body: { date: s.date, start: s.start },
  });

/** What a refused answer must not change: the register's step, the audit trail, the outbox. */
async function footprint(id: string) {
  const count = async (table: 'audit_events' | 'notification_outbox') =>
    (
      await sys.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('application_id', '=', id)
        .executeTakeFirstOrThrow()
    ).n;
  const row = await sys.db.selectFrom('applications').select('last_seq').where('id', '=', id).executeTakeFirstOrThrow();
  return { seq: row.last_seq, audit: await count('audit_events'), outbox: await count('notification_outbox') };
}

describe('the code routes', () => {
  test('a confirmation answers { confirmed: true } and nothing more; the hours count', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const s = await logged(id, 1);
    const res = await answer(id, 'confirm', s.date, s.start, s.code);
    expect(res).toMatchObject({ status: 200 });
    expect(res.body).toEqual({ confirmed: true });
    const view = await sys.view(id);
    expect(view.facts!.verifiedHours).toBe(1);
    expect(view.timeline.find((t) => t.event === 'CONFIRM_SESSION')).toMatchObject({
      actor: 'company',
      role: 'company',
    });
  });

  test('a dispute answers { disputed: true } and nothing more; the session never counts', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const s = await logged(id, 1);
    const res = await answer(id, 'dispute', s.date, s.start, s.code);
    expect(res).toMatchObject({ status: 200 });
    expect(res.body).toEqual({ disputed: true });
    expect((await sys.view(id)).facts!.verifiedHours).toBe(0);
  });

  test('unknown application, wrong, expired, locked, used or foreign code: one answer, after the floor', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const other = await inAccompaniment(sys, 'i3p');
    const [wrong, expired, locked, used] = [
      await logged(id, 1),
      await logged(id, 2),
      await logged(id, 3),
      await logged(id, 4),
    ];
    const foreign = await logged(other, 1);
    await sys.db
      .updateTable('accompaniment_sessions')
      .set({ confirmation_expires_at: new Date(Date.now() - 60_000) })
      .where('application_id', '=', id)
      .where('session_date', '=', expired.date)
      .execute();
    for (let i = 0; i < 5; i++) await answer(id, 'confirm', locked.date, locked.start, otherThan(locked.code));
    expect((await answer(id, 'confirm', used.date, used.start, used.code)).body).toEqual({ confirmed: true });
    const unknownId = `${sys.callId}.${randomBytes(10).toString('hex')}`;

    const before = await footprint(id);
    const refusals: Record<string, Answer> = {
      'unknown application': await answer(unknownId, 'confirm', wrong.date, wrong.start, wrong.code),
      'wrong code': await answer(id, 'confirm', wrong.date, wrong.start, otherThan(wrong.code)),
      'no such session': await answer(id, 'confirm', dayFromToday(9), '09:00', wrong.code),
      'expired code': await answer(id, 'confirm', expired.date, expired.start, expired.code),
      'locked session': await answer(id, 'confirm', locked.date, locked.start, locked.code),
      'already confirmed, same code': await answer(id, 'confirm', used.date, used.start, used.code),
      'already confirmed, any code': await answer(id, 'confirm', used.date, used.start, '000000'),
      'already confirmed, disputed': await answer(id, 'dispute', used.date, used.start, used.code),
      "another application's code": await answer(id, 'confirm', wrong.date, wrong.start, foreign.code),
      'unknown application, dispute': await answer(unknownId, 'dispute', wrong.date, wrong.start, wrong.code),
    };
    const first = refusals['unknown application']!;
    expect(first.status).toBe(400);
    expect(first.type).toMatch(/^application\/problem\+json/);
    expect(first.body).toMatchObject({ code: 'invalid_input', errors: [{ path: 'body.code' }] });
    // Nothing of the application shows: not its state, not its consultant.
    expect(JSON.stringify(first.body)).not.toMatch(/accompaniment|Anna|i3p/);
    for (const [why, r] of Object.entries(refusals)) {
      expect({ why, status: r.status, body: r.body }).toEqual({ why, status: first.status, body: first.body });
      // Loosely: every refusal waits at least the floor, so its duration does not tell them apart.
      expect({ why, atLeastTheFloor: r.ms >= REFUSAL_FLOOR_MS - 2 }).toEqual({ why, atLeastTheFloor: true });
    }
    const durations = Object.entries(refusals).map(([why, r]) => `${why} ${Math.round(r.ms)} ms`);
    console.log(`refusal durations (floor ${REFUSAL_FLOOR_MS} ms): ${durations.join(', ')}`);
    // The used session's answers wrote nothing: no transition, no audit row, no message.
    const after = await footprint(id);
    expect({ seq: after.seq, audit: after.audit, outbox: after.outbox }).toEqual(before);
    expect((await sys.view(id)).facts!.verifiedHours).toBe(1);
  });

  test('five wrong codes lock a session; a new code from operator or consultant voids the old one', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const s = await logged(id, 1);
    const attempts = async () =>
      (
        await sys.db
          .selectFrom('accompaniment_sessions')
          .select('confirmation_attempts')
          .where('application_id', '=', id)
          .where('session_date', '=', s.date)
          .executeTakeFirstOrThrow()
      ).confirmation_attempts;
    for (let i = 0; i < 5; i++)
      expect((await answer(id, 'confirm', s.date, s.start, otherThan(s.code))).status).toBe(400);
    expect(await attempts()).toBe(5);
    expect((await answer(id, 'confirm', s.date, s.start, s.code)).status).toBe(400);

    // The consultant of another body cannot; the application's own can, and so can an operator.
    expect((await resend(id, s, api.users.otherConsultant)).status).toBe(403);
    expect((await resend(id, s, api.users.consultant)).status).toBe(200);
    expect(await attempts()).toBe(0);
    const second = await confirmationCode(sys.db, id, s.date, s.start);
    expect((await resend(id, s, api.users.operator)).status).toBe(200);
    const third = await confirmationCode(sys.db, id, s.date, s.start);
    for (const old of new Set([s.code, second].filter((c) => c !== third))) {
      expect((await answer(id, 'confirm', s.date, s.start, old)).status).toBe(400);
    }
    expect((await answer(id, 'confirm', s.date, s.start, third)).body).toEqual({ confirmed: true });
    // Once answered, there is nothing to re-issue.
    expect(await resend(id, s, api.users.operator)).toMatchObject({
      status: 409,
      body: { detail: expect.stringMatching(/already answered/) },
    });
  });

  test('twenty wrong codes over the sessions of an application lock them all, until a new code is issued', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const sessions = [];
    for (let day = 1; day <= 5; day++) sessions.push(await logged(id, day));
    for (const s of sessions.slice(0, 4)) {
      for (let i = 0; i < 5; i++) await answer(id, 'confirm', s.date, s.start, otherThan(s.code));
    }
    const failures = async () =>
      (await sys.db.selectFrom('applications').select('code_failures').where('id', '=', id).executeTakeFirstOrThrow())
        .code_failures;
    expect(await failures()).toBe(20);
    const fifth = sessions[4]!;
    // Its own attempts are untouched, but the application has had enough.
    expect((await answer(id, 'confirm', fifth.date, fifth.start, fifth.code)).status).toBe(400);
    expect((await resend(id, fifth, api.users.consultant)).status).toBe(200);
    expect(await failures()).toBe(0);
    const fresh = await confirmationCode(sys.db, id, fifth.date, fifth.start);
    expect((await answer(id, 'confirm', fifth.date, fifth.start, fresh)).body).toEqual({ confirmed: true });
  });

  test('malformed answers are refused like any other, before anything is counted', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const s = await logged(id, 1);
    for (const body of [
      { date: s.date, start: s.start, code: '12345' },
      { date: s.date, start: s.start, code: s.code, extra: true },
      { date: '26/11/2026', start: s.start, code: s.code },
      { date: s.date, start: s.start },
    ]) {
      const res = await raw(api.base, 'POST', `/applications/${id}/sessions/confirm`, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await answer(id, 'confirm', s.date, s.start, s.code)).body).toEqual({ confirmed: true });
  });
});

describe('rate limits', () => {
  let limited: TestApi;
  beforeEach(async () => {
    limited = await startTestApi(sys, { rateLimit: { perMinute: 8, strictPerMinute: 3 } });
  });
  afterEach(async () => {
    await limited?.stop();
  });

  const expectLimited = (res: Answer) => {
    expect(res.status).toBe(429);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 429, code: 'rate_limited', detail: expect.stringMatching(/retry in/) });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  };

  test("the company's routes have the stricter limit; the other routes keep theirs", async () => {
    const unknownId = `${sys.callId}.${randomBytes(10).toString('hex')}`;
    const body = { date: dayFromToday(1), start: '09:00', code: '123456' };
    for (const verb of ['confirm', 'dispute']) {
      const answers: Answer[] = [];
      for (let i = 0; i < 4; i++)
        answers.push(await raw(limited.base, 'POST', `/applications/${unknownId}/sessions/${verb}`, body));
      expect({ verb, statuses: answers.map((a) => a.status) }).toEqual({ verb, statuses: [400, 400, 400, 429] });
      expectLimited(answers[3]!);
    }
    expect((await raw(limited.base, 'GET', '/me', undefined, limited.users.operator.token)).status).toBe(200);
  });

  test('every other route is limited per client address: 429 with Retry-After past the limit', async () => {
    const statuses: number[] = [];
    let last: Answer | undefined;
    for (let i = 0; i < 9; i++) {
      last = await raw(limited.base, 'GET', '/me', undefined, limited.users.operator.token);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    expectLimited(last!);
    // The budget is the address's, whichever route it spends it on.
    expectLimited(await raw(limited.base, 'GET', '/openapi.json'));
  });

  test('/healthz is exempt, before and after the limit is reached', async () => {
    for (let i = 0; i < 12; i++) expect((await raw(limited.base, 'GET', '/healthz')).status).toBe(200);
    for (let i = 0; i < 9; i++) await raw(limited.base, 'GET', '/docs');
    expect((await raw(limited.base, 'GET', '/docs')).status).toBe(429);
    expect((await raw(limited.base, 'GET', '/healthz')).status).toBe(200);
  });
});
