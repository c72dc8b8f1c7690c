import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { budgetOverview } from '../../db/repositories/budget';
import { SA } from '../../workflows/search-attributes';
import { rules2023 } from '../support/fixtures';
import { decide, send } from '../support/journeys';
import { PEOPLE } from '../support/people';
import {
  inAccompanimentNow,
  inCommissionNow,
  skipToBefore,
  startTimeSkippingSystem,
  type TimeSkippingSystem,
} from '../support/time-skipping';

const DAY = 86_400_000;
let sys: TimeSkippingSystem;

beforeAll(async () => {
  sys = await startTimeSkippingSystem({}, { clockOffsetDays: 30 });
});
afterAll(async () => {
  await sys?.stop();
});

const serverNow = () => sys.env.currentTimeMs();

const inAccompaniment = () => inAccompanimentNow(sys);
const inCommission = () => inCommissionNow(sys);

const skipTo = (dueAt: string, daysBefore: number) => skipToBefore(sys, dueAt, daysBefore);

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
  const { deadline } = await sys.view(id);
  expect(deadline).toMatchObject({ kind: 'accompaniment' });
  // 120 days from the assignment, the rules say.
  expect(Date.parse(deadline!.dueAt) - (await serverNow())).toBeGreaterThan(119 * DAY);
  const dueAt = deadline!.dueAt;

  await skipTo(dueAt, 14.01);
  expect(await reminders(id)).toEqual([]);
  await skipTo(dueAt, 13.99);
  expect(await reminders(id)).toEqual(['accompaniment/14/company', 'accompaniment/14/consultant']);
  await skipTo(dueAt, 3.01);
  expect(await reminders(id)).toHaveLength(2);
  await skipTo(dueAt, 2.99);
  expect(await reminders(id)).toEqual([
    'accompaniment/14/company',
    'accompaniment/14/consultant',
    'accompaniment/3/company',
    'accompaniment/3/consultant',
  ]);

  await skipTo(dueAt, 0.01);
  expect((await sys.view(id)).state).toBe('accompaniment');
  await skipTo(dueAt, -0.01);
  const lapsed = await sys.view(id);
  expect(lapsed).toMatchObject({
    state: 'lapsed',
    final: true,
    deadline: null,
    facts: { closingReason: expect.stringMatching(/deadline "accompaniment" passed/) },
  });
  // Recorded by the system at the moment the timer fired, on the workflow's clock.
  const lapse = lapsed.timeline.at(-1)!;
  expect(lapse).toMatchObject({ event: 'LAPSE', role: 'system', from: 'accompaniment', to: 'lapsed' });
  expect(Date.parse(lapse.at)).toBeGreaterThanOrEqual(Date.parse(dueAt));
  expect(Date.parse(lapse.at) - Date.parse(dueAt)).toBeLessThan(DAY / 50);
  expect(await reminders(id)).toHaveLength(4);
  expect((await sys.env.client.workflow.getHandle(id).describe()).status.name).toBe('COMPLETED');
});

test('a decision before the deadline cancels it: no later reminder, no lapse', async () => {
  const id = await inCommission();
  const { deadline } = await sys.view(id);
  expect(deadline?.kind).toBe('commission_decision');
  await skipTo(deadline!.dueAt, 10);
  expect(await reminders(id)).toEqual(['commission_decision/14/commission', 'commission_decision/14/operator']);
  expect(await decide(sys, id, 'APPROVE', 'in time')).toMatchObject({ state: 'admitted' });
  // Past the old due date: the commission's 3-day reminder and its lapse must never come.
  await sys.env.sleep(20 * DAY);
  expect(await reminders(id)).toEqual(['commission_decision/14/commission', 'commission_decision/14/operator']);
  expect(await sys.view(id)).toMatchObject({ state: 'admitted', deadline: { kind: 'funding' } });
});

test('a lapse after admission frees the reserved money', async () => {
  const id = await inCommission();
  await decide(sys, id, 'APPROVE', 'ok');
  const admitted = await sys.view(id);
  expect(admitted).toMatchObject({ facts: { budget: 'reserved' }, deadline: { kind: 'funding' } });
  const reservedIds = async () => (await budgetOverview(sys.db, sys.callId))!.reserved.map((r) => r.applicationId);
  expect(await reservedIds()).toContain(id);
  await skipTo(admitted.deadline!.dueAt, -0.01);
  expect(await sys.view(id)).toMatchObject({
    state: 'lapsed',
    final: true,
    facts: { closingReason: expect.stringMatching(/deadline "funding" passed/) },
  });
  const row = await sys.db
    .selectFrom('budget_reservations')
    .select('status')
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  expect(row.status).toBe('released');
  expect(await reservedIds()).not.toContain(id);
  expect(await reminders(id)).toEqual(['funding/14/operator', 'funding/3/operator']);
});

test('where the rules say so, a missed commission deadline is escalated to the operators, not lapsed', async () => {
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
  await skipTo((await sys.view(id)).deadline!.dueAt, -0.01);
  expect(await sys.view(id)).toMatchObject({ state: 'commission', rulesVersion: 2 });
  expect(await reminders(id)).toEqual([
    'commission_decision/14/commission',
    'commission_decision/14/operator',
    'commission_decision/3/commission',
    'commission_decision/3/operator',
    'commission_decision/0/operator',
  ]);
  // No deadline runs any more, in the register, in the workflow and in the Temporal UI's search attribute.
  expect(await sys.view(id)).toMatchObject({ deadline: null });
  const handle = sys.env.client.workflow.getHandle(id);
  expect((await handle.describe()).typedSearchAttributes.get(SA.deadline)).toBeUndefined();
  // A step in the same state does not bring the missed deadline back: escalated once, a month later still once.
  const member = PEOPLE.members[0];
  await send(sys, id, { type: 'DECLARE_CONFLICT', member: member.actor, conflicted: false }, member);
  expect(await sys.view(id)).toMatchObject({ state: 'commission', deadline: null });
  await sys.env.sleep(30 * DAY);
  expect(await reminders(id)).toHaveLength(5);
  expect(await decide(sys, id, 'APPROVE', 'late but valid')).toMatchObject({ state: 'admitted' });
});
