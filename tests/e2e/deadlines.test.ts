import { randomUUID } from 'node:crypto';
import type { ApplicationCommand } from '../../machines/events';
import type { CommandMeta } from '../../workflows/messages';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { preProject, rules2023, session } from '../support/fixtures';
import { actorFor } from '../support/actors';
import { confirmationCode } from '../support/system';
import { startTimeSkippingSystem, type TimeSkippingSystem } from '../support/time-skipping';

const operator: CommandMeta = { actor: 'op', role: 'operator' };
let sys: TimeSkippingSystem;

beforeAll(async () => {
  sys = await startTimeSkippingSystem({}, { clockOffsetDays: 30 });
});
afterAll(async () => {
  await sys?.stop();
});

const send = (id: string, e: ApplicationCommand) => sys.service.send(id, e, actorFor(e));

async function inAccompaniment(): Promise<string> {
  const { applicationId: id } = await sys.service.apply(sys.form(), operator);
  for (let i = 0; i < 100 && (await sys.service.view(id)).facts.eligibility === 'pending'; i++) await sys.env.sleep(10);
  await send(id, {
    type: 'ASSIGN_BODY',
    implementingBody: 'ashoka-italia',
    consultant: { name: 'Luca', email: `luca.${randomUUID().slice(0, 8)}@ashoka.example.org` },
  });
  return id;
}

async function inCommission(): Promise<string> {
  const id = await inAccompaniment();
  const day = await sys.syncClock(30);
  await send(id, { type: 'LOG_SESSION', session: session(day, '09:00', '17:00') });
  await send(id, {
    type: 'CONFIRM_SESSION',
    date: day,
    start: '09:00',
    code: await confirmationCode(sys.db, id, day, '09:00'),
  });
  for (const e of [
    { type: 'COMPLETE_ACCOMPANIMENT' },
    { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() },
    { type: 'FORWARD_TO_COMMISSION' },
  ] as ApplicationCommand[]) {
    await send(id, e);
  }
  return id;
}

/** The reminders and escalations queued so far for one application, as "kind/daysBefore/audience". */
async function reminders(id: string): Promise<string[]> {
  const rows = await sys.db
    .selectFrom('notification_outbox')
    .select(['template', 'payload'])
    .where('application_id', '=', id)
    .where('template', 'like', 'deadline.%')
    .orderBy('id')
    .execute();
  return rows.map((r) => {
    const p = (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as {
      deadline: { kind: string };
      daysBefore: number;
      audience: string;
    };
    return `${p.deadline.kind}/${p.daysBefore}/${p.audience}`;
  });
}

test('the accompaniment deadline reminds 14 and 3 days before, each once, then lapses the application', async () => {
  const id = await inAccompaniment();
  const due = Date.parse((await sys.service.view(id)).deadline!.dueAt);
  const until = async (daysBefore: number) =>
    sys.env.sleep(Math.max(1, due - daysBefore * 86_400_000 - (await sys.env.currentTimeMs())));

  await until(14.01);
  expect(await reminders(id)).toEqual([]);
  await until(13.99);
  expect(await reminders(id)).toEqual(['accompaniment/14/company', 'accompaniment/14/consultant']);
  await until(3.01);
  expect(await reminders(id)).toHaveLength(2);
  await until(2.99);
  expect(await reminders(id)).toEqual([
    'accompaniment/14/company',
    'accompaniment/14/consultant',
    'accompaniment/3/company',
    'accompaniment/3/consultant',
  ]);
  expect((await sys.service.view(id)).state).toBe('accompaniment');

  await until(0.01);
  expect((await sys.service.view(id)).state).toBe('accompaniment');
  await until(-0.01);
  const lapsed = await sys.service.view(id);
  expect(lapsed).toMatchObject({
    state: 'lapsed',
    final: true,
    facts: { closingReason: expect.stringMatching(/deadline "accompaniment" passed/) },
  });
  expect(await reminders(id)).toHaveLength(4);
});

test('a decision before the deadline cancels it: no later reminder, no lapse', async () => {
  const id = await inCommission();
  const view = await sys.service.view(id);
  expect(view.deadline?.kind).toBe('commission_decision');
  const due = Date.parse(view.deadline!.dueAt);
  await sys.env.sleep(due - 10 * 86_400_000 - (await sys.env.currentTimeMs()));
  expect(await reminders(id)).toEqual(['commission_decision/14/commission', 'commission_decision/14/operator']);
  expect((await send(id, { type: 'APPROVE', motivation: 'in time' }))?.state).toBe('admitted');
  // Past the old due date: the commission's 3-day reminder and its lapse must never come.
  await sys.env.sleep(20 * 86_400_000);
  expect(await reminders(id)).toEqual(['commission_decision/14/commission', 'commission_decision/14/operator']);
  expect((await sys.service.view(id)).state).toBe('admitted');
});

test('a lapse after admission frees the reserved money', async () => {
  const id = await inCommission();
  await send(id, { type: 'APPROVE', motivation: 'ok' });
  const admitted = await sys.service.view(id);
  expect(admitted).toMatchObject({ facts: { budget: 'reserved' }, deadline: { kind: 'funding' } });
  await sys.env.sleep(Date.parse(admitted.deadline!.dueAt) - (await sys.env.currentTimeMs()) + 60_000);
  expect((await sys.service.view(id)).state).toBe('lapsed');
  const row = await sys.db
    .selectFrom('budget_reservations')
    .select('status')
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  expect(row.status).toBe('released');
  expect(await reminders(id)).toEqual(['funding/14/operator', 'funding/3/operator']);
});

test('where the rules say so, a missed commission deadline is escalated to the operators instead of lapsing', async () => {
  writeFileSync(
    path.join(sys.config.CALLS_DIR, `${sys.callId}.v2.json`),
    JSON.stringify({
      ...rules2023,
      callId: sys.callId,
      version: 2,
      deadlines: { ...rules2023.deadlines, escalateInsteadOfLapse: ['commission_decision'] },
    }),
  );
  const id = await inCommission();
  const due = Date.parse((await sys.service.view(id)).deadline!.dueAt);
  await sys.env.sleep(due - (await sys.env.currentTimeMs()) + 60_000);
  const view = await sys.service.view(id);
  expect(view).toMatchObject({ state: 'commission', deadline: null, rulesVersion: 2 });
  expect(await reminders(id)).toEqual([
    'commission_decision/14/commission',
    'commission_decision/14/operator',
    'commission_decision/3/commission',
    'commission_decision/3/operator',
    'commission_decision/0/operator',
  ]);
  expect((await send(id, { type: 'APPROVE', motivation: 'late but valid' }))?.state).toBe('admitted');
});
