import { auditTrail } from '../../db/repositories/applications';
import { viewQuery } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { dayFromToday } from '../support/fixtures';
import { confirmedSession, decide, inAccompaniment, send } from '../support/journeys';
import { PEOPLE } from '../support/people';
import { startTestSystem, type TestSystem } from '../support/system';

const LIMIT = 100;
let sys: TestSystem;

// The mechanism is the one that runs before Temporal's 10,240-event warning; the lowest threshold makes it cross here.
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 60, env: { CONTINUE_AS_NEW_AFTER_EVENTS: String(LIMIT) } });
});
afterAll(async () => {
  await sys?.stop();
});

/** Every run of one workflow id, oldest first: its status (from the run itself, not the lagging list) and length. */
async function runsOf(id: string) {
  const runs: { runId: string; status: string; events: number; start: number }[] = [];
  for await (const wf of sys.client.workflow.list({ query: `WorkflowId = '${id}'` })) {
    const handle = sys.client.workflow.getHandle(id, wf.runId);
    const [described, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
    runs.push({
      runId: wf.runId,
      status: described.status.name,
      events: history.events?.length ?? 0,
      start: described.startTime.getTime(),
    });
  }
  return runs.sort((a, b) => a.start - b.start);
}

test('a long accompaniment continues as new, handing its snapshot over; the register goes on to the end', async () => {
  const id = await inAccompaniment(sys);
  const handle = sys.client.workflow.getHandle(id);
  const firstRun = (await handle.describe()).runId;
  const { deadline } = await sys.view(id);
  // A refusal the first run remembers: the next run must still say it.
  await sys.service.send(id, { type: 'COMPLETE_ACCOMPANIMENT' }, PEOPLE.consultant, { mode: 'signal' });
  await eventually(
    () => handle.query(viewQuery),
    (v) => v.refusedSignals.length > 0,
  );

  // Sixteen half-hour sessions over sixteen days, each logged and confirmed: many messages, many events.
  for (let d = 1; d <= 16; d++) await confirmedSession(sys, id, dayFromToday(d), '10:00', '10:30');

  const runs = await runsOf(id);
  expect(runs.length).toBeGreaterThan(1);
  expect(runs[0]!.runId).toBe(firstRun);
  expect(runs.slice(0, -1).map((r) => r.status)).toEqual(runs.slice(0, -1).map(() => 'CONTINUED_AS_NEW'));
  // Each run hands over between messages once past the limit: never much longer than one step beyond it.
  expect(Math.max(...runs.map((r) => r.events))).toBeLessThan(LIMIT + 30);

  // The current run took over the register's state: the same snapshot, seq and running deadline (not restarted).
  const register = await sys.view(id);
  expect(register).toMatchObject({
    state: 'accompaniment',
    deadline,
    facts: { sessionsLogged: 16, verifiedHours: 8, implementingBody: 'i3p' },
  });
  const current = await handle.query(viewQuery);
  expect(current).toMatchObject({ generation: 2, state: 'accompaniment', seq: register.seq, deadline });
  expect(current.context).toMatchObject({ sessionsLogged: 16, verifiedMinutes: 480, consultantId: expect.any(String) });
  expect(current.refusedSignals).toEqual([
    expect.objectContaining({
      type: 'COMPLETE_ACCOMPANIMENT',
      reason: expect.stringMatching(/hours are 0 h, the rules require at least 8 h/),
    }),
  ]);

  expect(await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' })).toMatchObject({ state: 'pre_project' });
  await expect(decide(sys, id, 'APPROVE')).rejects.toMatchObject({ code: 'event_refused' });
  await send(sys, id, { type: 'WITHDRAW', reason: 'done testing' });
  await expect(handle.result()).resolves.toMatchObject({ state: 'withdrawn' });
  // The audit trail crosses the runs without a gap or a duplicate, and the register holds it all.
  const trail = await auditTrail(sys.db, id);
  expect(trail.map((r) => r.seq)).toEqual(trail.map((_, i) => i));
  const final = await sys.view(id);
  expect(final).toMatchObject({ state: 'withdrawn', final: true, seq: trail.length - 1 });
  expect(final.timeline.filter((t) => t.event === 'CONFIRM_SESSION')).toHaveLength(16);
});
