import { preProject } from '../support/fixtures';
import { startTestApi, type Caller, type TestApi } from '../support/api';
import { inCommission, inPreProject, send } from '../support/journeys';
import { startTestSystem, type TestSystem } from '../support/system';

/*
 * The commission's rules as its members meet them through the API (issue 10): what a member may read, when they see
 * the others' evaluations, and what a declared conflict of interest takes from them.
 */

let sys: TestSystem;
let api: TestApi;

beforeAll(async () => {
  // Its own database: a member's list is every forwarded application, and other files forward theirs meanwhile.
  sys = await startTestSystem({ clockOffsetDays: 30, privateDatabase: true });
  api = await startTestApi(sys);
});
afterAll(async () => {
  await api?.stop();
  await sys?.stop();
});

const scores = { social_impact: 30, innovation: 15, feasibility: 20, territory: 10 };
const post = (who: Caller, id: string, path: string, body?: unknown) =>
  api.call('POST', `/applications/${id}/${path}`, { token: who.token, ...(body === undefined ? {} : { body }) });
const read = (who: Caller, id: string) => api.call('GET', `/applications/${id}`, { token: who.token });
const declare = (who: Caller, id: string, conflicted: boolean) => post(who, id, 'conflict', { conflicted });
const evaluate = (who: Caller, id: string, recommendation = 'approve') =>
  post(who, id, 'evaluations', { scores, recommendation, motivation: `${who.id} thinks so` });
const transitions = async (id: string) => (await sys.view(id)).timeline.length;

describe('what a member reads', () => {
  test('only applications forwarded to the commission: not before, and not in their list', async () => {
    const waiting = await inPreProject(sys);
    await send(sys, waiting, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject({ title: 'Not yet forwarded' }) });
    const forwarded = await inCommission(sys);
    const m = api.users.members[0];
    for (const path of [`/applications/${waiting}`, `/applications/${waiting}/pre-projects`]) {
      const res = await api.call('GET', path, { token: m.token });
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 403, code: 'forbidden' });
    }
    expect((await declare(m, waiting, false)).status).toBe(403);
    expect((await read(m, forwarded)).status).toBe(200);
    const listed = await api.call('GET', '/applications?limit=1000', { token: m.token });
    const ids = listed.body.items.map((i: { applicationId: string }) => i.applicationId);
    expect(ids).toContain(forwarded);
    expect(ids).not.toContain(waiting);
  });

  test('only the versions forwarded to it, even when a newer one is being prepared', async () => {
    const id = await inCommission(sys, 'i3p', { title: 'Version one' });
    await post(api.users.chair, id, 'decision', { decision: 'request_integration', motivation: 'More indicators.' });
    const draft = preProject({ title: 'Version two, a draft', eligibleCostCents: 9_000_000, grantCents: 4_500_000 });
    await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: draft });
    const m = api.users.members[0];
    const versions = async () =>
      (await api.call('GET', `/applications/${id}/pre-projects`, { token: m.token })).body.map(
        (v: { version: number; content: { title: string } }) => `${v.version}: ${v.content.title}`,
      );

    const view = (await read(m, id)).body;
    expect(view.facts).toMatchObject({
      preProjectVersion: 1,
      preProject: { title: 'Version one', grantCents: 4_000_000 },
    });
    // Nor what is derived from the draft: its costs and the support it asks for.
    expect(view.facts.eligibleCostCents).toBe(8_000_000);
    expect([view.requestedCents, view.facts.requestedCents]).toEqual([4_000_000, 4_000_000]);
    expect(JSON.stringify(view)).not.toMatch(/Version two|9000000|4500000/);
    expect(await versions()).toEqual(['1: Version one']);
    const listed = (await api.call('GET', `/applications?limit=1000`, { token: m.token })).body.items;
    expect(listed.find((i: { applicationId: string }) => i.applicationId === id)).toMatchObject({
      requestedCents: 4_000_000,
    });
    // The operator reads the draft; the commission reads it once it is forwarded.
    const operatorView = (await read(api.users.operator, id)).body;
    expect(operatorView.facts).toMatchObject({ preProjectVersion: 2, preProject: { title: 'Version two, a draft' } });
    await send(sys, id, { type: 'FORWARD_TO_COMMISSION' });
    expect((await read(m, id)).body.facts).toMatchObject({ preProjectVersion: 2 });
    expect(await versions()).toEqual(['1: Version one', '2: Version two, a draft']);
  });
});

describe("the others' evaluations", () => {
  test('a member sees them only after declaring no conflict AND submitting their own', async () => {
    const id = await inCommission(sys);
    const [m1, m2, m3] = api.users.members;
    await declare(m1, id, false);
    expect((await evaluate(m1, id)).status).toBe(200);
    await declare(m3, id, true);

    const seen = async (m: Caller) => {
      const view = (await read(m, id)).body;
      return {
        evaluations: view.facts.evaluations.map((e: { member: string }) => e.member),
        timeline: view.timeline.filter((t: { event: string }) => t.event === 'SUBMIT_EVALUATION').length,
        conflicts: Object.keys(view.facts.conflicts).sort(),
      };
    };
    // Before declaring, and after declaring but before evaluating: nothing of the others.
    expect(await seen(m2)).toEqual({ evaluations: [], timeline: 0, conflicts: [] });
    await declare(m2, id, false);
    expect(await seen(m2)).toEqual({ evaluations: [], timeline: 0, conflicts: [m2.id] });
    // The conflicted member never does.
    expect(await seen(m3)).toEqual({ evaluations: [], timeline: 0, conflicts: [m3.id] });
    expect((await evaluate(m2, id, 'reject')).status).toBe(200);
    expect(await seen(m2)).toEqual({
      evaluations: [m1.id, m2.id],
      timeline: 2,
      conflicts: [m1.id, m2.id, m3.id].sort(),
    });
    expect(await seen(m3)).toEqual({ evaluations: [], timeline: 0, conflicts: [m3.id] });
    // The consultant of the application never sees the commission's work.
    const consultant = (await read(api.users.consultant, id)).body;
    expect(consultant.facts).toMatchObject({ evaluations: [], conflicts: {} });
  });
});

describe('a declared conflict of interest', () => {
  test("makes the member's evaluation a 403, not a 409, and records nothing", async () => {
    const id = await inCommission(sys);
    const m = api.users.members[2];
    await declare(m, id, true);
    const before = await transitions(id);
    const res = await evaluate(m, id);
    expect(res).toMatchObject({
      status: 403,
      body: { code: 'forbidden', detail: expect.stringMatching(/declared a conflict of interest/) },
    });
    expect(await transitions(id)).toBe(before);
    expect((await sys.view(id)).facts!.evaluations).toEqual([]);
  });

  test('is final: declaring none afterwards is refused, and the conflict stands', async () => {
    const id = await inCommission(sys);
    const m = api.users.members[1];
    expect((await declare(m, id, true)).status).toBe(200);
    const before = await transitions(id);
    const res = await declare(m, id, false);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.detail).toMatch(/final/);
    expect(await transitions(id)).toBe(before);
    expect((await sys.view(id)).facts!.conflicts).toEqual({ [m.id]: true });
    // ...so the others' evaluations stay out of reach.
    await declare(api.users.members[0], id, false);
    await evaluate(api.users.members[0], id);
    expect((await read(m, id)).body.facts.evaluations).toEqual([]);
  });

  test('bars the chair from recording the decision: 403, the application stays with the commission', async () => {
    const id = await inCommission(sys);
    const chair = api.users.chair;
    await declare(chair, id, true);
    const before = await transitions(id);
    const res = await post(chair, id, 'decision', { decision: 'approve', motivation: 'x' });
    expect(res).toMatchObject({
      status: 403,
      body: { code: 'forbidden', detail: expect.stringMatching(/conflict of interest/) },
    });
    expect(await transitions(id)).toBe(before);
    expect((await sys.view(id)).state).toBe('commission');
  });

  test("the workflow refuses a conflicted chair's decision even when it reaches it past the door", async () => {
    const id = await inCommission(sys);
    const chair = api.users.chair;
    await declare(chair, id, true);
    const meta = { actor: chair.id, role: 'commission' } as const;
    await expect(send(sys, id, { type: 'APPROVE', motivation: 'x', chair: chair.id }, meta)).rejects.toMatchObject({
      code: 'event_refused',
      message: expect.stringMatching(/conflict of interest/),
    });
    expect((await sys.view(id)).state).toBe('commission');
  });
});

describe('the decision', () => {
  test('only the chair records it: a member gets 403; the workflow refuses a chair named by another', async () => {
    const id = await inCommission(sys);
    const member = api.users.members[0];
    const res = await post(member, id, 'decision', { decision: 'approve', motivation: 'x' });
    expect(res).toMatchObject({
      status: 403,
      body: { code: 'forbidden', detail: expect.stringMatching(/only the chair/) },
    });
    const meta = { actor: member.id, role: 'commission' } as const;
    await expect(
      send(sys, id, { type: 'APPROVE', motivation: 'x', chair: api.users.chair.id }, meta),
    ).rejects.toMatchObject({ code: 'forbidden' });
    expect((await sys.view(id)).state).toBe('commission');
    const decided = await post(api.users.chair, id, 'decision', { decision: 'approve', motivation: 'Sound.' });
    expect(decided).toMatchObject({ status: 200, body: { state: 'admitted' } });
  });
});
