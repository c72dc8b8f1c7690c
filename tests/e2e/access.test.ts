import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createUser } from '../../db/repositories/users';
import { romeToday } from '../../domain/rome';
import { dayFromToday, pdfBase64, preProject, session } from '../support/fixtures';
import { startTestApi, type Caller, type TestApi } from '../support/api';
import {
  attach,
  decide,
  eightHours,
  inAccompaniment,
  inCommission,
  inPreProject,
  registered,
  send,
} from '../support/journeys';
import { PEOPLE } from '../support/people';
import {
  disbursedMonthsAgo,
  finalReport,
  fundedProject,
  projectIn,
  toProject,
  verdict,
  type ProjectSys,
} from '../support/project-journeys';
import { startTestSystem, type TestSystem } from '../support/system';

/*
 * The access-control matrix (issue 10): every route the API publishes in /openapi.json (a new route is in it by
 * itself), every kind of caller, on applications that are theirs and that are not. Then every route again with
 * malformed, mistyped and oversized input.
 */

let sys: TestSystem;
let api: TestApi;

type JsonSchema = Parameters<typeof z.fromJSONSchema>[0] & object;
interface Operation {
  description: string;
  requestBody?: { content: Record<string, { schema: { additionalProperties?: unknown } }> };
  parameters: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}
interface Route {
  key: string;
  path: string;
  method: string;
  op: Operation;
}
let routes: Route[];

beforeAll(async () => {
  // Its own database: a refusal must change nothing, and other test files write to the shared one meanwhile.
  sys = await startTestSystem({ clockOffsetDays: 30, privateDatabase: true });
  // The matrix sends thousands of requests from one address: the limits have their own tests (company.test.ts).
  api = await startTestApi(sys, { rateLimit: { perMinute: 1_000_000, strictPerMinute: 1_000_000 } });
  const paths: Record<string, Record<string, Operation>> = (await api.call('GET', '/openapi.json')).body.paths;
  routes = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, method, op })),
  );
  // Budgets are read and set below: the call has one from the start.
  await api.call('PUT', `/calls/${sys.callId}/budget`, { token: api.users.operator.token, body: { totalCents: 5e8 } });
}, 300_000);
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
const BODY_OF: Partial<Record<Who, string>> = { ownConsultant: 'i3p', otherConsultant: 'nemo' };

/** An application as a route meets it: whose body it is, whether the commission got it, who declared a conflict. */
interface Subject {
  id: string;
  body: 'i3p' | 'nemo';
  forwarded: boolean;
  documentId?: string;
  session?: { date: string; start: string };
  /** A complete final report of the project, its documents stored: what the final-report route is sent. */
  report?: unknown;
}

/**
 * Where an application must stand for a route's command to succeed when an allowed caller sends it: so a refused
 * caller is refused by the door, not by the lifecycle, and the test could see a door left open.
 */
type ApplicationStage =
  'submitted' | 'accompaniment' | 'session' | 'hours' | 'preProject' | 'forwardable' | 'commission' | 'admitted';
/** The funded project: carried out, its final report due, under verification, a revocation intended, recovering. */
type ProjectStage = 'funded' | 'reportDue' | 'verifying' | 'intended' | 'recovering';
type Stage = ApplicationStage | ProjectStage;
const STAGE: Record<string, Stage> = {
  'POST /applications/{id}/assignment': 'submitted',
  'POST /applications/{id}/commands': 'accompaniment',
  'POST /applications/{id}/sessions': 'accompaniment',
  'POST /applications/{id}/documents': 'accompaniment',
  'POST /applications/{id}/withdrawal': 'accompaniment',
  'POST /applications/{id}/sessions/resend-code': 'session',
  'POST /applications/{id}/sessions/confirm': 'session',
  'POST /applications/{id}/sessions/dispute': 'session',
  'POST /applications/{id}/accompaniment/complete': 'hours',
  'POST /applications/{id}/pre-project': 'preProject',
  'POST /applications/{id}/forward': 'forwardable',
  'POST /applications/{id}/conflict': 'commission',
  'POST /applications/{id}/evaluations': 'commission',
  'POST /applications/{id}/decision': 'commission',
  'POST /applications/{id}/funding': 'admitted',
  'POST /applications/{id}/project/documents': 'funded',
  'POST /applications/{id}/project/interim-report': 'funded',
  'POST /applications/{id}/project/extension': 'funded',
  'POST /applications/{id}/project/revocation': 'funded',
  'POST /applications/{id}/project/withdrawal': 'funded',
  'POST /applications/{id}/project/final-report': 'reportDue',
  'POST /applications/{id}/project/verification': 'verifying',
  'POST /applications/{id}/project/observations': 'intended',
  'POST /applications/{id}/project/decision': 'intended',
  'POST /applications/{id}/project/repayment': 'recovering',
};
const PROJECT_STAGES: readonly string[] = ['funded', 'reportDue', 'verifying', 'intended', 'recovering'];
const FIGURES = { measured: [2, 9], spentCents: [5_000_000, 3_000_000] };
const SESSION = { date: dayFromToday(5), start: '09:00' };

/** A funded project of `body`'s, brought to `stage` by the people who would: the matrix then knocks on its doors. */
async function projectSubject(stage: ProjectStage, body: 'i3p' | 'nemo'): Promise<Subject> {
  const admit = async (s: ProjectSys, plan: Parameters<typeof inCommission>[2]) => {
    const id = await inCommission(s, body, plan);
    await decide(s, id, 'APPROVE');
    return id;
  };
  const due = stage === 'reportDue' || stage === 'verifying';
  // Disbursed a realisation period ago: on the real server, whose clock stays put, the report falls due at once.
  const id = await fundedProject(sys, { admit, ...(due ? { disbursedOn: disbursedMonthsAgo() } : {}) });
  const subject: Subject = { id, body, forwarded: true };
  if (due) {
    await projectIn(sys, id, 'final_report_due');
    const report = await finalReport(sys, id, FIGURES);
    if (stage === 'reportDue') return { ...subject, report };
    await toProject(sys, id, { type: 'SUBMIT_FINAL_REPORT', report });
  }
  if (stage === 'intended') await toProject(sys, id, { type: 'START_REVOCATION', reasons: ['not carried out'] });
  if (stage === 'recovering') await toProject(sys, id, { type: 'WITHDRAW', reason: 'the company gives up' });
  return subject;
}

async function subject(stage: Stage | 'read' | 'unforwarded', body: 'i3p' | 'nemo'): Promise<Subject> {
  if (PROJECT_STAGES.includes(stage)) return projectSubject(stage as ProjectStage, body);
  if (stage === 'submitted') return { id: await registered(sys), body, forwarded: false };
  if (stage === 'accompaniment') return { id: await inAccompaniment(sys, body), body, forwarded: false };
  if (stage === 'session' || stage === 'hours') {
    const id = await inAccompaniment(sys, body);
    if (stage === 'hours') await eightHours(sys, id);
    const logged = { type: 'LOG_SESSION', session: session(SESSION.date, SESSION.start, '10:00') } as const;
    await send(sys, id, logged, PEOPLE.consultant);
    return { id, body, forwarded: false, session: SESSION };
  }
  if (stage === 'preProject' || stage === 'forwardable' || stage === 'unforwarded') {
    const id = await inPreProject(sys, body);
    if (stage !== 'preProject') await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() });
    const documentId = stage === 'unforwarded' ? (await attach(sys, id)).documentId : undefined;
    return { id, body, forwarded: false, ...(documentId ? { documentId } : {}) };
  }
  const id = await inCommission(sys, body);
  // One member declared no conflict, another declared one: the conflicted member of the matrix.
  const member = api.users.members[0];
  const conflicted = api.users.members[1];
  await api.call('POST', `/applications/${id}/conflict`, { token: member.token, body: { conflicted: false } });
  await api.call('POST', `/applications/${id}/conflict`, { token: conflicted.token, body: { conflicted: true } });
  if (stage === 'admitted') await decide(sys, id, 'APPROVE');
  if (stage === 'read') {
    await api.call('POST', `/applications/${id}/evaluations`, {
      token: member.token,
      body: { scores, recommendation: 'approve', motivation: 'read' },
    });
  }
  const documentId = stage === 'read' ? (await attach(sys, id)).documentId : undefined;
  return { id, body, forwarded: true, ...(documentId ? { documentId } : {}) };
}

const scores = { social_impact: 30, innovation: 15, feasibility: 20, territory: 10 };

/** A body each route accepts as well formed (a wrong code for the company's routes: nobody may pass those). */
const BODIES: Record<string, (who: Who, s: Subject | null, unique: string) => unknown> = {
  'POST /applications': () => sys.form(),
  'POST /applications/{id}/commands': () => ({ type: 'WITHDRAW', reason: 'matrix' }),
  'POST /applications/{id}/assignment': (_who, s, unique) => ({
    implementingBody: s!.body,
    consultant: { name: `Matrix ${unique}`, email: `matrix.${unique}@${s!.body}.example.org` },
  }),
  'POST /applications/{id}/sessions': (who) => {
    const hour = String(8 + WHO.indexOf(who)).padStart(2, '0');
    return { session: session(dayFromToday(6), `${hour}:00`, `${hour}:30`) };
  },
  'POST /applications/{id}/sessions/resend-code': () => SESSION,
  'POST /applications/{id}/sessions/confirm': () => ({ ...SESSION, code: '000000' }),
  'POST /applications/{id}/sessions/dispute': () => ({ ...SESSION, code: '000000' }),
  'POST /applications/{id}/pre-project': () => ({ preProject: preProject() }),
  'POST /applications/{id}/documents': (_who, _s, unique) => ({
    document: { kind: 'attachment', filename: 'a.pdf', contentBase64: pdfBase64(unique) },
  }),
  'POST /applications/{id}/conflict': () => ({ conflicted: false }),
  'POST /applications/{id}/evaluations': () => ({ scores, recommendation: 'approve', motivation: 'matrix' }),
  'POST /applications/{id}/decision': () => ({ decision: 'request_integration', motivation: 'matrix' }),
  'POST /applications/{id}/funding': () => ({ amountCents: 1_000_000, disbursedOn: romeToday(new Date()) }),
  'POST /applications/{id}/withdrawal': () => ({ reason: 'matrix' }),
  'POST /users': (_who, _s, unique) => ({ name: `Matrix ${unique}`, role: 'auditor' }),
  'PUT /calls/{callId}/budget': () => ({ totalCents: 5e8 }),
  'POST /mail/requeue': () => ({ allFailed: true }),
  'POST /codec/decode': () => ({ payloads: [] }),
  'POST /applications/{id}/project/documents': (_who, _s, unique) => ({
    document: { kind: 'invoice', filename: 'fattura.pdf', contentBase64: pdfBase64(unique) },
  }),
  'POST /applications/{id}/project/interim-report': () => ({
    report: { asOf: romeToday(new Date()), narrative: 'matrix', spentToDateCents: 100_000, documents: [] },
  }),
  'POST /applications/{id}/project/extension': () => ({ months: 2, reason: 'matrix' }),
  'POST /applications/{id}/project/revocation': () => ({ reasons: ['matrix'] }),
  'POST /applications/{id}/project/withdrawal': () => ({ reason: 'matrix' }),
  'POST /applications/{id}/project/final-report': (_who, s) => ({ report: s!.report }),
  'POST /applications/{id}/project/verification': () => ({ costLines: verdict(...FIGURES.spentCents) }),
  'POST /applications/{id}/project/observations': () => ({
    observations: { receivedOn: romeToday(new Date()), summary: 'matrix', documents: [] },
  }),
  'POST /applications/{id}/project/decision': () => ({ decision: 'drop', motivation: 'matrix' }),
  'POST /applications/{id}/project/repayment': () => ({ amountCents: 100_000, repaidOn: romeToday(new Date()) }),
};
const validBody = (key: string, who: Who, s: Subject | null) => BODIES[key]?.(who, s, randomUUID().slice(0, 8));

const rolesOf = (op: Operation) =>
  op.description.startsWith('Roles: ') ? op.description.slice(7).replace(/\.$/, '').split(', ') : null;

/** Whether a 2xx is legitimate: the route serves the caller's role, and the application is one they may act on. */
function mayPass(r: Route, who: Who, s: Subject | null): boolean {
  if (r.op.description.startsWith('No credential')) return true;
  const roles = rolesOf(r.op);
  if (!roles) return false; // the company's routes, with a wrong code: nobody
  const c = caller(who);
  if (!c || !roles.includes(c.role)) return false;
  if (!s) return true;
  if (c.role === 'consultant' && s.body !== BODY_OF[who]) return false;
  if (c.role === 'commission' && !s.forwarded) return false;
  if (who === 'conflictedMember' && /\/(evaluations|decision|conflict)$/.test(r.path)) return false;
  if (r.key === 'POST /applications/{id}/decision') return who === 'chair';
  return true;
}

function urlOf(r: Route, s: Subject | null, victim: string, message: string) {
  const values: Record<string, string> = {
    id: s?.id ?? '',
    documentId: s?.documentId ?? randomUUID(),
    userId: victim,
    callId: sys.callId,
    messageId: message,
  };
  return r.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? name));
}

/** An outbox message marked failed, so a requeue of it has something to do. */
async function failedMessage(): Promise<string> {
  const row = await sys.db.selectFrom('notification_outbox').select('id').orderBy('id').executeTakeFirstOrThrow();
  await sys.db.updateTable('notification_outbox').set({ failed_at: new Date() }).where('id', '=', row.id).execute();
  return row.id;
}

/** Runs at most `lanes` at a time: the fixtures are many, the machine has two cores and neighbours. */
async function inLanes<T, R>(items: T[], lanes: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i]!);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return out;
}

/** What a leaky 2xx would show: another body's applications, the commission's unforwarded ones, others' work. */
async function leaks(r: Route, who: Who, body: any): Promise<string[]> {
  const found: string[] = [];
  if (r.key === 'GET /applications' && BODY_OF[who]) {
    for (const i of body.items) if (i.implementingBody !== BODY_OF[who]) found.push(`${i.applicationId} listed`);
  }
  if (r.key === 'GET /applications' && caller(who)?.role === 'commission') {
    const forwarded = await sys.db
      .selectFrom('pre_projects')
      .select('application_id')
      .where('forwarded_at', 'is not', null)
      .execute();
    const ids = new Set(forwarded.map((f) => f.application_id));
    for (const i of body.items) if (!ids.has(i.applicationId)) found.push(`unforwarded ${i.applicationId} listed`);
  }
  if (r.key === 'GET /applications/{id}' && (who === 'conflictedMember' || BODY_OF[who])) {
    const me = caller(who)!.id;
    if (body.facts.evaluations.some((e: { member: string }) => e.member !== me)) found.push("others' evaluations");
  }
  if (r.key === 'GET /users' && JSON.stringify(body).match(/token/)) found.push('tokens');
  if (r.key === 'GET /applications.csv' && /example\.org|Ferraris/.test(String(body))) found.push('personal data');
  return found;
}

/**
 * Everything a refused request could have changed. `counters`: the wrong codes counted against sessions and
 * applications, which a refused answer on the company's routes does change, on purpose.
 */
async function footprint(counters = true) {
  const count = async (
    table: 'applications' | 'audit_events' | 'documents' | 'document_blobs' | 'pre_projects' | 'consultants',
  ) =>
    Number(
      (
        await sys.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const sum = async <T extends string>(q: Promise<Record<T, unknown>[]>) => JSON.stringify(await q);
  return {
    applications: await count('applications'),
    audit: await count('audit_events'),
    documents: await count('documents'),
    blobs: await count('document_blobs'),
    preProjects: await count('pre_projects'),
    consultants: await count('consultants'),
    register: await sum(
      sys.db
        .selectFrom('applications')
        .select(['id', 'last_seq', 'state', ...(counters ? (['code_failures'] as const) : [])])
        .orderBy('id')
        .execute(),
    ),
    users: await sum(sys.db.selectFrom('users').select(['id', 'revoked_at']).orderBy('id').execute()),
    budgets: await sum(sys.db.selectFrom('call_budgets').selectAll().orderBy('call_id').execute()),
    outbox: await sum(sys.db.selectFrom('notification_outbox').select(['id', 'failed_at']).orderBy('id').execute()),
    projects: await sum(
      sys.db.selectFrom('projects').select(['application_id', 'last_seq', 'state']).orderBy('application_id').execute(),
    ),
    recoveries: await sum(sys.db.selectFrom('recovery_orders').selectAll().orderBy('application_id').execute()),
    sessions: await sum(
      sys.db
        .selectFrom('accompaniment_sessions')
        .select(['id', 'confirmed_at', ...(counters ? (['confirmation_attempts'] as const) : [])])
        .orderBy('id')
        .execute(),
    ),
  };
}

test('every route × every caller × own and other applications: zero unexpected 2xx, refusals as due', async () => {
  const appRoute = (r: Route) => r.path.startsWith('/applications/{id}');
  const stageOf = (r: Route): Stage | 'read' => (r.method === 'get' ? 'read' : (STAGE[r.key] ?? 'commission'));
  // Reads share their applications (they change nothing); each command gets its own pair.
  const reads = await inLanes(
    [
      ['read', 'i3p'],
      ['read', 'nemo'],
      ['unforwarded', 'i3p'],
    ] as const,
    3,
    ([stage, body]) => subject(stage, body),
  );
  // A project is read where there is one: funded projects of either body.
  const projectReads = await inLanes(['i3p', 'nemo'] as const, 2, (body) => subject('funded', body));
  const commands = routes.filter((r) => appRoute(r) && r.method !== 'get');
  const pairs = await inLanes(commands, 3, async (r) =>
    Promise.all([subject(stageOf(r) as Stage, 'i3p'), subject(stageOf(r) as Stage, 'nemo')]),
  );
  const subjectsOf = (r: Route): (Subject | null)[] =>
    !appRoute(r)
      ? [null]
      : r.method !== 'get'
        ? pairs[commands.indexOf(r)]!
        : r.path.startsWith('/applications/{id}/project')
          ? projectReads
          : reads;

  const unexpected: string[] = [];
  const succeeded = new Set<string>();
  let requests = 0;
  for (const r of routes) {
    for (const s of subjectsOf(r)) {
      // The callers the route must refuse go first: a command that succeeds may change what the others meet.
      const order = [...WHO].sort((a, b) => Number(mayPass(r, a, s)) - Number(mayPass(r, b, s)));
      for (const who of order) {
        const victim = (await createUser(sys.db, { name: 'to revoke', role: 'auditor' })).user.id;
        const message = r.path.includes('{messageId}') ? await failedMessage() : '1';
        const allowed = mayPass(r, who, s);
        const before = allowed ? null : await footprint(false);
        const res = await api.call(r.method.toUpperCase(), urlOf(r, s, victim, message), {
          token: caller(who)?.token ?? null,
          body: r.method === 'get' || r.method === 'delete' ? undefined : validBody(r.key, who, s),
        });
        requests++;
        const where = `${r.key} as ${who}${s ? ` on ${s.body}${s.forwarded ? ', forwarded' : ''}` : ''}`;
        const roles = rolesOf(r.op);
        // A refusal is worth nothing if the command went through first.
        if (before && JSON.stringify(await footprint(false)) !== JSON.stringify(before)) {
          unexpected.push(`${where}: refused with ${res.status}, but something changed`);
        }
        if (res.status >= 500) unexpected.push(`${where}: ${res.status} ${JSON.stringify(res.body)}`);
        if (res.status < 300 && !allowed) unexpected.push(`${where}: ${res.status}, not refused`);
        if (roles && who === 'nobody' && res.status !== 401) unexpected.push(`${where}: ${res.status}, not 401`);
        if (roles && caller(who) && !roles.includes(caller(who)!.role) && res.status !== 403) {
          unexpected.push(`${where}: ${res.status}, not 403 for the role`);
        }
        if (res.status >= 400 && !res.type.startsWith('application/problem+json')) {
          unexpected.push(`${where}: ${res.status} is not problem+json`);
        }
        if (res.status < 300) {
          if (s === null || s === subjectsOf(r)[0]) succeeded.add(r.key);
          const ok = Object.entries(r.op.responses).find(([code]) => code === String(res.status));
          const schema = ok?.[1].content?.['application/json']?.schema;
          const parsed = schema ? z.fromJSONSchema(schema).safeParse(res.body) : null;
          if (parsed && !parsed.success) {
            const first = parsed.error.issues[0]!;
            unexpected.push(
              `${where}: the ${res.status} answer does not match its published schema ` +
                `at ${first.path.join('.')} (${first.message})`,
            );
          }
          for (const leak of await leaks(r, who, res.body)) unexpected.push(`${where}: ${leak}`);
        }
      }
    }
  }
  expect(unexpected).toEqual([]);
  // Every route was reachable by someone allowed (except the company's, with a wrong code): the fixtures fit.
  const company = routes.filter((r) => r.op.description.startsWith('No account')).map((r) => r.key);
  expect(company.length).toBeGreaterThanOrEqual(2);
  expect(routes.map((r) => r.key).filter((k) => !succeeded.has(k) && !company.includes(k))).toEqual([]);
  expect(requests).toBeGreaterThan(routes.length * WHO.length);
}, 1_200_000);

test('every route that takes a body has a well-formed one in this test', () => {
  const missing = routes.filter((r) => r.op.requestBody && !(r.key in BODIES));
  // A new route with a body gets one here; until then the matrix checks its door with no body at all.
  expect(missing.map((r) => r.key)).toEqual([]);
});

test('malformed, mistyped, oversized input on every route: a 4xx problem, never a 5xx, nothing changes', async () => {
  const s = await subject('read', 'i3p');
  const before = await footprint();
  const ids = [
    s.id,
    'NOT..an id',
    'a'.repeat(300),
    `${sys.callId}.00000000000000000000`,
    '../../etc/passwd',
    'x\u0000y',
    'é'.repeat(50),
  ];
  const other: Record<string, string[]> = {
    documentId: ['not-a-uuid', randomUUID(), '1 OR 1=1'],
    userId: ['not-a-uuid', randomUUID()],
    callId: ['NO SUCH CALL', 'no-such-call', '-', 'x'.repeat(500)],
    messageId: ['abc', '99999999999', '-1', '1e3'],
  };
  const bad: unknown[] = [
    '{"broken": ',
    '[]',
    '"a string"',
    '42',
    { unexpected: true },
    {
      decision: 42,
      conflicted: 'yes',
      scores: 'high',
      session: [],
      document: { contentBase64: '***' },
      preProject: { title: '' },
      name: '',
      role: 'king',
      totalCents: -1,
      amountCents: 1.5,
      payloads: 'all',
      allFailed: false,
      code: 123456,
    },
    { x: 'y'.repeat(3_000_000) },
  ];
  const badQueries = [
    '?state=sleeping',
    '?limit=-1',
    '?limit=abc',
    '?limit=1&limit=2',
    '?after=***',
    '?after=QUJD',
    '?vat=123',
    '?due=26/11/2026',
    '?theme=beer',
    '?name=x',
    '?status=exploded',
    '?application=not-an-id',
    `?name=${'x'.repeat(3_000)}`,
  ];
  const tokenFor = (r: Route) => caller(WHO.find((w) => w !== 'nobody' && mayPass(r, w, s)) ?? 'operator')?.token;
  const failures: string[] = [];
  const expectRefused = (what: string, res: { status: number; type: string }) => {
    if (res.status >= 500) failures.push(`${what}: ${res.status}`);
    else if (res.status < 400) failures.push(`${what}: ${res.status}, not refused`);
    else if (!res.type.startsWith('application/problem+json')) failures.push(`${what}: ${res.status} not a problem`);
  };
  for (const r of routes) {
    const token = tokenFor(r);
    const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const targets = names.length
      ? names.flatMap((name) =>
          (name === 'id' ? ids : other[name]!).map((v) =>
            r.path.replace(/\{(\w+)\}/g, (_, n: string) =>
              encodeURIComponent(n === name ? v : n === 'id' ? s.id : n === 'documentId' ? s.documentId! : v),
            ),
          ),
        )
      : [r.path];
    const hasQuery = r.op.parameters.some((p) => p.in === 'query');
    for (const url of targets) {
      const valid = url === r.path.replace('{id}', s.id).replace('{documentId}', s.documentId!);
      if (r.method === 'get') {
        const res = await api.call('GET', url, { token: token ?? null });
        if (res.status >= 500) failures.push(`GET ${url}: ${res.status}`);
        if (!valid) expectRefused(`GET ${url}`, res);
        if (hasQuery)
          for (const q of badQueries)
            expectRefused(`GET ${url}${q}`, await api.call('GET', `${url}${q}`, { token: token ?? null }));
        continue;
      }
      for (const body of bad) {
        const res = await api.call(r.method.toUpperCase(), url, { token: token ?? null, body });
        expectRefused(`${r.key} ${url} ${JSON.stringify(body).slice(0, 40)}`, res);
      }
      if (!valid) {
        expectRefused(
          `${r.key} ${url} without a body`,
          await api.call(r.method.toUpperCase(), url, { token: token ?? null }),
        );
        continue;
      }
      const good = validBody(r.key, 'operator', s);
      // Strict schemas refuse unknown fields (the codec's is loose: the Temporal UI's protocol may grow).
      const strict = r.op.requestBody?.content['application/json']?.schema.additionalProperties === false;
      if (good && typeof good === 'object' && strict) {
        const smuggled = await api.call(r.method.toUpperCase(), url, {
          token: token ?? null,
          body: { ...good, actor: 'x' },
        });
        expectRefused(`${r.key} with a smuggled field`, smuggled);
      }
      if (r.op.requestBody) {
        const form = await api.call(r.method.toUpperCase(), url, {
          token: token ?? null,
          body: 'a=1',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expectRefused(`${r.key} as a form`, form);
      }
      if (r.op.parameters.some((p) => p.name === 'Idempotency-Key')) {
        const badKey = await api.call(r.method.toUpperCase(), url, {
          token: token ?? null,
          body: good,
          headers: { 'idempotency-key': 'no spaces allowed' },
        });
        expectRefused(`${r.key} with a malformed Idempotency-Key`, badKey);
      }
    }
  }
  expect(failures).toEqual([]);
  expect(await footprint()).toEqual(before);
}, 1_200_000);

test('a route that takes no body refuses one, rather than acting as if it had not been sent', async () => {
  const failures: string[] = [];
  for (const r of routes.filter((x) => x.method !== 'get' && !x.op.requestBody)) {
    const s = r.path.startsWith('/applications/{id}') ? await subject(STAGE[r.key] ?? 'commission', 'i3p') : null;
    const victim = (await createUser(sys.db, { name: 'kept', role: 'auditor' })).user.id;
    const message = r.path.includes('{messageId}') ? await failedMessage() : '1';
    const before = await footprint();
    const token = caller(WHO.find((w) => w !== 'nobody' && mayPass(r, w, s)) ?? 'operator')!.token;
    const res = await api.call(r.method.toUpperCase(), urlOf(r, s, victim, message), {
      token,
      body: { version: 1, force: true },
    });
    if (res.status !== 400 || res.body.errors?.[0]?.path !== 'body') failures.push(`${r.key}: ${res.status}`);
    if (JSON.stringify(await footprint()) !== JSON.stringify(before)) failures.push(`${r.key}: changed something`);
  }
  expect(failures).toEqual([]);
}, 600_000);
