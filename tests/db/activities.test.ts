import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { initialTransition } from 'xstate';
import { canonicalJson, digestOf } from '../../activities/digest';
import { machineInputOf } from '../../client/service/applications';
import {
  GENERIC_ANSWER_REFUSAL,
  MAX_APPLICATION_CODE_FAILURES,
  MAX_CODE_ATTEMPTS,
} from '../../activities/effects/sessions';
import type { Db } from '../../db/connect';
import { outboxFor } from '../../db/repositories/notifications';
import { budgetOverview, ledgerBalance } from '../../db/repositories/budget';
import { sessionsOf } from '../../db/repositories/sessions';
import { storeUpload } from '../../documents/store';
import { applicationMachine } from '../../machines/application.machine';
import type { ApplicationEvent } from '../../machines/events';
import { checkedPayload, render } from '../../notifications/templates';
import { backends, openTestDb } from '../support/database';
import { applicationForm, dayFromToday, pdfBytes, preProject, session } from '../support/fixtures';
import { operator, PEOPLE } from '../support/people';
import { COMMISSION, OPERATORS, registerHarness, type Harness } from './harness';

const DAY_MS = 86_400_000;
/** A calendar day `days` after `date` (both YYYY-MM-DD). */
const addDays = (date: string, days: number) => new Date(Date.parse(date) + days * DAY_MS).toISOString().slice(0, 10);
/** A code that is not this one. */
const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');
/** The token of a personal link (`<publicUrl>/s/<token>`). */
const tokenOf = (link: string) => link.slice(link.indexOf('/s/') + 3);
const payloadOf = (row: { payload: unknown }) =>
  (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>;

/** How a step refuses: a non-retryable ApplicationFailure of this type (and, when given, these field problems). */
const refusal = (type: string, problems?: { path: string; message: unknown }[]) =>
  expect.objectContaining({ type, nonRetryable: true, ...(problems ? { details: [problems] } : {}) });
const outOfStep = (message: RegExp) =>
  expect.objectContaining({ type: 'RegisterOutOfStep', nonRetryable: true, message: expect.stringMatching(message) });

describe.each(backends)('one step, one transaction, against %s', (backend) => {
  let db: Db;
  let h: Harness;

  beforeAll(async () => {
    db = await openTestDb(backend);
    h = registerHarness(db);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const auditFrom = (id: string, seq: number) =>
    db
      .selectFrom('audit_events')
      .selectAll()
      .where('application_id', '=', id)
      .where('seq', '>=', seq)
      .orderBy('seq')
      .execute();
  const sessionRow = (id: string, date: string, start: string) =>
    db
      .selectFrom('accompaniment_sessions')
      .selectAll()
      .where('application_id', '=', id)
      .where('session_date', '=', date)
      .where('starts_at', '=', start)
      .executeTakeFirstOrThrow();
  const codeFailures = async (id: string) =>
    (await db.selectFrom('applications').select('code_failures').where('id', '=', id).executeTakeFirstOrThrow())
      .code_failures;
  const snapshotOf = async (id: string) =>
    (await db.selectFrom('applications').select('snapshot').where('id', '=', id).executeTakeFirstOrThrow()).snapshot!;

  test('a submission is the register at seq 0: the row, its SUBMIT audit row and the acknowledgement', async () => {
    const id = await h.submit();
    const print = await h.footprint(id);
    expect(print).toMatchObject({ audit: 1, outbox: 1, sessions: 0, row: { state: 'submitted', last_seq: 0 } });
    expect(print.row.snapshot).toMatchObject({ value: 'submitted', context: { eligibility: 'pending' } });
    const [audit] = await auditFrom(id, 0);
    expect(audit).toMatchObject({
      seq: 0,
      event_type: 'SUBMIT',
      from_state: null,
      to_state: 'submitted',
      actor: operator.actor,
    });
    expect((await outboxFor(db, id)).map((m) => m.template)).toEqual(['application.submitted']);
  });

  describe('transactions and seqs', () => {
    test('a failing effect leaves no session, no message, no audit row, and the register as it was', async () => {
      const id = await h.inAccompaniment();
      const before = await h.footprint(id);
      // The session is inserted and its code stored before the link is signed: the signing fails last.
      const broken = h.activitiesWith({
        links: {
          ...h.links,
          sign: () => {
            throw new Error('the signing key is unavailable');
          },
        },
      });
      const logSession: ApplicationEvent = {
        type: 'LOG_SESSION',
        session: session(dayFromToday(-40), '09:00', '13:00'),
      };
      await expect(h.step(id, logSession, PEOPLE.consultant, { activities: broken })).rejects.toThrow(
        'the signing key is unavailable',
      );
      expect(await h.footprint(id)).toEqual(before);

      // The same step, whole: the session, its code mail, the transition and its follow-up.
      await h.step(id, logSession, PEOPLE.consultant);
      const after = await h.footprint(id);
      expect(after).toMatchObject({ sessions: 1, outbox: before.outbox + 1, audit: before.audit + 2 });
      expect(after.row.last_seq).toBe(before.row.last_seq + 2);
    });

    test('a message that cannot be queued undoes the step: the money stays reserved, no row is written', async () => {
      const { id } = await h.admitted();
      const before = await h.footprint(id);
      expect(before.reservation).toMatchObject({ status: 'reserved' });
      // Withdrawn tells the company, the consultant, then the operators: an operator address the outbox refuses makes
      // the step's very last write fail, after the budget's release and the first messages.
      const broken = h.activitiesWith({ recipients: { operators: [' '], commission: COMMISSION } });
      const withdraw: ApplicationEvent = { type: 'WITHDRAW', reason: 'the company closed the line' };
      await expect(h.step(id, withdraw, PEOPLE.company, { activities: broken })).rejects.toThrow(
        /recipient.address is empty/,
      );
      expect(await h.footprint(id)).toEqual(before);

      await h.step(id, withdraw, PEOPLE.company);
      const after = await h.footprint(id);
      expect(after).toMatchObject({
        row: { state: 'withdrawn', last_seq: before.row.last_seq + 1 },
        audit: before.audit + 1,
        outbox: before.outbox + 2 + OPERATORS.length,
        ledger: before.ledger + 1,
        reservation: { status: 'released' },
      });
    });

    test('a retried step returns the outcome its first commit recorded and writes nothing more', async () => {
      const id = await h.inAccompaniment();
      const seq = (await h.lastSeq(id)) + 1;
      const logSession: ApplicationEvent = {
        type: 'LOG_SESSION',
        session: session(dayFromToday(-40), '09:00', '12:00'),
      };
      const first = await h.step(id, logSession, PEOPLE.consultant, { seq });
      expect(first).toEqual({
        seq: seq + 1,
        state: 'accompaniment',
        deadline: expect.objectContaining({ kind: 'accompaniment' }),
        promoted: [],
        followUps: [
          {
            type: 'RECORD_VERIFIED_HOURS',
            verifiedMinutes: 0,
            discarded: [expect.stringMatching(/09:00-12:00: is not yet confirmed by the company$/)],
          },
        ],
      });
      const committed = await h.footprint(id);

      // The worker died after the commit: the local activity runs again, with the same input, later.
      const later = new Date(Date.now() + 60_000).toISOString();
      await expect(h.step(id, logSession, PEOPLE.consultant, { seq })).resolves.toEqual(first);
      await expect(h.step(id, logSession, PEOPLE.consultant, { seq, occurredAt: later })).resolves.toEqual(first);
      expect(await h.footprint(id)).toEqual(committed);

      // A follow-up's seq holds no answer of its own: no step starts there.
      await expect(h.step(id, logSession, PEOPLE.consultant, { seq: seq + 1 })).rejects.toEqual(
        outOfStep(/was recorded by another kind of step/),
      );
      expect(await h.footprint(id)).toEqual(committed);
    });

    test('two runs of one step at once (a timed-out task run again elsewhere) commit once, answer alike', async () => {
      const id = await h.inAccompaniment();
      const before = await h.footprint(id);
      const seq = before.row.last_seq + 1;
      const logSession: ApplicationEvent = {
        type: 'LOG_SESSION',
        session: session(dayFromToday(-40), '09:00', '12:00'),
      };
      const [a, b] = await Promise.all([
        h.step(id, logSession, PEOPLE.consultant, { seq }),
        h.step(id, logSession, PEOPLE.consultant, { seq }),
      ]);
      expect(a).toEqual(b);
      expect(await h.footprint(id)).toMatchObject({
        sessions: 1,
        audit: before.audit + 2,
        outbox: before.outbox + 1,
        row: { last_seq: seq + 1 },
      });
    });

    test('a seq out of order, an unknown application, an event the register refuses: RegisterOutOfStep', async () => {
      const id = await h.inAccompaniment();
      const before = await h.footprint(id);
      const last = before.row.last_seq;
      await expect(h.step(id, { type: 'WITHDRAW', reason: 'gone' }, operator, { seq: last + 2 })).rejects.toEqual(
        outOfStep(new RegExp(`is at seq ${last}, the workflow at ${last + 1}`)),
      );
      await expect(
        h.step(`${h.callId}.unknown`, { type: 'WITHDRAW', reason: 'gone' }, operator, { seq: 1 }),
      ).rejects.toEqual(outOfStep(/is not in the register/));
      // The workflow would never send this (no hours yet); if it did, the register's own machine says no.
      await expect(h.step(id, { type: 'COMPLETE_ACCOMPANIMENT' })).rejects.toEqual(
        outOfStep(/the register refuses what the workflow accepted: .*verified accompaniment hours are 0 h/),
      );
      expect(await h.footprint(id)).toEqual(before);
    });

    test('follow-ups take the next seqs in the same transaction: verified hours after a confirmation', async () => {
      const id = await h.inAccompaniment();
      const day = dayFromToday(-40);
      await h.log(id, day, '09:00', '13:00');
      const { code } = await h.mail(id, day, '09:00');
      const seq = (await h.lastSeq(id)) + 1;
      const outcome = await h.step(id, { type: 'CONFIRM_SESSION', date: day, start: '09:00', code }, PEOPLE.company);
      expect(outcome).toMatchObject({
        seq: seq + 1,
        followUps: [{ type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: 240, discarded: [] }],
      });
      const rows = await auditFrom(id, seq);
      expect(rows.map((r) => [r.seq, r.event_type, r.actor, r.role, r.summary])).toEqual([
        [seq, 'CONFIRM_SESSION', 'company', 'company', { date: day, start: '09:00', with: 'code' }],
        [seq + 1, 'RECORD_VERIFIED_HOURS', 'system', 'system', { verifiedMinutes: 240 }],
      ]);
      // now() is the transaction's start: one value for both rows means one transaction.
      expect(rows[1]!.recorded_at).toEqual(rows[0]!.recorded_at);
      expect(rows[0]!.outcome).toEqual(outcome);
      expect(rows[1]!.outcome).toBeNull();
      expect((await h.footprint(id)).row.last_seq).toBe(seq + 1);
      expect((await snapshotOf(id)).context.verifiedMinutes).toBe(240);
    });

    test('follow-ups take the next seqs in the same transaction: the budget after an approval', async () => {
      const id = await h.inCommission();
      const seq = (await h.lastSeq(id)) + 1;
      const outcome = await h.decide(id, 'APPROVE');
      expect(outcome).toMatchObject({
        seq: seq + 1,
        state: 'admitted',
        followUps: [{ type: 'RECORD_BUDGET', status: 'reserved', position: null }],
      });
      const rows = await auditFrom(id, seq);
      expect(rows.map((r) => [r.seq, r.event_type, r.from_state, r.to_state, r.actor])).toEqual([
        [seq, 'APPROVE', 'commission', 'admitted', PEOPLE.chair.actor],
        [seq + 1, 'RECORD_BUDGET', 'admitted', 'admitted', 'system'],
      ]);
      expect(rows[1]!.recorded_at).toEqual(rows[0]!.recorded_at);
      const context = (await snapshotOf(id)).context;
      expect(context).toMatchObject({ budget: 'reserved', budgetPosition: null, admittedCents: 4_000_000 });
      expect((await h.footprint(id)).reservation).toEqual({ status: 'reserved', amount_cents: '4000000' });
      // The admission's messages name the funding deadline the reservation started in the same step.
      expect(outcome.deadline).toMatchObject({ kind: 'funding' });
      const told = (await outboxFor(db, id)).filter((m) => m.template === 'application.admitted');
      expect(told.map((m) => [m.recipient, payloadOf(m).deadline])).toEqual(
        told.map((m) => [m.recipient, outcome.deadline]),
      );
      expect(told).toHaveLength(2 + OPERATORS.length);
    });
  });

  test('a first-generation run hands its state to the register, which fills in what the run never knew', async () => {
    const call = h.callId;
    const form = applicationForm({ callId: call, submittedOn: dayFromToday(-60) });
    const id = `${call}.generation-1-${randomUUID().slice(0, 8)}`;
    const consultantId = await h.consultant('i3p');
    const assignedOn = dayFromToday(-50);
    // As the first generation's activities and the register's migration left it: no snapshot, no size class.
    await db
      .insertInto('applications')
      .values({
        id,
        call_id: call,
        rules_version: 1,
        vat_number: form.company.vatNumber,
        legal_name: form.company.legalName,
        representative_email: form.company.legalRepresentative.email,
        form: JSON.stringify(form),
        state: 'accompaniment',
        last_seq: 3,
        facts: '{}',
        implementing_body: 'i3p',
        consultant_id: consultantId,
        assigned_at: new Date(`${assignedOn}T00:00:00Z`),
      })
      .execute();
    const initial = initialTransition(
      applicationMachine,
      machineInputOf(form, h.rulesOf(call), id, form.submittedOn!),
    )[0].context;
    // The run knew the consultant by address, and nothing of the size class or the days.
    const carried = {
      ...initial,
      eligibility: 'eligible' as const,
      implementingBody: 'i3p',
      consultantId: 'anna@i3p.example.org',
      sizeClass: null,
      submittedOn: '',
      assignedOn: null,
    };
    const deadline = { kind: 'accompaniment' as const, dueAt: `${dayFromToday(70)}T09:00:00.000Z` };
    const { context } = await h.acts.adoptSnapshot({
      applicationId: id,
      seq: 3,
      snapshot: { value: 'accompaniment', context: carried },
      deadline,
    });
    const created = await db
      .selectFrom('applications')
      .select('created_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(context).toEqual({
      ...carried,
      consultantId,
      sizeClass: 'micro',
      submittedOn: created.created_at.toISOString().slice(0, 10),
      assignedOn,
    });
    const row = await db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      generation: 2,
      last_seq: 3,
      state: 'accompaniment',
      size_class: 'micro',
      implementing_body: 'i3p',
      deadline_kind: 'accompaniment',
      snapshot: { value: 'accompaniment', context },
    });
    expect(row.deadline_at?.toISOString()).toBe(deadline.dueAt);

    // The next step is the current generation's, on the adopted snapshot: the consultant is found by registry id.
    const logged = await h.log(id, dayFromToday(-40), '09:00', '11:00');
    expect(logged).toMatchObject({ seq: 5, state: 'accompaniment', deadline });
    expect((await sessionRow(id, dayFromToday(-40), '09:00')).consultant_id).toBe(consultantId);
  });

  describe('deadlines', () => {
    test("the accompaniment's runs from the assignment's effectiveOn, at the hour the step recorded it", async () => {
      const id = await h.registered();
      const effectiveOn = dayFromToday(-50);
      const occurredAt = `${dayFromToday(-1)}T15:45:00.000Z`;
      const { outcome } = await h.assign(id, { effectiveOn, occurredAt });
      const due = { kind: 'accompaniment', dueAt: `${addDays(effectiveOn, 120)}T15:45:00.000Z` };
      expect(outcome.deadline).toEqual(due);
      const row = (await h.footprint(id)).row;
      expect([row.deadline_kind, row.deadline_at?.toISOString()]).toEqual([due.kind, due.dueAt]);
      expect(row.assigned_at?.toISOString()).toBe(`${effectiveOn}T00:00:00.000Z`);
      // The next steps of the accompaniment leave it where it is, whatever their own time.
      const later = await h.log(id, dayFromToday(-45), '09:00', '10:00');
      expect(later.deadline).toEqual(due);
      // The company is told the same day.
      const told = (await outboxFor(db, id)).find((m) => m.template === 'application.accompaniment')!;
      expect(payloadOf(told).deadline).toEqual(due);
    });

    test("the commission's, the integration answer's and the funding's run from the step's own time", async () => {
      const id = await h.inPreProject();
      await h.step(id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, PEOPLE.consultant);
      const at = (daysAgo: number) => `${dayFromToday(-daysAgo)}T08:30:00.000Z`;
      const plus = (instant: string, days: number) => new Date(Date.parse(instant) + days * DAY_MS).toISOString();

      const forwarded = await h.step(id, { type: 'FORWARD_TO_COMMISSION' }, operator, { occurredAt: at(20) });
      expect(forwarded.deadline).toEqual({ kind: 'commission_decision', dueAt: plus(at(20), 60) });
      const integration = await h.decide(id, 'REQUEST_INTEGRATION', { occurredAt: at(15) });
      expect(integration.deadline).toEqual({ kind: 'integration_answer', dueAt: plus(at(15), 30) });
      await h.step(id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject({ title: 'Revised' }) }, PEOPLE.consultant);
      const again = await h.step(id, { type: 'FORWARD_TO_COMMISSION' }, operator, { occurredAt: at(10) });
      expect(again.deadline).toEqual({ kind: 'commission_decision', dueAt: plus(at(10), 60) });
      // The approval itself starts no clock; the reservation recorded in the same step starts the funding's.
      const approved = await h.decide(id, 'APPROVE', { occurredAt: at(5) });
      expect(approved.deadline).toEqual({ kind: 'funding', dueAt: plus(at(5), 180) });
      const row = (await h.footprint(id)).row;
      expect([row.deadline_kind, row.deadline_at?.toISOString()]).toEqual(['funding', plus(at(5), 180)]);
    });
  });

  describe("the company's answer to a session", () => {
    const day = dayFromToday(-40);

    /** An application with one logged session at 09:00 on `day`, and the mail that carries its code and link. */
    async function withSession(start = '09:00', end = '11:00') {
      const id = await h.inAccompaniment();
      await h.log(id, day, start, end);
      return { id, ...(await h.mail(id, day, start)) };
    }
    const confirm = (id: string, answer: { code: string } | { link: string }, start = '09:00') =>
      h.step(id, { type: 'CONFIRM_SESSION', date: day, start, ...answer }, PEOPLE.company);
    const generic = (path: 'code' | 'link' = 'code') =>
      refusal('InvalidConfirmation', [{ path, message: GENERIC_ANSWER_REFUSAL }]);

    /** A new code for the session; drawn again in the one-in-a-million case that it equals the old one. */
    async function resend(id: string, start: string, old: string) {
      for (;;) {
        await h.step(id, { type: 'RESEND_SESSION_CODE', date: day, start }, operator);
        const fresh = await h.mail(id, day, start);
        if (fresh.code !== old) return fresh;
      }
    }

    test('a wrong code is counted against the session and the application, though the step rolls back', async () => {
      const { id, code } = await withSession();
      const before = await h.footprint(id);
      await expect(confirm(id, { code: wrongFor(code) })).rejects.toEqual(generic());
      expect(await h.footprint(id)).toEqual({ ...before, row: { ...before.row, code_failures: 1 } });
      expect(await sessionRow(id, day, '09:00')).toMatchObject({ confirmation_attempts: 1, confirmed_at: null });

      // A session that does not exist gets the same answer, and there is nothing to count it against.
      await expect(confirm(id, { code }, '10:00')).rejects.toEqual(generic());
      expect(await codeFailures(id)).toBe(1);
    });

    test(`${MAX_CODE_ATTEMPTS} wrong codes lock the session, right code too, until a new code is issued`, async () => {
      const { id, code, link } = await withSession();
      for (let i = 0; i < MAX_CODE_ATTEMPTS; i++)
        await expect(confirm(id, { code: wrongFor(code) })).rejects.toEqual(generic());
      await expect(confirm(id, { code })).rejects.toEqual(generic());
      await expect(confirm(id, { link: tokenOf(link) })).rejects.toEqual(generic('link'));
      expect(await sessionRow(id, day, '09:00')).toMatchObject({
        confirmation_attempts: MAX_CODE_ATTEMPTS,
        code_issue: 1,
      });

      const issued = await resend(id, '09:00', code);
      expect(await sessionRow(id, day, '09:00')).toMatchObject({ confirmation_attempts: 0, confirmed_at: null });
      expect(await codeFailures(id)).toBe(0);
      // The old code and the old link no longer work; the new code does.
      await expect(confirm(id, { code })).rejects.toEqual(generic());
      await expect(confirm(id, { link: tokenOf(link) })).rejects.toEqual(generic('link'));
      await confirm(id, { code: issued.code });
      expect((await sessionRow(id, day, '09:00')).confirmed_at).toBeInstanceOf(Date);
    });

    test(`an expired code is refused, and not counted`, async () => {
      const { id, code } = await withSession();
      const fortnightLater = h.activitiesAt(15);
      await expect(
        h.step(id, { type: 'CONFIRM_SESSION', date: day, start: '09:00', code }, PEOPLE.company, {
          activities: fortnightLater,
        }),
      ).rejects.toEqual(generic());
      expect(await sessionRow(id, day, '09:00')).toMatchObject({ confirmation_attempts: 0, confirmed_at: null });
    });

    test(`the application takes ${MAX_APPLICATION_CODE_FAILURES} wrong codes over all its sessions`, async () => {
      const id = await h.inAccompaniment();
      const starts = ['08:00', '09:00', '10:00', '11:00', '12:00'];
      for (const start of starts) await h.log(id, day, start, `${start.slice(0, 2)}:30`);
      const sessions = starts.length - 1;
      expect(sessions * MAX_CODE_ATTEMPTS).toBe(MAX_APPLICATION_CODE_FAILURES);
      for (const start of starts.slice(0, sessions)) {
        const { code } = await h.mail(id, day, start);
        for (let i = 0; i < MAX_CODE_ATTEMPTS; i++)
          await expect(confirm(id, { code: wrongFor(code) }, start)).rejects.toEqual(generic());
      }
      expect(await codeFailures(id)).toBe(MAX_APPLICATION_CODE_FAILURES);
      // The last session has no wrong code of its own, and is refused all the same.
      const last = await h.mail(id, day, '12:00');
      await expect(confirm(id, { code: last.code }, '12:00')).rejects.toEqual(generic());
      expect(await sessionRow(id, day, '12:00')).toMatchObject({ confirmation_attempts: 0, confirmed_at: null });

      const issued = await resend(id, '12:00', last.code);
      await confirm(id, { code: issued.code }, '12:00');
      expect((await sessionRow(id, day, '12:00')).confirmed_at).toBeInstanceOf(Date);
    });

    test('an answered session is refused without a transition or an audit row', async () => {
      const { id, code, link } = await withSession();
      await confirm(id, { code });
      const answered = await h.footprint(id);
      await expect(confirm(id, { code })).rejects.toEqual(generic());
      await expect(confirm(id, { link: tokenOf(link) })).rejects.toEqual(generic('link'));
      await expect(
        h.step(id, { type: 'DISPUTE_SESSION', date: day, start: '09:00', code }, PEOPLE.company),
      ).rejects.toEqual(generic());
      await expect(h.step(id, { type: 'RESEND_SESSION_CODE', date: day, start: '09:00' })).rejects.toEqual(
        refusal('ConflictingCommand', [{ path: 'start', message: `the company already answered for ${day} 09:00` }]),
      );
      expect(await h.footprint(id)).toEqual(answered);
    });

    test('the personal link confirms once, and only its own session in its current issue', async () => {
      const { id, code } = await withSession();
      await h.log(id, day, '14:00', '16:00');
      const other = await h.mail(id, day, '14:00');
      const own = (await h.mail(id, day, '09:00')).link;
      const sessionId = (await sessionRow(id, day, '09:00')).id;
      const expiresAt = new Date(Date.now() + DAY_MS);
      const [payload, signature = ''] = tokenOf(own).split('.');
      // A character in the middle: every one of its bits is signature (the last one carries padding bits).
      const tampered = `${signature.slice(0, 5)}${signature[5] === 'A' ? 'B' : 'A'}${signature.slice(6)}`;
      const forgeries = {
        "another session's link": tokenOf(other.link),
        'a tampered signature': `${payload}.${tampered}`,
        "another application's claims": h.links.sign({ applicationId: `${id}x`, sessionId, issue: 1, expiresAt }),
        'a later issue': h.links.sign({ applicationId: id, sessionId, issue: 2, expiresAt }),
      };
      const answers: Record<string, unknown> = {};
      for (const [what, token] of Object.entries(forgeries)) {
        answers[what] = await confirm(id, { link: token }).then(
          () => 'confirmed',
          (err: unknown) => err,
        );
      }
      expect(answers).toEqual(Object.fromEntries(Object.keys(forgeries).map((what) => [what, generic('link')])));
      // Links are not guessed codes: none of these counted.
      expect(await codeFailures(id)).toBe(0);

      const issued = await resend(id, '09:00', code);
      await expect(confirm(id, { link: tokenOf(own) })).rejects.toEqual(generic('link'));
      const outcome = await confirm(id, { link: tokenOf(issued.link) });
      expect(outcome.followUps).toEqual([
        expect.objectContaining({ type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: 120 }),
      ]);
      const [audit] = await auditFrom(id, outcome.seq - 1);
      expect(audit).toMatchObject({
        event_type: 'CONFIRM_SESSION',
        summary: { date: day, start: '09:00', with: 'link' },
      });
      await expect(confirm(id, { link: tokenOf(issued.link) })).rejects.toEqual(generic('link'));
      expect((await sessionRow(id, day, '14:00')).confirmed_at).toBeNull();
    });

    test('a disputed session is recorded, never counts, and its consultant and the operators hear of it', async () => {
      const id = await h.inAccompaniment();
      const consultant = (await h.footprint(id)).row.consultant_id!;
      await h.log(id, day, '09:00', '13:00');
      const { code } = await h.mail(id, day, '09:00');
      const occurredAt = new Date().toISOString();
      const disputed = await h.step(id, { type: 'DISPUTE_SESSION', date: day, start: '09:00', code }, PEOPLE.company, {
        occurredAt,
      });
      expect(disputed.followUps).toEqual([
        {
          type: 'RECORD_VERIFIED_HOURS',
          verifiedMinutes: 0,
          discarded: [`${day} 09:00-13:00: was disputed by the company`],
        },
      ]);
      const row = await sessionRow(id, day, '09:00');
      expect(row.disputed_at?.toISOString()).toBe(occurredAt);
      expect(row).toMatchObject({ confirmed_at: null, confirmation_code_hash: null });

      const email = (
        await db.selectFrom('consultants').select('email').where('id', '=', consultant).executeTakeFirstOrThrow()
      ).email;
      const told = (await outboxFor(db, id)).filter((m) => m.template === 'session.disputed');
      expect(told.map((m) => [m.recipient, m.locale, payloadOf(m).audience])).toEqual([
        [email, 'it', 'consultant'],
        ...OPERATORS.map((address) => [address, 'it', 'operator']),
      ]);

      // Neither the code nor a later confirmation makes it count; a confirmed session beside it does.
      await expect(confirm(id, { code })).rejects.toEqual(generic());
      await h.confirmed(id, dayFromToday(-39), '09:00', '11:00');
      expect((await snapshotOf(id)).context.verifiedMinutes).toBe(120);
      expect((await sessionsOf(db, id)).map((s) => [s.date, s.confirmed])).toEqual([
        [day, false],
        [dayFromToday(-39), true],
      ]);
    });
  });

  describe('effects', () => {
    test('an assignment needs an active body, one of its active consultants, and a day already past', async () => {
      const id = await h.registered();
      const closed = `test-closed-${randomUUID().slice(0, 8)}`;
      await db
        .insertInto('implementing_bodies')
        .values({ id: closed, name: `Closed body ${closed}`, active: false })
        .execute();
      const ofClosed = await db
        .insertInto('consultants')
        .values({ body_id: closed, name: 'Carla Chiusi', email: `carla.${randomUUID().slice(0, 8)}@example.org` })
        .returning('id')
        .executeTakeFirstOrThrow();
      const ofSocialfare = await h.consultant('socialfare');
      const retired = await h.consultant('i3p');
      await db.updateTable('consultants').set({ active: false }).where('id', '=', retired).execute();
      const ofI3p = await h.consultant('i3p');
      const assign = (implementingBody: string, consultantId: string, effectiveOn = dayFromToday(-50)) =>
        h.step(id, { type: 'ASSIGN_BODY', implementingBody, consultantId, effectiveOn });
      const before = await h.footprint(id);

      await expect(assign(closed, ofClosed.id)).rejects.toEqual(
        refusal('InvalidAssignment', [
          { path: 'implementingBody', message: `"${closed}" is not a registered, active implementing body` },
        ]),
      );
      await expect(assign('acme', ofI3p)).rejects.toEqual(refusal('InvalidAssignment'));
      await expect(assign('i3p', ofSocialfare)).rejects.toEqual(
        refusal('InvalidAssignment', [
          { path: 'consultantId', message: 'the consultant works for socialfare, not i3p' },
        ]),
      );
      await expect(assign('i3p', retired)).rejects.toEqual(
        refusal('InvalidAssignment', [{ path: 'consultantId', message: 'no such consultant in the registry' }]),
      );
      const tomorrow = dayFromToday(2);
      await expect(assign('i3p', ofI3p, tomorrow)).rejects.toEqual(
        refusal('InvalidAssignment', [
          { path: 'effectiveOn', message: `${tomorrow} is in the future: an assignment is recorded once decided` },
        ]),
      );
      expect(await h.footprint(id)).toEqual(before);

      await assign('i3p', ofI3p);
      const after = await h.footprint(id);
      expect(after.row).toMatchObject({ state: 'accompaniment', consultant_id: ofI3p });
      const [audit] = await auditFrom(id, after.row.last_seq);
      expect(audit!.summary).toEqual({ implementingBody: 'i3p', effectiveOn: dayFromToday(-50) });
    });

    test("attaching needs this application's upload with the digest, kind and size it claims", async () => {
      const id = await h.inAccompaniment();
      const other = await h.submit();
      const upload = (applicationId: string) =>
        storeUpload(db, {
          applicationId,
          kind: 'attachment',
          filename: 'piano.pdf',
          bytes: pdfBytes(randomUUID()),
          uploadedBy: operator.actor,
          maxBytes: 1_000_000,
        });
      const own = await upload(id);
      const theirs = await upload(other);
      const attach = (document: typeof own) => h.step(id, { type: 'ATTACH_DOCUMENT', document });
      const before = await h.footprint(id);
      const invalid = refusal('InvalidDocument', [
        { path: 'document', message: 'no such upload for this application: upload the file first' },
      ]);
      await expect(attach(theirs)).rejects.toEqual(invalid);
      await expect(attach({ ...own, sha256: theirs.sha256 })).rejects.toEqual(invalid);
      await expect(attach({ ...own, kind: 'invoice' })).rejects.toEqual(invalid);
      await expect(attach({ ...own, sizeBytes: own.sizeBytes + 1 })).rejects.toEqual(invalid);
      expect(await h.footprint(id)).toEqual(before);

      const occurredAt = new Date().toISOString();
      const first = await h.step(id, { type: 'ATTACH_DOCUMENT', document: own }, operator, { occurredAt });
      const row = await db
        .selectFrom('documents')
        .selectAll()
        .where('id', '=', own.documentId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ attached_seq: first.seq });
      expect(row.attached_at?.toISOString()).toBe(occurredAt);
      expect((await snapshotOf(id)).context.documents).toEqual([own]);
      const [audit] = await auditFrom(id, first.seq);
      expect(audit!.summary).toEqual({ kind: 'attachment', sha256: own.sha256, sizeBytes: own.sizeBytes });

      // Attached again later: accepted, and the first attachment is the one that stays.
      await attach(own);
      expect(
        (
          await db
            .selectFrom('documents')
            .select('attached_seq')
            .where('id', '=', own.documentId)
            .executeTakeFirstOrThrow()
        ).attached_seq,
      ).toBe(first.seq);
      expect((await snapshotOf(id)).context.documents).toEqual([own]);
    });

    test('every pre-project version is kept, and a forwarded one can never change', async () => {
      const id = await h.inPreProject();
      const versions = [
        preProject(),
        preProject({ title: 'Rivisto prima dell’invio' }),
        preProject({ title: 'Integrato' }),
      ];
      await h.step(id, { type: 'SUBMIT_PRE_PROJECT', preProject: versions[0]! }, PEOPLE.consultant);
      await h.step(id, { type: 'SUBMIT_PRE_PROJECT', preProject: versions[1]! }, PEOPLE.consultant);
      await h.step(id, { type: 'FORWARD_TO_COMMISSION' });
      await h.decide(id, 'REQUEST_INTEGRATION');
      await h.step(id, { type: 'SUBMIT_PRE_PROJECT', preProject: versions[2]! }, PEOPLE.consultant);
      await h.step(id, { type: 'FORWARD_TO_COMMISSION' });
      const rows = await db
        .selectFrom('pre_projects')
        .selectAll()
        .where('application_id', '=', id)
        .orderBy('version')
        .execute();
      expect(
        rows.map((r) => [r.version, r.content, r.content_digest, r.submitted_by, r.forwarded_at !== null]),
      ).toEqual(versions.map((p, i) => [i + 1, p, digestOf(canonicalJson(p)), PEOPLE.consultant.actor, i > 0]));

      const refusedBy = async (statement: ReturnType<typeof sql>, why: RegExp) =>
        expect(statement.execute(db)).rejects.toThrow(why);
      await refusedBy(
        sql`update pre_projects set content = '{}'::jsonb where application_id = ${id} and version = 2`,
        /immutable/,
      );
      await refusedBy(
        sql`update pre_projects set forwarded_at = now() where application_id = ${id} and version = 2`,
        /immutable/,
      );
      // Never forwarded is no licence to rewrite: a version is what was submitted.
      await refusedBy(
        sql`update pre_projects set content = '{}'::jsonb where application_id = ${id} and version = 1`,
        /immutable/,
      );
      await refusedBy(sql`delete from pre_projects where application_id = ${id}`, /delete refused/);
      expect(
        (
          await db
            .selectFrom('pre_projects')
            .select('content')
            .where('application_id', '=', id)
            .where('version', '=', 2)
            .executeTakeFirstOrThrow()
        ).content,
      ).toEqual(versions[1]);
    });

    test('budget effects reserve, queue, release and promote; syncBudget records only a moved place', async () => {
      // Room for one admission and a half: the second waits, the third behind it.
      const call = h.newCall(6_000_000);
      const a = await h.admitted(call);
      const b = await h.admitted(call);
      const c = await h.admitted(call);
      expect([a, b, c].map((x) => x.outcome.followUps)).toEqual([
        [{ type: 'RECORD_BUDGET', status: 'reserved', position: null }],
        [{ type: 'RECORD_BUDGET', status: 'waiting', position: 1 }],
        [{ type: 'RECORD_BUDGET', status: 'waiting', position: 2 }],
      ]);
      // The ledger opened with the rules' budget; no funding clock runs while an admission waits.
      expect((await budgetOverview(db, call))?.totalCents).toBe(6_000_000);
      expect(a.outcome.deadline).toMatchObject({ kind: 'funding' });
      expect([b.outcome.deadline, c.outcome.deadline]).toEqual([null, null]);

      const sync = async (id: string, seq?: number) =>
        h.acts.syncBudget({
          applicationId: id,
          seq: seq ?? (await h.lastSeq(id)) + 1,
          occurredAt: new Date().toISOString(),
        });
      const waiting = await h.footprint(b.id);
      await expect(sync(b.id)).resolves.toBeNull();
      expect(await h.footprint(b.id)).toEqual(waiting);

      const withdrawn = await h.step(a.id, { type: 'WITHDRAW', reason: 'found other funding' }, PEOPLE.company);
      expect(withdrawn.promoted).toEqual([b.id]);

      const seq = (await h.lastSeq(b.id)) + 1;
      const synced = await sync(b.id, seq);
      expect(synced).toMatchObject({
        seq,
        state: 'admitted',
        followUps: [{ type: 'RECORD_BUDGET', status: 'reserved', position: null }],
        deadline: { kind: 'funding' },
      });
      const [audit] = await auditFrom(b.id, seq);
      expect(audit).toMatchObject({
        event_type: 'RECORD_BUDGET',
        actor: 'system',
        summary: { status: 'reserved', position: null },
      });
      // Its retry answers the same and writes nothing.
      const recorded = await h.footprint(b.id);
      await expect(sync(b.id, seq)).resolves.toEqual(synced);
      expect(await h.footprint(b.id)).toEqual(recorded);
      // c still waits, one place further up: that is a move too.
      await expect(sync(c.id)).resolves.toMatchObject({
        followUps: [{ type: 'RECORD_BUDGET', status: 'waiting', position: 1 }],
      });

      // b is funded for less than admitted: the difference lets c through, and b's money is spent.
      const funded = await h.step(b.id, {
        type: 'RECORD_FUNDING',
        amountCents: 2_000_000,
        disbursedOn: dayFromToday(-1),
      });
      expect(funded).toMatchObject({ state: 'funded', promoted: [c.id] });
      await expect(sync(c.id)).resolves.toMatchObject({
        followUps: [{ type: 'RECORD_BUDGET', status: 'reserved', position: null }],
      });
      const overview = (await budgetOverview(db, call))!;
      expect(overview).toMatchObject({ committedCents: 6_000_000, waiting: [] });
      expect(overview.consumed.map((r) => [r.applicationId, r.amountCents])).toEqual([[b.id, 2_000_000]]);
      expect(overview.reserved.map((r) => [r.applicationId, r.amountCents])).toEqual([[c.id, 4_000_000]]);
      expect(await ledgerBalance(db, call)).toBe(overview.committedCents);
    });
  });

  describe('messages', () => {
    test('reminders reach who must act before a deadline, only the operators once it passed; once each', async () => {
      const email = `jane.${randomUUID().slice(0, 8)}@example.org`;
      const id = await h.inAccompaniment({
        company: { legalRepresentative: { name: 'Jane Doe', email, locale: 'en' } },
      });
      const consultant = await db
        .selectFrom('applications')
        .innerJoin('consultants', 'consultants.id', 'applications.consultant_id')
        .select(['consultants.email', 'consultants.name'])
        .where('applications.id', '=', id)
        .executeTakeFirstOrThrow();
      const dueAt = new Date(Date.now() + 14 * DAY_MS).toISOString();
      const remind = (
        kind: 'accompaniment' | 'integration_answer' | 'commission_decision' | 'funding',
        daysBefore: number,
      ) => h.acts.queueReminder({ applicationId: id, deadline: { kind, dueAt }, daysBefore, state: 'accompaniment' });
      const reminders = async () =>
        (await outboxFor(db, id))
          .filter((m) => m.template.startsWith('deadline.'))
          .map((m) => [m.template, payloadOf(m).deadline, m.recipient, m.locale, m.recipient_name]);
      const staff = (addresses: readonly string[]) => addresses.map((a) => [a, 'it', null]);

      const expected: unknown[][] = [];
      const cases = [
        [
          'accompaniment',
          14,
          [
            [email, 'en', 'Jane Doe'],
            [consultant.email, 'it', consultant.name],
          ],
        ],
        [
          'integration_answer',
          3,
          [
            [email, 'en', 'Jane Doe'],
            [consultant.email, 'it', consultant.name],
          ],
        ],
        ['commission_decision', 3, [...staff(COMMISSION), ...staff(OPERATORS)]],
        ['funding', 14, staff(OPERATORS)],
        ['accompaniment', 0, staff(OPERATORS)],
      ] as const;
      for (const [kind, daysBefore, recipients] of cases) {
        await expect(remind(kind, daysBefore)).resolves.toBe(recipients.length);
        const template = daysBefore === 0 ? 'deadline.escalation' : 'deadline.reminder';
        expected.push(...recipients.map((r) => [template, { kind, dueAt }, ...r]));
        expect(await reminders()).toEqual(expected);
      }
      // Retried: the same recipients, no second message.
      for (const [kind, daysBefore] of cases) await remind(kind, daysBefore);
      expect(await reminders()).toEqual(expected);
    });

    test('every message of a journey fits its template, and the company is greeted in its own language', async () => {
      const email = `jane.${randomUUID().slice(0, 8)}@example.org`;
      const call = h.newCall();
      const id = await h.registered(
        { company: { legalRepresentative: { name: 'Jane Doe', email, locale: 'en' } } },
        call,
      );
      await h.assign(id);
      await h.eightHours(id);
      await h.step(id, { type: 'COMPLETE_ACCOMPANIMENT' });
      await h.step(id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, PEOPLE.consultant);
      await h.step(id, { type: 'FORWARD_TO_COMMISSION' });
      await h.decide(id, 'APPROVE');
      const rows = await outboxFor(db, id);
      const company = rows.filter((m) => m.recipient === email);
      expect(company.map((m) => m.template)).toEqual([
        'application.submitted',
        'application.accompaniment',
        'session.confirmation',
        'session.confirmation',
        'application.pre_project',
        'application.commission',
        'application.admitted',
      ]);
      for (const m of rows) {
        const payload = payloadOf(m);
        // What is stored is what the template's schema accepts, unchanged.
        expect(checkedPayload(m.template, payload)).toEqual(payload);
        const mail = render(m.template, m.locale, payload);
        if (m.recipient === email) {
          expect([m.locale, m.recipient_name]).toEqual(['en', 'Jane Doe']);
          expect(mail.text).toMatch(/^Dear Jane Doe,/);
        } else {
          expect(m.locale).toBe('it');
        }
      }
      expect(rows.filter((m) => m.recipient !== email).map((m) => [m.template, payloadOf(m).audience ?? null])).toEqual(
        [
          ['application.accompaniment', 'consultant'],
          ['session.confirmed', null],
          ['session.confirmed', null],
          ['application.pre_project', 'consultant'],
          ['application.commission', 'consultant'],
          ['application.commission', 'commission'],
          ['application.admitted', 'consultant'],
          ['application.admitted', 'operator'],
          ['application.admitted', 'operator'],
        ],
      );
      expect(new Set(rows.map((m) => m.idempotency_key)).size).toBe(rows.length);
    });
  });
});
