import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { dayFromToday, pdfBytes, rules2023, session } from '../support/fixtures';
import { startTestApi, type Caller, type TestApi } from '../support/api';
import { inAccompaniment, inCommission, send } from '../support/journeys';
import { startTestSystem, type TestSystem } from '../support/system';

/*
 * The HTTP API as its clients meet it, on a real port: the commission's decisions and the quorum, problem+json,
 * Idempotency-Key and Prefer, uploads and downloads, its own description, its health.
 */

/** Small enough that a test can go over it without sending megabytes. */
const DOCUMENT_MAX_BYTES = 4_096;

let sys: TestSystem;
let api: TestApi;

beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30, env: { DOCUMENT_MAX_BYTES: String(DOCUMENT_MAX_BYTES) } });
  api = await startTestApi(sys);
});
afterAll(async () => {
  await api?.stop();
  await sys?.stop();
});

const decide = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  api.call('POST', `/applications/${id}/decision`, { token: api.users.chair.token, body, headers });
const asMember = (m: Caller, id: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  api.call('POST', `/applications/${id}/${path}`, { token: m.token, body, headers });

const scores = { social_impact: 32, innovation: 15, feasibility: 20, territory: 10 };
const evaluation = (recommendation: string, motivation: string) => ({ scores, recommendation, motivation });

describe('the commission', () => {
  test('the chair records a decision; the answer is the register view, the audit trail names the chair', async () => {
    const id = await inCommission(sys);
    const res = await decide(id, { decision: 'approve', motivation: 'Convincing plan.' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      applicationId: id,
      state: 'admitted',
      facts: { admittedCents: 4_000_000, motivation: 'Convincing plan.' },
    });
    const approval = (await sys.view(id)).timeline.find((t) => t.event === 'APPROVE');
    expect(approval).toMatchObject({ to: 'admitted', actor: 'Chiara Presidente', role: 'commission' });
  });

  test('members declare and evaluate; the third evaluation makes the quorum and its majority decides', async () => {
    const id = await inCommission(sys);
    const [m1, m2] = api.users.members;
    const chair = api.users.chair; // the chair evaluates too, as a member
    for (const m of [m1, m2, chair])
      expect((await asMember(m, id, 'conflict', { conflicted: false })).status).toBe(200);
    const first = await asMember(m1, id, 'evaluations', evaluation('approve', 'Strong impact.'));
    expect(first.body).toMatchObject({ state: 'commission', facts: { evaluations: [{ member: m1.id }] } });
    expect((await asMember(m2, id, 'evaluations', evaluation('approve', 'Agree.'))).body.state).toBe('commission');
    const decided = await asMember(chair, id, 'evaluations', evaluation('reject', 'Too costly.'));
    expect(decided.body).toMatchObject({
      state: 'admitted',
      facts: { motivation: expect.stringMatching(/quorum: 3 evaluations \(approve 2, reject 1/) },
    });
  });

  test('an evaluation before the declaration is refused with a 409 saying what comes first', async () => {
    const id = await inCommission(sys);
    const res = await asMember(api.users.members[0], id, 'evaluations', evaluation('approve', 'x'));
    expect(res).toMatchObject({
      status: 409,
      body: { code: 'event_refused', detail: expect.stringMatching(/declare/) },
    });
  });

  test("scores outside the call's criteria are refused, naming them", async () => {
    const id = await inCommission(sys);
    const m = api.users.members[0];
    await asMember(m, id, 'conflict', { conflicted: false });
    const res = await asMember(m, id, 'evaluations', {
      scores: { social_impact: 99, innovation: 15, feasibility: 20, charisma: 5 },
      recommendation: 'approve',
      motivation: 'x',
    });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/missing scores for territory/);
    expect(res.body.detail).toMatch(/unknown criteria charisma/);
    expect(res.body.detail).toMatch(/social_impact above 40/);
    expect((await sys.view(id)).facts!.evaluations).toEqual([]);
  });

  test('a decision the lifecycle does not expect is a 409 problem naming why', async () => {
    const id = await inCommission(sys);
    await decide(id, { decision: 'reject', motivation: 'No.' });
    const res = await decide(id, { decision: 'approve', motivation: 'Changed our mind.' });
    expect(res.status).toBe(409);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: 'urn:innosocial:problem:event_refused',
      title: 'Refused by the application lifecycle',
      status: 409,
      code: 'event_refused',
      detail: expect.stringMatching(/rejected, a final state/),
    });
  });
});

describe('Idempotency-Key and Prefer', () => {
  test('a request retried with the same key counts once, and the retry is answered like the first', async () => {
    const id = await inCommission(sys);
    const key = `req-${randomUUID()}`;
    const body = { decision: 'request_integration', motivation: 'Add indicators.' };
    const first = await decide(id, body, { 'idempotency-key': key });
    const retry = await decide(id, body, { 'idempotency-key': key });
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.body).toMatchObject({ state: 'pre_project', facts: { integrationRequests: 1 } });
    const view = await sys.view(id);
    expect(view.facts!.integrationRequests).toBe(1);
    expect(view.timeline.filter((t) => t.event === 'REQUEST_INTEGRATION')).toHaveLength(1);
    // Without the key the same request is a new one, which the lifecycle now refuses.
    expect((await decide(id, body)).status).toBe(409);
  });

  test("another caller's request with the same key is theirs: it never gets the first caller's result", async () => {
    const id = await inCommission(sys);
    const [m1, m2] = api.users.members;
    const key = `shared-${randomUUID()}`;
    const first = await asMember(m1, id, 'conflict', { conflicted: false }, { 'idempotency-key': key });
    const second = await asMember(m2, id, 'conflict', { conflicted: true }, { 'idempotency-key': key });
    expect([first.status, second.status]).toEqual([200, 200]);
    // Each answer is its caller's own: a member reads only their own declaration before evaluating.
    expect(first.body.facts.conflicts).toEqual({ [m1.id]: false });
    expect(second.body.facts.conflicts).toEqual({ [m2.id]: true });
    expect((await sys.view(id)).facts!.conflicts).toEqual({ [m1.id]: false, [m2.id]: true });
  });

  test('with Prefer: respond-async the command travels as a signal and is answered 202', async () => {
    const id = await inCommission(sys);
    const res = await decide(id, { decision: 'reject', motivation: 'Out of scope.' }, { prefer: 'respond-async' });
    expect(res).toMatchObject({ status: 202, body: { delivered: true, applicationId: id } });
    await expect(sys.client.workflow.getHandle(id).result()).resolves.toMatchObject({ state: 'rejected' });
    expect((await sys.view(id)).state).toBe('rejected');
  });
});

describe('documents', () => {
  const upload = (id: string, document: Record<string, unknown>, token = api.users.consultant.token) =>
    api.call('POST', `/applications/${id}/documents`, { token, body: { document } });
  const pdf = (bytes: Buffer, filename = 'piano.pdf') => ({
    kind: 'attachment',
    filename,
    contentBase64: bytes.toString('base64'),
  });
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const download = (id: string, documentId: string, token = api.users.consultant.token) =>
    fetch(`${api.base}/applications/${id}/documents/${documentId}`, { headers: { authorization: `Bearer ${token}` } });
  const documentRows = async (id: string) =>
    sys.db.selectFrom('documents').selectAll().where('application_id', '=', id).execute();

  test('an upload is stored by its SHA-256, then attached by reference; the download is the same bytes', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const bytes = pdfBytes(`plan ${randomUUID()}`);
    const res = await upload(id, pdf(bytes, 'piano di lavoro.pdf'));
    expect(res.status).toBe(200);
    const [doc] = res.body.documents;
    expect(doc).toMatchObject({
      kind: 'attachment',
      filename: 'piano di lavoro.pdf',
      mediaType: 'application/pdf',
      sizeBytes: bytes.length,
      sha256: sha256(bytes),
      attachedAt: expect.any(String),
    });
    const blob = await sys.db
      .selectFrom('document_blobs')
      .selectAll()
      .where('sha256', '=', sha256(bytes))
      .executeTakeFirstOrThrow();
    expect(Buffer.from(blob.content).equals(bytes)).toBe(true);
    // What the workflow heard is the reference: the audit row's summary names the digest, not the content.
    const attached = (await sys.view(id)).timeline.find((t) => t.event === 'ATTACH_DOCUMENT')!;
    expect(JSON.stringify(attached)).not.toContain(bytes.toString('base64'));

    const got = await download(id, doc.documentId);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(got.headers.get('content-disposition')).toBe('attachment; filename="piano_di_lavoro.pdf"');
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test('an upload the lifecycle refuses stays stored, never attached, and cannot be downloaded', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    await send(sys, id, { type: 'WITHDRAW', reason: 'the company renounces' });
    const res = await upload(id, pdf(pdfBytes(`late ${randomUUID()}`)), api.users.operator.token);
    expect(res).toMatchObject({ status: 409, body: { code: 'event_refused' } });
    const [row] = await documentRows(id);
    expect(row).toMatchObject({ attached_at: null });
    expect((await sys.view(id)).documents).toEqual([]);
    expect((await download(id, row!.id, api.users.operator.token)).status).toBe(404);
  });

  test('a file that is not a PDF, ODT, DOCX or P7M is a 400 naming the field; nothing is stored', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const res = await upload(id, pdf(Buffer.from('MZ\x90\x00 this is a program, not a document'), 'tool.pdf'));
    expect(res).toMatchObject({ status: 400, body: { code: 'invalid_input' } });
    expect(res.body.errors[0].path).toMatch(/^body\.document/);
    expect(res.body.detail).toMatch(/tool\.pdf is not a PDF, ODT, DOCX or signed P7M/);
    const badBase64 = await upload(id, { kind: 'attachment', filename: 'x.pdf', contentBase64: '%%%' });
    expect(badBase64).toMatchObject({ status: 400, body: { errors: [{ path: 'body.document.contentBase64' }] } });
    expect(await documentRows(id)).toEqual([]);
  });

  test('a file over the size limit is a 413; nothing is stored', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const big = pdfBytes('x'.repeat(DOCUMENT_MAX_BYTES));
    const res = await upload(id, pdf(big));
    expect(res).toMatchObject({
      status: 413,
      body: { code: 'payload_too_large', errors: [{ path: 'body.document' }] },
    });
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(new RegExp(`limit is ${DOCUMENT_MAX_BYTES}`));
    expect(await documentRows(id)).toEqual([]);
  });

  test('a damaged stored copy is never served: 410', async () => {
    const id = await inAccompaniment(sys, 'i3p');
    const bytes = pdfBytes(`to be damaged ${randomUUID()}`);
    const [doc] = (await upload(id, pdf(bytes))).body.documents;
    const damaged = Buffer.from(bytes);
    damaged.writeUInt8(damaged.readUInt8(10) ^ 0xff, 10); // one flipped byte, same size: what a bad disk does
    await sys.db.updateTable('document_blobs').set({ content: damaged }).where('sha256', '=', doc.sha256).execute();
    const got = await download(id, doc.documentId);
    expect(got.status).toBe(410);
    expect(got.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await got.json()).toMatchObject({ code: 'document_unavailable' });
  });
});

describe('problem+json: bad input is a 4xx naming the field, never a 5xx, and changes nothing', () => {
  const cases: [string, unknown, Record<string, string>, number, string][] = [
    ['unknown decision', { decision: 'maybe', motivation: 'x' }, {}, 400, 'body.decision'],
    ['missing motivation', { decision: 'approve' }, {}, 400, 'body.motivation'],
    ['smuggled field', { decision: 'approve', motivation: 'x', admittedCents: 99_999_999 }, {}, 400, 'body'],
    ['not JSON', '{"decision": ', {}, 400, 'body'],
    ['array body', '[1,2]', {}, 400, 'body'],
    ['a form, not JSON', 'decision=approve', { 'content-type': 'application/x-www-form-urlencoded' }, 415, ''],
    [
      'bad idempotency key',
      { decision: 'approve', motivation: 'x' },
      { 'idempotency-key': 'x' },
      400,
      'header.Idempotency-Key',
    ],
    ['oversized body', { decision: 'approve', motivation: 'x'.repeat(100_000) }, {}, 413, ''],
  ];
  let id: string;
  beforeAll(async () => {
    id = await inCommission(sys);
  });

  test.each(cases)('%s', async (_name, body, headers, status, field) => {
    const res = await decide(id, body, headers);
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^urn:innosocial:problem:/) });
    if (field) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    expect((await sys.view(id)).state).toBe('commission');
  });

  test('an unknown, a malformed or a wandering application id', async () => {
    const ok = { decision: 'approve', motivation: 'x' };
    expect(await decide('innosocialmetro-2023.0123456789abcdef0123', ok)).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect((await decide('../../etc', ok)).status).toBe(404);
    const malformed = await decide('not-an-id', ok);
    expect(malformed).toMatchObject({ status: 400, body: { errors: [{ path: 'path.id' }] } });
  });

  test('no token is a 401, a revoked or unknown one too, a role the route does not serve a 403', async () => {
    const path = `/applications/${id}`;
    expect(await api.call('GET', path)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await api.call('GET', path, { token: 'ism_not-a-token' })).toMatchObject({ status: 401 });
    const forbidden = await api.call('POST', `/applications/${id}/forward`, { token: api.users.auditor.token });
    expect(forbidden).toMatchObject({
      status: 403,
      body: { code: 'forbidden', detail: expect.stringMatching(/auditor/) },
    });
    expect(await api.call('GET', '/no/such/route')).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });
});

describe('users', () => {
  test('an operator creates one (its token shown once), lists them without tokens, revokes it', async () => {
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
    expect((await api.call('DELETE', `/users/${created.body.user.id}`, { token: op })).status).toBe(404);
    const noBody = await api.call('POST', '/users', { token: op, body: { name: 'X', role: 'consultant' } });
    expect(noBody.body.errors[0].path).toBe('body.body');
    const unknownBody = await api.call('POST', '/users', {
      token: op,
      body: { name: 'X', role: 'consultant', body: 'no-such-body' },
    });
    expect(unknownBody).toMatchObject({ status: 400, body: { errors: [{ path: 'body.body' }] } });
  });
});

describe('the API describes itself', () => {
  type JsonSchema = Parameters<typeof z.fromJSONSchema>[0] & object;
  type Operation = {
    summary: string;
    description: string;
    parameters: { name: string; in: string }[];
    requestBody?: { content: Record<string, { schema: JsonSchema }> };
    responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  };
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    const res = await api.call('GET', '/openapi.json');
    expect(res).toMatchObject({ status: 200, body: { openapi: '3.1.0' } });
    paths = res.body.paths;
  });
  const operations = () =>
    Object.entries(paths).flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => ({ path, m, op })));

  test('every route answers with a described schema: its success and its problems', () => {
    const undescribed: string[] = [];
    for (const { path, m, op } of operations()) {
      const [status, ok] = Object.entries(op.responses).find(([s]) => /^2\d\d$/.test(s) && s !== '202')!;
      const json = ok.content?.['application/json']?.schema as { type?: string; properties?: object } | undefined;
      const file = Object.entries(ok.content ?? {}).find(([type]) => type !== 'application/json');
      // A JSON answer names what it holds: an array's items or an object's properties, not a bare "object".
      const described = file || (json && (json.type === 'array' || json.properties || 'anyOf' in json));
      if (!described) undescribed.push(`${m.toUpperCase()} ${path} (${status})`);
      if (op.responses['202'] && !op.responses['202'].content) undescribed.push(`${m.toUpperCase()} ${path} (202)`);
      for (const [code, r] of Object.entries(op.responses).filter(([s]) => Number(s) >= 400)) {
        const schema = r.content?.['application/problem+json']?.schema ?? r.content?.['application/json']?.schema;
        if (!schema) undescribed.push(`${m.toUpperCase()} ${path} (${code})`);
      }
    }
    expect(undescribed).toEqual([]);
    expect(operations().length).toBeGreaterThan(30);
  });

  test('the criteria route is described, and answers what members score', async () => {
    const criteria = paths['/calls/{callId}/criteria']!.get!;
    expect(criteria.parameters).toEqual([expect.objectContaining({ name: 'callId', in: 'path' })]);
    expect(criteria.responses['200']!.content!['application/json']!.schema).toMatchObject({
      properties: { criteria: { type: 'array' }, quorum: { type: 'number' } },
    });
    expect(paths['/applications/{id}/evaluations']!.post!.summary).toContain('GET /calls/{callId}/criteria');
    const res = await api.call('GET', `/calls/${sys.callId}/criteria`, { token: api.users.members[0].token });
    expect(res).toMatchObject({ status: 200, body: { callId: sys.callId, quorum: 3, minimumScoreBps: 6000 } });
    expect(res.body.criteria.map((c: { code: string }) => c.code)).toEqual(
      rules2023.commission.criteria.map((c) => c.code),
    );
    expect(
      z.fromJSONSchema(criteria.responses['200']!.content!['application/json']!.schema).safeParse(res.body),
    ).toMatchObject({ success: true });
    expect(await api.call('GET', '/calls/no-such-call/criteria', { token: api.users.operator.token })).toMatchObject({
      status: 404,
    });
  });

  test('a command documents its body, Idempotency-Key, Prefer and every answer', () => {
    const decision = paths['/applications/{id}/decision']!.post!;
    expect(decision.requestBody!.content['application/json']!.schema).toMatchObject({
      properties: { decision: { enum: ['approve', 'reject', 'request_integration'] } },
      required: ['decision', 'motivation'],
      additionalProperties: false,
    });
    expect(decision.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['path:id', 'header:Idempotency-Key', 'header:Prefer']),
    );
    expect(Object.keys(decision.responses)).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', '403', '404', '409', '413', '415', '429']),
    );
  });

  test('the docs page loads its reference from this process only: every asset answers, over /openapi.json', async () => {
    const page = await api.call('GET', '/docs');
    expect(page.type).toMatch(/^text\/html/);
    // What the browser would fetch: every script and stylesheet, each from this origin (tests/browser drives it).
    const assets = [...String(page.body).matchAll(/<(?:script[^>]+src|link[^>]+href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\//);
      const answer = await api.call('GET', asset);
      expect([asset, answer.status, answer.type]).toEqual([asset, 200, expect.stringMatching(/javascript|css/)]);
    }
    const init = await api.call('GET', '/docs/init.js');
    expect(init.body).toContain("url: '/openapi.json'");
  });

  test('/healthz reports the database and Temporal', async () => {
    const res = await api.call('GET', '/healthz');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok', database: { ok: true }, temporal: { ok: true } } });
  });
});

describe('/metrics', () => {
  test('counts the register by call and state, requests by route pattern: no ids, no personal data', async () => {
    const id = await inAccompaniment(sys);
    await api.call('GET', `/applications/${id}`, { token: api.users.operator.token });
    const res = await api.call('GET', '/metrics');
    expect(res.status).toBe(200);
    const states = await sys.db
      .selectFrom('applications')
      .select(['state', (eb) => eb.fn.countAll<string>().as('n')])
      .where('call_id', '=', sys.callId)
      .groupBy('state')
      .execute();
    for (const { state, n } of states) {
      expect(res.body).toContain(`innosocial_applications{call="${sys.callId}",state="${state}"} ${n}`);
    }
    expect(res.body).toMatch(/innosocial_http_requests_total\{route="\/applications\/:id",method="GET",status="200"\}/);
    const form = sys.form();
    for (const secret of [id, form.company.vatNumber, form.company.legalRepresentative.email]) {
      expect(res.body).not.toContain(secret);
    }
  });

  test('with METRICS_TOKEN only its bearer reads them; a stranger gets a 401 problem', async () => {
    const token = randomUUID() + randomUUID();
    const guarded = await startTestApi(sys, { config: { METRICS_TOKEN: token } });
    try {
      expect((await guarded.call('GET', '/metrics')).status).toBe(401);
      const wrong = await guarded.call('GET', '/metrics', { token: api.users.operator.token });
      expect([wrong.status, wrong.type]).toEqual([401, expect.stringMatching(/^application\/problem\+json/)]);
      expect((await guarded.call('GET', '/metrics', { token })).status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });

  test('without a token, behind a proxy, nobody reads them: every request would come from loopback', async () => {
    const proxied = await startTestApi(sys, { config: { TRUST_PROXY: true } });
    try {
      expect((await proxied.call('GET', '/metrics')).status).toBe(401);
    } finally {
      await proxied.stop();
    }
  });
});

describe('the consultant', () => {
  test('logs sessions of their own body only; the list shows them their own', async () => {
    const own = await inAccompaniment(sys, 'i3p');
    const other = await inAccompaniment(sys, 'nemo');
    const c = api.users.consultant.token;
    const body = { session: session(dayFromToday(1), '09:00', '13:00') };
    expect(await api.call('POST', `/applications/${own}/sessions`, { token: c, body })).toMatchObject({
      status: 200,
      body: { facts: { sessionsLogged: 1 } },
    });
    expect(await api.call('POST', `/applications/${other}/sessions`, { token: c, body })).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect((await sys.view(other)).facts!.sessionsLogged).toBe(0);
    const listed = await api.call('GET', '/applications', { token: c });
    const ids = listed.body.items.map((a: { applicationId: string }) => a.applicationId);
    expect(ids).toContain(own);
    expect(ids).not.toContain(other);
    expect(listed.body.items.every((a: { implementingBody: string }) => a.implementingBody === 'i3p')).toBe(true);
  });
});
