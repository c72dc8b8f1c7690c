import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../support/fixtures';
import { startTestApi, type TestApi } from '../support/api';
import { startTestSystem, type TestSystem } from '../support/system';

const cliPath = path.join(projectRoot, 'bin', 'innosocial.js');
let sys: TestSystem;
let dir: string;

beforeAll(async () => {
  if (!existsSync(path.join(projectRoot, 'dist', 'client', 'cli.js')))
    throw new Error('dist/ is missing: run the tests with `npm test`, which builds first');
  sys = await startTestSystem();
  dir = mkdtempSync(path.join(tmpdir(), 'innosocial-cli-'));
});
afterAll(async () => {
  await sys?.stop();
});

/** Runs the real installed command against the test system's server and task queue. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: sys.config.TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: sys.config.TEMPORAL_TASK_QUEUE,
    CALLS_DIR: sys.config.CALLS_DIR,
    INNOSOCIAL_ACTOR: 'op.cli',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const file = (name: string, content: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};

test('apply, show, send and list through the real binary', async () => {
  const applied = await cli('apply', file('app.json', sys.form()), '--json');
  expect(applied).toMatchObject({ code: 0, stderr: '' });
  const id: string = JSON.parse(applied.stdout).applicationId;

  const assign = await cli(
    'send',
    id,
    'ASSIGN_BODY',
    '--data',
    file('assign.json', {
      implementingBody: 'vision2050',
      consultant: { name: 'Paolo', email: `paolo.${Date.now()}@vision2050.example.org` },
    }),
  );
  expect(assign).toMatchObject({ code: 0, stdout: expect.stringContaining(`is now accompaniment`) });

  const shown = await cli('show', id);
  expect(shown.stdout).toMatch(/state\s+accompaniment/);
  expect(shown.stdout).toMatch(/implementing body\s+vision2050 \(Paolo\)/);
  expect(shown.stdout).toMatch(/next\s+.*LOG_SESSION/);

  const refused = await cli('send', id, 'FORWARD_TO_COMMISSION');
  expect(refused.code).toBe(4);
  expect(refused.stderr.trim()).toMatch(
    /^innosocial: FORWARD_TO_COMMISSION is not possible while the application is in accompaniment/,
  );
  // Decisions are the commission's: an operator's CLI is refused for its role, exit 5.
  const forbidden = await cli('send', id, 'APPROVE', '--data', file('approve.json', { motivation: 'early' }));
  expect(forbidden).toMatchObject({
    code: 5,
    stderr: expect.stringMatching(/APPROVE is not a command the role operator can send/),
  });
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);

  // Visibility is eventually consistent: give the search attribute a moment to be indexed.
  let listed = { code: 1, stdout: '[]', stderr: '' };
  for (let i = 0; i < 40 && !listed.stdout.includes(id); i++) {
    listed = await cli('list', '--state', 'accompaniment', '--json');
    if (!listed.stdout.includes(id)) await new Promise((r) => setTimeout(r, 250));
  }
  expect(JSON.parse(listed.stdout)).toEqual(
    expect.arrayContaining([expect.objectContaining({ applicationId: id, state: 'accompaniment' })]),
  );
});

test('bad input exits non-zero with one line saying what and where', async () => {
  const cases: [string[], number, RegExp][] = [
    [['apply', path.join(dir, 'missing.json')], 2, /cannot read application file .*missing\.json: ENOENT/],
    [['apply', file('broken.json', '{"callId": ')], 2, /broken\.json is not valid JSON/],
    [
      ['apply', file('bad.json', { ...sys.form(), colour: 'red' })],
      2,
      /invalid application: \(root\): Unrecognized key: "colour"/,
    ],
    [
      ['apply', file('badvat.json', sys.form({ company: { vatNumber: '123' } }))],
      2,
      /company\.vatNumber: must be 11 digits/,
    ],
    [['list', '--state', 'sleeping'], 2, /--state: Invalid option/],
    [
      ['show', 'innosocialmetro-2023.ffffffffffffffffffff'],
      3,
      /no application innosocialmetro-2023\.ffffffffffffffffffff/,
    ],
    [['send', 'x', 'NOT_AN_EVENT'], 2, /invalid command/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['show', '--bogus'], 2, /Unknown option '--bogus'/],
  ];
  for (const [args, code, message] of cases) {
    const r = await cli(...args);
    expect({ args, code: r.code }).toEqual({ args, code });
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }
});

test('--help for every command shows an example; diagram prints the machine', async () => {
  for (const command of [
    'apply',
    'show',
    'list',
    'send',
    'diagram',
    'import',
    'export',
    'budget',
    'users',
    'mail',
    'assign',
    'log-session',
    'confirm-session',
    'complete',
    'attach',
    'submit-pre-project',
    'forward',
    'fund',
    'withdraw',
  ]) {
    const r = await cli(command, '--help');
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('Example') });
  }
  const diagram = await cli('diagram');
  expect(diagram.stdout).toMatch(/^stateDiagram-v2\n/);
  expect(diagram.stdout).toContain('commission --> admitted: APPROVE');
});

describe('operator commands, import, export, users and budget through the real binary', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(sys);
  });
  afterAll(async () => {
    await api?.stop();
  });
  // Users and budget go through the API with the operator's token when no DATABASE_URL names the database.
  const asOperator = (...args: string[]) => cli(...args).then((r) => r);
  const withToken = () => ({ INNOSOCIAL_API_URL: api.base, INNOSOCIAL_TOKEN: api.users.operator.token });

  test('the daily shortcuts drive an application without writing JSON', async () => {
    const { stdout } = await cli('apply', file('short.json', sys.form()), '--json');
    const id = JSON.parse(stdout).applicationId as string;
    const email = `paola.${Date.now()}@cna.example.org`;
    expect(
      await asOperator('assign', id, '--body', 'cna', '--consultant-name', 'Paola', '--consultant-email', email),
    ).toMatchObject({ code: 0, stdout: expect.stringContaining('is now accompaniment') });
    const logged = await cli(
      'log-session',
      id,
      '--date',
      '2026-01-10',
      '--start',
      '09:00',
      '--end',
      '11:00',
      '--topic',
      'impact map',
      '--attendee',
      'Giulia Ferraris',
      '--json',
    );
    expect(logged.code).toBe(0);
    expect(JSON.parse(logged.stdout).facts.sessionsLogged).toBe(1);
    const badCode = await cli('confirm-session', id, '--date', '2026-01-10', '--start', '09:00', '--code', 'nope');
    expect(badCode).toMatchObject({ code: 2, stderr: expect.stringMatching(/code: the 6-digit code/) });
    expect(await cli('fund', id, '--amount', '12,5x', '--date', '2026-01-10')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--amount: "12,5x" is not an amount/),
    });
    expect(await cli('withdraw', id, '--reason', 'the company renounces')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('is now withdrawn'),
    });
  });

  test('import registers the good rows, reports the bad ones with their line, and exits 4', async () => {
    const csv = readFileSync(path.join(projectRoot, 'examples', 'applications.csv'), 'utf8').replaceAll(
      'innosocialmetro-2023',
      sys.callId,
    );
    const r = await cli('import', file('apps.csv', csv));
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/row 2: registered /);
    expect(r.stdout).toMatch(/row 3: registered /);
    expect(r.stdout).toMatch(/row 4: NOT registered: invalid application: company\.vatNumber: must be 11 digits/);
    expect(r.stdout).toMatch(/row 5: NOT registered: has 4 fields, the header 14/);
    expect(r.stdout).toMatch(/2 registered, 2 not$/m);
    expect(r.stderr).toMatch(/imported 4\/4/);
    expect(await cli('import', file('nohead.csv', 'a,b\n1,2\n'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/missing columns: call_id/),
    });
  });

  test('export writes the register as CSV without personal data', async () => {
    const r = await cli('export', '--call', sys.callId);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header).toBe(
      'application_id,call_id,state,implementing_body,themes,requested_eur,admitted_eur,deadline_at,submitted_at',
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(r.stdout).not.toMatch(/Giulia|Ferraris|example\.org|Forno/);
  });

  test('users: add prints a token once, list never shows tokens, revoke ends it; budget answers', async () => {
    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env = { ...process.env, ...withToken(), TEMPORAL_ADDRESS: sys.config.TEMPORAL_ADDRESS };
        execFile(process.execPath, [cliPath, ...args], { env }, (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const added = await run('users', 'add', '--role', 'consultant', '--name', 'Teo', '--body', 'redrim', '--json');
    expect(added.code).toBe(0);
    const { user, token } = JSON.parse(added.stdout);
    expect(token).toMatch(/^ism_/);
    expect((await run('users', 'list')).stdout).not.toContain(token);
    expect(await run('users', 'add', '--role', 'consultant', '--name', 'No Body')).toMatchObject({ code: 2 });
    expect((await run('users', 'revoke', user.id)).code).toBe(0);
    expect((await run('users', 'revoke', user.id)).code).toBe(3);
    const budget = await run('budget', '--call', 'no-such-call');
    expect(budget).toMatchObject({ code: 3, stderr: expect.stringMatching(/no-such-call has no budget yet/) });
  });
});
