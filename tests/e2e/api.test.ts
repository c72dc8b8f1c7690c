import { randomUUID } from 'node:crypto';
import { dayFromToday, pdfBase64, session } from '../support/fixtures';
import { startTestApi, type TestApi } from '../support/api';
import { inAccompaniment, inCommission } from '../support/journeys';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
let api: TestApi;

beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
  api = await startTestApi(sys);
});
afterAll(async () => {
  await api?.stop();
  await sys?.stop();
});

const decide = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  api.call('POST', `/applications/${id}/decision`, { token: api.users.chair.token, body, headers });

const scores = { social_impact: 32, innovation: 15, feasibility: 20, territory: 10 };

test('the chair records a decision and the answer carries the new state', async () => {
  const id = await inCommission(sys);
  const res = await decide(id, { decision: 'approve', motivation: 'Convincing plan.' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    applicationId: id,
    state: 'admitted',
    facts: { admittedCents: 4_000_000, motivation: 'Convincing plan.' },
  });
});

test('members declare conflicts and evaluate; the quorum of three decides', async () => {
  const id = await inCommission(sys);
  const [m1, m2, m3] = api.users.members;
  const member = (m: typeof m1, path: string, body: unknown) =>
    api.call('POST', `/applications/${id}/${path}`, { token: m.token, body });

  expect((await member(m1, 'evaluations', { scores, recommendation: 'approve', motivation: 'x' })).body).toMatchObject({
    code: 'event_refused',
    detail: expect.stringMatching(/must first declare/),
  });
  for (const m of [m1, m2]) expect((await member(m, 'conflict', { conflicted: false })).status).toBe(200);
  expect((await member(m3, 'conflict', { conflicted: true })).status).toBe(200);
  expect(
    (await member(m1, 'evaluations', { scores, recommendation: 'approve', motivation: 'Strong impact.' })).body.state,
  ).toBe('commission');
  expect((await member(m3, 'evaluations', { scores, recommendation: 'reject', motivation: 'x' })).body).toMatchObject({
    status: 409,
    detail: expect.stringMatching(/declared a conflict of interest/),
  });

  // The conflicted member does not see the others' evaluations; a member without conflict does.
  const seen = async (m: typeof m1) =>
    (await api.call('GET', `/applications/${id}`, { token: m.token })).body.facts.evaluations.length;
  expect([await seen(m2), await seen(m3)]).toEqual([1, 0]);

  const third = api.users.chair; // the chair evaluates too, as a member
  await api.call('POST', `/applications/${id}/conflict`, { token: third.token, body: { conflicted: false } });
  expect(
    (await member(m2, 'evaluations', { scores, recommendation: 'approve', motivation: 'Agree.' })).body.state,
  ).toBe('commission');
  const decided = await api.call('POST', `/applications/${id}/evaluations`, {
    token: third.token,
    body: { scores, recommendation: 'reject', motivation: 'Too costly.' },
  });
  expect(decided.body).toMatchObject({
    state: 'admitted',
    facts: { motivation: expect.stringMatching(/quorum: 3 evaluations \(approve 2, reject 1/) },
  });
});

test('a member who is not the chair cannot record a decision', async () => {
  const id = await inCommission(sys);
  const res = await api.call('POST', `/applications/${id}/decision`, {
    token: api.users.members[0].token,
    body: { decision: 'approve', motivation: 'x' },
  });
  expect(res).toMatchObject({
    status: 403,
    body: { code: 'forbidden', detail: expect.stringMatching(/only the chair/) },
  });
  expect((await sys.service.view(id)).state).toBe('commission');
});

test('a decision the lifecycle does not expect is a 409 problem naming why', async () => {
  const id = await inCommission(sys);
  await decide(id, { decision: 'reject', motivation: 'No.' });
  const res = await decide(id, { decision: 'approve', motivation: 'Changed our mind.' });
  expect(res.status).toBe(409);
  expect(res.type).toMatch(/application\/problem\+json/);
  expect(res.body).toMatchObject({ code: 'event_refused', detail: expect.stringMatching(/rejected, a final state/) });
});

test('the same Idempotency-Key counts once', async () => {
  const id = await inCommission(sys);
  const key = `req-${randomUUID()}`;
  const first = await decide(
    id,
    { decision: 'request_integration', motivation: 'Add indicators.' },
    { 'idempotency-key': key },
  );
  const retry = await decide(
    id,
    { decision: 'request_integration', motivation: 'Add indicators.' },
    { 'idempotency-key': key },
  );
  expect([first.status, retry.status]).toEqual([200, 200]);
  expect(retry.body.facts.integrationRequests).toBe(1);
  expect((await sys.service.view(id)).facts.integrationRequests).toBe(1);
});

test('with Prefer: respond-async the decision travels as a signal and is answered 202', async () => {
  const id = await inCommission(sys);
  const res = await decide(id, { decision: 'reject', motivation: 'Out of scope.' }, { prefer: 'respond-async' });
  expect(res.status).toBe(202);
  await expect(sys.client.workflow.getHandle(id).result()).resolves.toMatchObject({ state: 'rejected' });
});

test('a consultant logs sessions, uploads documents and submits the pre-project of their own applications only', async () => {
  const own = await inAccompaniment(sys, 'i3p');
  const other = await inAccompaniment(sys, 'nemo');
  const c = api.users.consultant.token;
  const day = dayFromToday(1);
  const logged = await api.call('POST', `/applications/${own}/sessions`, {
    token: c,
    body: { session: session(day, '09:00', '13:00') },
  });
  expect(logged).toMatchObject({ status: 200, body: { facts: { sessionsLogged: 1 } } });
  const doc = await api.call('POST', `/applications/${own}/documents`, {
    token: c,
    body: { document: { kind: 'attachment', filename: 'piano.pdf', contentBase64: pdfBase64() } },
  });
  expect(doc.status).toBe(200);
  const stored = doc.body.facts.documents[0];
  const download = await fetch(`${api.base}/applications/${own}/documents/${stored.documentId}`, {
    headers: { authorization: `Bearer ${c}` },
  });
  expect([download.status, download.headers.get('content-type')]).toEqual([200, 'application/pdf']);
  expect(Buffer.from(await download.arrayBuffer()).toString('base64')).toBe(pdfBase64());

  const refused = await api.call('POST', `/applications/${other}/sessions`, {
    token: c,
    body: { session: session(day, '09:00', '13:00') },
  });
  expect(refused).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  expect((await sys.service.view(other)).facts.sessionsLogged).toBe(0);
  const listed = await api.call('GET', '/applications', { token: c });
  expect(listed.body.every((a: { implementingBody: string }) => a.implementingBody === 'i3p')).toBe(true);
});

test('the company confirms a session with the code from its e-mail; a wrong code is a 400 naming the field', async () => {
  const id = await inAccompaniment(sys, 'nemo');
  const day = dayFromToday(1);
  await api.call('POST', `/applications/${id}/sessions`, {
    token: api.users.otherConsultant.token,
    body: { session: session(day, '10:00', '12:00') },
  });
  const code = await confirmationCode(sys.db, id, day, '10:00');
  const confirm = (body: unknown) => api.call('POST', `/applications/${id}/sessions/confirm`, { body });
  const wrong = await confirm({ date: day, start: '10:00', code: code === '000000' ? '111111' : '000000' });
  expect(wrong.status).toBe(400);
  expect(wrong.body.errors[0]).toMatchObject({ path: 'code' });
  expect((await confirm({ date: day, start: '10:00', code: 'abc' })).status).toBe(400);
  const ok = await confirm({ date: day, start: '10:00', code });
  expect(ok.status).toBe(200);
  expect(ok.body.facts.verifiedHours).toBe(2);
});

describe('bad input gets a 4xx problem naming the field, never a 5xx, and changes nothing', () => {
  const cases: [string, unknown, Record<string, string>, number, string][] = [
    ['unknown decision', { decision: 'maybe', motivation: 'x' }, {}, 400, 'body.decision'],
    ['missing motivation', { decision: 'approve' }, {}, 400, 'body.motivation'],
    ['smuggled field', { decision: 'approve', motivation: 'x', admittedCents: 99_999_999 }, {}, 400, 'body'],
    ['not JSON', '{"decision": ', {}, 400, 'body'],
    ['array body', '[1,2]', {}, 400, 'body'],
    [
      'bad idempotency key',
      { decision: 'approve', motivation: 'x' },
      { 'idempotency-key': 'x' },
      400,
      'header.Idempotency-Key',
    ],
    ['oversized body', { decision: 'approve', motivation: 'x'.repeat(100_000) }, {}, 413, ''],
  ];
  test.each(cases)('%s', async (_name, body, headers, status, field) => {
    const id = await inCommission(sys);
    const res = await decide(id, body, headers);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^urn:innosocial:problem:/) });
    if (field) expect(JSON.stringify(res.body.errors)).toContain(field);
    expect((await sys.service.view(id)).state).toBe('commission');
  });

  test('an unknown or malformed application id', async () => {
    expect(
      (await decide('innosocialmetro-2023.0123456789abcdef0123', { decision: 'approve', motivation: 'x' })).status,
    ).toBe(404);
    expect((await decide('../../etc', { decision: 'approve', motivation: 'x' })).status).toBe(404);
    const malformed = await decide('not-an-id', { decision: 'approve', motivation: 'x' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].path).toBe('path.id');
  });
});

test('users: an operator creates one (token shown once), lists without tokens, revokes it', async () => {
  const op = api.users.operator.token;
  const created = await api.call('POST', '/users', {
    token: op,
    body: { name: 'Nuova Consulente', role: 'consultant', body: 'soges' },
  });
  expect(created).toMatchObject({
    status: 201,
    body: { user: { role: 'consultant', body_id: 'soges' }, token: expect.stringMatching(/^ism_/) },
  });
  expect((await api.call('GET', '/me', { token: created.body.token })).body).toMatchObject({
    name: 'Nuova Consulente',
  });
  const listed = await api.call('GET', '/users', { token: op });
  expect(JSON.stringify(listed.body)).not.toMatch(/token/);
  expect((await api.call('DELETE', `/users/${created.body.user.id}`, { token: op })).status).toBe(200);
  expect((await api.call('GET', '/me', { token: created.body.token })).status).toBe(401);
  expect(
    (await api.call('POST', '/users', { token: op, body: { name: 'X', role: 'consultant' } })).body.errors[0].path,
  ).toBe('body.body');
});

test('the OpenAPI document and the docs page describe the routes served', async () => {
  const doc = (await api.call('GET', '/openapi.json')).body;
  expect(doc.openapi).toBe('3.1.0');
  const decision = doc.paths['/applications/{id}/decision'].post;
  expect(decision.requestBody.content['application/json'].schema).toMatchObject({
    properties: { decision: { enum: ['approve', 'reject', 'request_integration'] } },
    required: ['decision', 'motivation'],
    additionalProperties: false,
  });
  expect(Object.keys(decision.responses)).toEqual(
    expect.arrayContaining(['200', '202', '400', '401', '403', '404', '409', '413', '429']),
  );
  const page = await api.call('GET', '/docs');
  expect(page.type).toMatch(/text\/html/);
  for (const path of Object.keys(doc.paths)) expect(page.body).toContain(path);
});

test('/healthz reports the database and Temporal', async () => {
  const res = await api.call('GET', '/healthz');
  expect(res).toMatchObject({ status: 200, body: { status: 'ok', database: { ok: true }, temporal: { ok: true } } });
});
