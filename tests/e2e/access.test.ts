import { createUser } from '../../db/repositories/users';
import { pdfBase64, preProject, session, dayFromToday } from '../support/fixtures';
import { startTestApi, type Caller, type TestApi } from '../support/api';
import { inCommission } from '../support/journeys';
import { startTestSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
let api: TestApi;
let paths: Record<string, Record<string, { description: string; requestBody?: unknown }>>;

beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
  api = await startTestApi(sys);
  paths = (await api.call('GET', '/openapi.json')).body.paths;
});
afterAll(async () => {
  await api?.stop();
  await sys?.stop();
});

type Who =
  'nobody' | 'operator' | 'auditor' | 'chair' | 'member' | 'conflictedMember' | 'ownConsultant' | 'otherConsultant';
const WHO: Who[] = [
  'nobody',
  'operator',
  'auditor',
  'chair',
  'member',
  'conflictedMember',
  'ownConsultant',
  'otherConsultant',
];

function caller(who: Who): Caller | null {
  const u = api.users;
  return {
    nobody: null,
    operator: u.operator,
    auditor: u.auditor,
    chair: u.chair,
    member: u.members[0],
    conflictedMember: u.members[1],
    ownConsultant: u.consultant,
    otherConsultant: u.otherConsultant,
  }[who];
}

/** A body each route accepts as well-formed, so an allowed caller can reach the workflow and a refused one cannot. */
function validBody(path: string): unknown {
  if (path.endsWith('/decision')) return { decision: 'request_integration', motivation: 'matrix' };
  if (path.endsWith('/conflict')) return { conflicted: false };
  if (path.endsWith('/evaluations'))
    return {
      scores: { social_impact: 30, innovation: 15, feasibility: 20, territory: 10 },
      recommendation: 'approve',
      motivation: 'matrix',
    };
  if (path.endsWith('/sessions')) return { session: session(dayFromToday(3), '09:00', '10:00') };
  if (path.endsWith('/documents'))
    return { document: { kind: 'attachment', filename: 'a.pdf', contentBase64: pdfBase64() } };
  if (path.endsWith('/pre-project')) return { preProject: preProject() };
  if (path.endsWith('/sessions/confirm')) return { date: dayFromToday(1), start: '09:00', code: '000000' };
  if (path === '/users') return { name: 'Matrix', role: 'auditor' };
  return undefined;
}

/** Whether a 2xx is legitimate for this caller: the route serves the role, and the object is theirs. */
function mayPass(path: string, method: string, who: Who): boolean {
  const description = paths[path]![method]!.description;
  if (description.startsWith('No credential') || description.startsWith('No token')) return true;
  const roles = description
    .replace(/^Roles: /, '')
    .replace(/\.$/, '')
    .split(', ');
  const role = caller(who)?.role;
  if (!role || !roles.includes(role)) return false;
  if (who === 'otherConsultant' && path.startsWith('/applications/{id}')) return false;
  if (path.endsWith('/decision')) return who === 'chair';
  if (path.endsWith('/evaluations')) return who !== 'conflictedMember';
  return true;
}

test('every route, every role, own and other applications, conflicted or not: zero unexpected 2xx, no 5xx', async () => {
  const unexpected: string[] = [];
  let requests = 0;
  for (const [path, methods] of Object.entries(paths)) {
    for (const method of Object.keys(methods)) {
      // A fresh application per route, waiting for the commission; one member has declared a conflict on it.
      const id = await inCommission(sys, 'i3p');
      await api.call('POST', `/applications/${id}/conflict`, {
        token: api.users.members[1].token,
        body: { conflicted: true },
      });
      const doc = await sys.db
        .insertInto('documents')
        .values({
          application_id: id,
          kind: 'attachment',
          sha256: 'a'.repeat(64),
          filename: 'x.pdf',
          media_type: 'application/pdf',
          size_bytes: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const who of WHO) {
        const victim = (await createUser(sys.db, { name: 'to revoke', role: 'auditor' })).user.id;
        const url = path
          .replace('{id}', id)
          .replace('{documentId}', doc.id)
          .replace('{userId}', victim)
          .replace('{callId}', sys.callId);
        const res = await api.call(method.toUpperCase(), url, {
          token: caller(who)?.token ?? null,
          body: method === 'get' ? undefined : validBody(path),
        });
        requests++;
        if (res.status >= 500)
          unexpected.push(`${method} ${path} as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
        if (res.status < 300 && !mayPass(path, method, who))
          unexpected.push(`${method} ${path} as ${who}: ${res.status}`);
        if (who === 'nobody' && !mayPass(path, method, who) && res.status !== 401)
          unexpected.push(`${method} ${path} without a token: ${res.status}, not 401`);
        if (res.status < 300 && path === '/applications/{id}' && who === 'conflictedMember') {
          if (res.body.facts.evaluations.some((e: { member: string }) => e.member !== api.users.members[1].id))
            unexpected.push('a conflicted member saw the evaluations of others');
        }
      }
    }
  }
  expect(unexpected).toEqual([]);
  expect(requests).toBeGreaterThan(100);
});

test('an auditor writes nothing: every POST and DELETE is refused', async () => {
  const id = await inCommission(sys, 'i3p');
  const before = await sys.service.view(id);
  for (const [path, methods] of Object.entries(paths)) {
    for (const method of Object.keys(methods).filter((m) => m !== 'get')) {
      if (paths[path]![method]!.description.startsWith('No token')) continue;
      const res = await api.call(
        method.toUpperCase(),
        path.replace('{id}', id).replace('{userId}', api.users.operator.id),
        { token: api.users.auditor.token, body: validBody(path) },
      );
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
  }
  expect((await sys.service.view(id)).transitions).toBe(before.transitions);
});

test('malformed, mistyped and oversized input on every route: a 4xx problem, never a 5xx, state unchanged', async () => {
  const id = await inCommission(sys, 'i3p');
  const before = await sys.service.view(id);
  const tokenFor = (path: string, method: string) =>
    (WHO.map(caller).find((c) => c && mayPass(path, method, WHO[WHO.map(caller).indexOf(c)]!)) ?? api.users.operator)
      .token;
  const bad: unknown[] = [
    '{"broken": ',
    '[]',
    'null',
    { unexpected: true },
    {
      decision: 42,
      scores: 'high',
      session: [],
      document: { contentBase64: '***' },
      preProject: { title: '' },
      name: '',
      role: 'king',
    },
    { x: 'y'.repeat(3_000_000) },
  ];
  const failures: string[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const method of Object.keys(methods)) {
      const token = tokenFor(path, method);
      const targets = [
        path.replace('{id}', id),
        path.replace('{id}', 'NOT..an id'),
        path.replace('{id}', `${'a'.repeat(300)}`),
      ].map((p) =>
        p.replace('{documentId}', 'not-a-uuid').replace('{userId}', 'not-a-uuid').replace('{callId}', 'NO SUCH CALL'),
      );
      for (const url of targets) {
        for (const body of method === 'get' ? [undefined] : bad) {
          const res = await api.call(method.toUpperCase(), encodeURI(url), { token, body });
          if (res.status >= 500) failures.push(`${method} ${url} ${String(body).slice(0, 30)}: ${res.status}`);
          if (res.status >= 400 && !String(res.type).includes('problem+json'))
            failures.push(`${method} ${url}: ${res.status} is not problem+json`);
        }
      }
    }
  }
  expect(failures).toEqual([]);
  expect((await sys.service.view(id)).transitions).toBe(before.transitions);
});

test('too many requests from one caller get 429 problems', async () => {
  const limited = await startTestApi(sys, { rateLimitPerMinute: 5 });
  try {
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await limited.call('GET', '/healthz')).status);
    expect(statuses.slice(0, 5).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
  } finally {
    await limited.stop();
  }
});
