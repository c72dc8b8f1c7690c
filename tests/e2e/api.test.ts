import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../client/api/server';
import type { ApplicationCommand } from '../../machines/events';
import { dayFromToday, preProject, session } from '../support/fixtures';
import { actorFor } from '../support/actors';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
let api: FastifyInstance;
let base: string;

beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
  api = buildApi({ config: sys.config, client: sys.client, db: sys.db });
  base = await api.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await api?.close();
  await sys?.stop();
});

const operator = { actor: 'op', role: 'operator' as const };

async function waitingForCommission(): Promise<string> {
  const { applicationId: id } = await sys.service.apply(sys.form(), operator);
  const day = dayFromToday(1);
  const steps: ApplicationCommand[] = [
    { type: 'ASSIGN_BODY', implementingBody: 'i3p', consultant: { name: 'Anna', email: `anna.${randomUUID().slice(0, 8)}@i3p.example.org` } },
    { type: 'LOG_SESSION', session: session(day, '09:00', '17:00') },
  ];
  for (let i = 0; i < 100 && (await sys.service.view(id)).facts.eligibility === 'pending'; i++) await new Promise((r) => setTimeout(r, 50));
  for (const step of steps) await sys.service.send(id, step, operator);
  const code = await confirmationCode(sys.db, id, day, '09:00');
  const rest: ApplicationCommand[] = [
    { type: 'CONFIRM_SESSION', date: day, start: '09:00', code },
    { type: 'COMPLETE_ACCOMPANIMENT' },
    { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() },
    { type: 'FORWARD_TO_COMMISSION' },
  ];
  for (const step of rest) await sys.service.send(id, step, actorFor(step));
  return id;
}

const decide = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/applications/${id}/decision`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('a decision reaches the workflow and the answer carries the new state', async () => {
  const id = await waitingForCommission();
  const res = await decide(id, { decision: 'approve', motivation: 'Convincing plan.' });
  expect(res.status).toBe(200);
  expect((await res.json()) as any).toMatchObject({ applicationId: id, state: 'admitted', facts: { admittedCents: 4_000_000, motivation: 'Convincing plan.' } });
});

test('a decision the lifecycle does not expect is a 409 problem naming why', async () => {
  const id = await waitingForCommission();
  await decide(id, { decision: 'reject', motivation: 'No.' });
  const res = await decide(id, { decision: 'approve', motivation: 'Changed our mind.' });
  expect(res.status).toBe(409);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect((await res.json()) as any).toMatchObject({ code: 'event_refused', detail: expect.stringMatching(/rejected, a final state/) });
});

test('the same Idempotency-Key counts once', async () => {
  const id = await waitingForCommission();
  const key = `req-${randomUUID()}`;
  const first = await decide(id, { decision: 'request_integration', motivation: 'Add indicators.' }, { 'idempotency-key': key });
  const retry = await decide(id, { decision: 'request_integration', motivation: 'Add indicators.' }, { 'idempotency-key': key });
  expect([first.status, retry.status]).toEqual([200, 200]);
  expect(((await retry.json()) as any).facts.integrationRequests).toBe(1);
  expect((await sys.service.view(id)).facts.integrationRequests).toBe(1);
});

test('with Prefer: respond-async the decision travels as a signal and is answered 202', async () => {
  const id = await waitingForCommission();
  const res = await decide(id, { decision: 'reject', motivation: 'Out of scope.' }, { prefer: 'respond-async' });
  expect(res.status).toBe(202);
  await expect(sys.client.workflow.getHandle(id).result()).resolves.toMatchObject({ state: 'rejected' });
});

describe('bad input gets a 4xx problem naming the field, never a 5xx, and changes nothing', () => {
  const cases: [string, unknown, Record<string, string>, number, string][] = [
    ['unknown decision', { decision: 'maybe', motivation: 'x' }, {}, 400, 'body.decision'],
    ['missing motivation', { decision: 'approve' }, {}, 400, 'body.motivation'],
    ['smuggled field', { decision: 'approve', motivation: 'x', admittedCents: 99_999_999 }, {}, 400, 'body'],
    ['not JSON', '{"decision": ', {}, 400, 'body'],
    ['array body', '[1,2]', {}, 400, 'body'],
    ['bad idempotency key', { decision: 'approve', motivation: 'x' }, { 'idempotency-key': 'x' }, 400, 'header.Idempotency-Key'],
    ['oversized body', { decision: 'approve', motivation: 'x'.repeat(100_000) }, {}, 413, ''],
  ];
  test.each(cases)('%s', async (_name, body, headers, status, field) => {
    const id = await waitingForCommission();
    const res = await decide(id, body, headers);
    expect(res.status).toBe(status);
    const problem = (await res.json()) as any;
    expect(problem).toMatchObject({ status, type: expect.stringMatching(/^urn:innosocial:problem:/) });
    if (field) expect(JSON.stringify(problem.errors)).toContain(field);
    expect((await sys.service.view(id)).state).toBe('commission');
  });

  test('an unknown or malformed application id', async () => {
    expect((await decide('innosocialmetro-2023.0123456789abcdef0123', { decision: 'approve', motivation: 'x' })).status).toBe(404);
    expect((await decide('../../etc', { decision: 'approve', motivation: 'x' })).status).toBe(404);
    const malformed = await decide('not-an-id', { decision: 'approve', motivation: 'x' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).errors[0].path).toBe('path.id');
  });
});

test('the company confirms a session with the code from its e-mail; a wrong code is a 400 naming the field', async () => {
  const { applicationId: id } = await sys.service.apply(sys.form(), operator);
  for (let i = 0; i < 100 && (await sys.service.view(id)).facts.eligibility === 'pending'; i++) await new Promise((r) => setTimeout(r, 50));
  await sys.service.send(id, { type: 'ASSIGN_BODY', implementingBody: 'nemo', consultant: { name: 'Ada', email: `ada.${randomUUID().slice(0, 8)}@nemo.example.org` } }, operator);
  const day = dayFromToday(1);
  await sys.service.send(id, { type: 'LOG_SESSION', session: session(day, '10:00', '12:00') }, operator);
  const code = await confirmationCode(sys.db, id, day, '10:00');
  const confirm = (body: unknown) =>
    fetch(`${base}/applications/${id}/sessions/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const wrong = await confirm({ date: day, start: '10:00', code: code === '000000' ? '111111' : '000000' });
  expect(wrong.status).toBe(400);
  expect(((await wrong.json()) as any).errors[0]).toMatchObject({ path: 'code' });
  expect((await confirm({ date: day, start: '10:00', code: 'abc' })).status).toBe(400);
  const ok = await confirm({ date: day, start: '10:00', code });
  expect(ok.status).toBe(200);
  expect(((await ok.json()) as any).facts.verifiedHours).toBe(2);
});

test('GET /applications/:id returns the view', async () => {
  const { applicationId } = await sys.service.apply(sys.form(), operator);
  const res = await fetch(`${base}/applications/${applicationId}`);
  expect(res.status).toBe(200);
  expect((await res.json()) as any).toMatchObject({ applicationId, callId: sys.callId });
});

test('the OpenAPI document describes the routes it serves', async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as any;
  expect(doc.openapi).toBe('3.1.0');
  const decision = doc.paths['/applications/{id}/decision'].post;
  expect(decision.requestBody.content['application/json'].schema).toMatchObject({
    properties: { decision: { enum: ['approve', 'reject', 'request_integration'] } },
    required: ['decision', 'motivation'],
    additionalProperties: false,
  });
  expect(Object.keys(decision.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '404', '409', '413']));
});

test('/healthz reports the database and Temporal', async () => {
  const res = await fetch(`${base}/healthz`);
  expect(res.status).toBe(200);
  expect((await res.json()) as any).toMatchObject({ status: 'ok', database: { ok: true }, temporal: { ok: true } });
});
