import { randomBytes } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { keyUsage } from '../../client/service/keys';
import { keyIdsOf, payloadsIn } from '../../security/codec';
import { loadKeyRing } from '../../security/keyring';
import { budgetSignal, viewQuery } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { dayFromToday, preProject } from '../support/fixtures';
import { confirmedSession, inAccompaniment, send } from '../support/journeys';
import { PEOPLE } from '../support/people';
import { startTestSystem, type TestSystem } from '../support/system';

/*
 * Key rotation in two steps (README, "Security"), end to end: every process first learns the new key, then it
 * becomes active. An application started under the old key keeps working across both steps, and the histories say
 * which keys are still needed: a key leaves the ring only when no retained history uses it.
 */

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const RINGS = {
  old: loadKeyRing({ PAYLOAD_KEYS: `k1:${k1}`, PAYLOAD_ACTIVE_KEY: 'k1' }),
  learnt: loadKeyRing({ PAYLOAD_KEYS: `k1:${k1},k2:${k2}`, PAYLOAD_ACTIVE_KEY: 'k1' }),
  active: loadKeyRing({ PAYLOAD_KEYS: `k1:${k1},k2:${k2}`, PAYLOAD_ACTIVE_KEY: 'k2' }),
  retiredTooSoon: loadKeyRing({ PAYLOAD_KEYS: `k2:${k2}`, PAYLOAD_ACTIVE_KEY: 'k2' }),
};

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30, ring: RINGS.old });
});
afterAll(async () => {
  await sys?.stop();
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const history = async (id: string) => (await sys.client.workflow.getHandle(id).fetchHistory()).events ?? [];

const keysOf = (events: HistoryEvent[]) => [...keyIdsOf(payloadsIn(events))].sort();

test('rotation in two steps: learn, then activate; old payloads keep k1, new ones k2; k1 still needed', async () => {
  // Ring {k1}: the application starts and takes a few steps.
  const id = await inAccompaniment(sys);
  await confirmedSession(sys, id, dayFromToday(1), '09:00', '13:00');
  const underOld = (await history(id)).length;
  expect(keysOf(await history(id))).toEqual(['k1']);

  // Step 1, learn: every process knows k2, still writes k1 (a process not yet restarted can read all of it).
  await sys.restart(RINGS.learnt);
  await confirmedSession(sys, id, dayFromToday(2), '14:00', '18:00');
  expect((await sys.view(id)).facts?.verifiedHours).toBe(8);
  const learnt = await history(id);
  expect(keysOf(learnt)).toEqual(['k1']);

  // Step 2, activate: new payloads carry k2; the old history, replayed by the new worker, still reads with k1.
  await sys.restart(RINGS.active);
  expect(await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' })).toMatchObject({ state: 'pre_project' });
  await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, PEOPLE.consultant);
  const rotated = await history(id);
  expect(keysOf(rotated.slice(0, learnt.length))).toEqual(['k1']);
  expect(keysOf(rotated.slice(learnt.length))).toEqual(['k2']);
  expect(underOld).toBeLessThan(learnt.length);
  // What `keys usage` reads: this history still needs k1, so k1 cannot leave the ring yet.
  expect(keysOf(rotated)).toEqual(['k1', 'k2']);
  const usage = await keyUsage(sys.client, RINGS.active, { callId: sys.callId });
  expect(usage.workflows).toBeGreaterThanOrEqual(1);
  expect(usage.keys).toEqual([
    { id: 'k1', inRing: true, active: false, workflows: usage.workflows },
    { id: 'k2', inRing: true, active: true, workflows: expect.any(Number) },
  ]);
  expect(usage.keys[1]!.workflows).toBeGreaterThanOrEqual(1);
  // A ring that lost k1 hears that histories still need it.
  expect((await keyUsage(sys.client, RINGS.retiredTooSoon, { callId: sys.callId })).keys).toContainEqual({
    id: 'k1',
    inRing: false,
    active: false,
    workflows: usage.workflows,
  });

  // A worker whose ring lacks k1 cannot read the old history: the workflow task the poke needs fails and stays
  // pending, retried (a readable history would take it in milliseconds); no step, no marker; the register stays.
  const before = await sys.view(id);
  await sys.restart(RINGS.retiredTooSoon);
  const handle = sys.client.workflow.getHandle(id);
  await handle.signal(budgetSignal);
  await new Promise((r) => setTimeout(r, 3_000));
  expect((await handle.describe()).raw.pendingWorkflowTask?.attempt).toBeGreaterThanOrEqual(2);
  const stuck = (await history(id)).slice(rotated.length);
  expect(stuck.some((e) => e.markerRecordedEventAttributes || e.workflowTaskCompletedEventAttributes)).toBe(false);
  await expect(send(sys, id, { type: 'FORWARD_TO_COMMISSION' })).rejects.toMatchObject({
    message: expect.stringMatching(/could not take the command in just now/),
  });
  expect(await sys.view(id)).toEqual(before);

  // With k1 back in the ring the same application goes on where it was, once the task's retry ran.
  await sys.restart(RINGS.active);
  await eventually(
    async () => (await history(id)).slice(rotated.length),
    (events) => events.some((e) => e.workflowTaskCompletedEventAttributes),
    60_000,
  );
  expect(await send(sys, id, { type: 'FORWARD_TO_COMMISSION' })).toMatchObject({ state: 'commission' });
  expect((await handle.query(viewQuery)).state).toBe('commission');
}, 180_000);
