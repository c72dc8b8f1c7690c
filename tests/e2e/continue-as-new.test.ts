import { randomUUID } from 'node:crypto';
import { auditTrail } from '../../db/repositories/applications';
import type { CommandMeta } from '../../workflows/messages';
import { dayFromToday, session } from '../support/fixtures';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

const operator: CommandMeta = { actor: 'op', role: 'operator' };
let sys: TestSystem;

// The mechanism is the one that runs before Temporal's 10,240-event warning; a low threshold makes it cross here.
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 60, env: { CONTINUE_AS_NEW_AFTER_EVENTS: '150' } });
});
afterAll(async () => {
  await sys?.stop();
});

test('a long accompaniment continues as new, carrying the snapshot, and goes on to the end', async () => {
  const { applicationId: id } = await sys.service.apply(sys.form(), operator);
  for (let i = 0; i < 100 && (await sys.service.view(id)).facts.eligibility === 'pending'; i++)
    await new Promise((r) => setTimeout(r, 50));
  const firstRun = (await sys.client.workflow.getHandle(id).describe()).runId;
  await sys.service.send(
    id,
    {
      type: 'ASSIGN_BODY',
      implementingBody: 'soges',
      consultant: { name: 'Sara', email: `sara.${randomUUID().slice(0, 8)}@soges.example.org` },
    },
    operator,
  );

  // Sixteen half-hour sessions over sixteen days, each logged and confirmed: many messages, many events.
  for (let d = 1; d <= 16; d++) {
    const day = dayFromToday(d);
    await sys.service.send(id, { type: 'LOG_SESSION', session: session(day, '10:00', '10:30') }, operator);
    await sys.service.send(
      id,
      { type: 'CONFIRM_SESSION', date: day, start: '10:00', code: await confirmationCode(sys.db, id, day, '10:00') },
      operator,
    );
  }
  const view = await sys.service.view(id);
  expect(view).toMatchObject({
    state: 'accompaniment',
    facts: { sessionsLogged: 16, verifiedHours: 8, implementingBody: 'soges' },
    deadline: { kind: 'accompaniment' },
  });

  // More than one run by now, each short, and the history of the chain says how it went.
  const runs: { runId: string; events: number }[] = [];
  for await (const wf of sys.client.workflow.list({ query: `WorkflowId = '${id}'` })) {
    const history = await sys.client.workflow.getHandle(id, wf.runId).fetchHistory();
    runs.push({ runId: wf.runId, events: history.events?.length ?? 0 });
  }
  expect(runs.length).toBeGreaterThan(1);
  expect(runs.map((r) => r.runId)).toContain(firstRun);
  expect(Math.max(...runs.map((r) => r.events))).toBeLessThan(400);

  expect((await sys.service.send(id, { type: 'COMPLETE_ACCOMPANIMENT' }, operator))?.state).toBe('pre_project');
  await sys.service.send(id, { type: 'WITHDRAW', reason: 'done testing' }, operator);
  await expect(sys.client.workflow.getHandle(id).result()).resolves.toMatchObject({ state: 'withdrawn' });
  // The audit trail crosses the runs without a gap or a duplicate.
  const trail = await auditTrail(sys.db, id);
  expect(trail.map((r) => r.seq)).toEqual(trail.map((_, i) => i));
  expect(view.timeline.length).toBe(trail.length - 2);
});
