import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../support/fixtures';
import { startTestSystem, type TestSystem } from '../support/system';

const cliPath = path.join(projectRoot, 'bin', 'innosocial.js');
let sys: TestSystem;
let dir: string;

beforeAll(async () => {
  if (!existsSync(path.join(projectRoot, 'dist', 'client', 'cli.js'))) throw new Error('dist/ is missing: run the tests with `npm test`, which builds first');
  sys = await startTestSystem();
  dir = mkdtempSync(path.join(tmpdir(), 'innosocial-cli-'));
});
afterAll(async () => {
  await sys?.stop();
});

/** Runs the real installed command against the test system's server and task queue. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, TEMPORAL_ADDRESS: sys.config.TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE: sys.config.TEMPORAL_TASK_QUEUE, CALLS_DIR: sys.config.CALLS_DIR, INNOSOCIAL_ACTOR: 'op.cli' };
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

  const assign = await cli('send', id, 'ASSIGN_BODY', '--data', file('assign.json', { implementingBody: 'vision2050', consultant: { name: 'Paolo', email: `paolo.${Date.now()}@vision2050.example.org` } }));
  expect(assign).toMatchObject({ code: 0, stdout: expect.stringContaining(`is now accompaniment`) });

  const shown = await cli('show', id);
  expect(shown.stdout).toMatch(/state\s+accompaniment/);
  expect(shown.stdout).toMatch(/implementing body\s+vision2050 \(Paolo\)/);
  expect(shown.stdout).toMatch(/next\s+.*LOG_SESSION/);

  const refused = await cli('send', id, 'FORWARD_TO_COMMISSION');
  expect(refused.code).toBe(4);
  expect(refused.stderr.trim()).toMatch(/^innosocial: FORWARD_TO_COMMISSION is not possible while the application is in accompaniment/);
  // Decisions are the commission's: an operator's CLI is refused for its role, exit 5.
  const forbidden = await cli('send', id, 'APPROVE', '--data', file('approve.json', { motivation: 'early' }));
  expect(forbidden).toMatchObject({ code: 5, stderr: expect.stringMatching(/APPROVE is not a command the role operator can send/) });
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);

  // Visibility is eventually consistent: give the search attribute a moment to be indexed.
  let listed = { code: 1, stdout: '[]', stderr: '' };
  for (let i = 0; i < 40 && !listed.stdout.includes(id); i++) {
    listed = await cli('list', '--state', 'accompaniment', '--json');
    if (!listed.stdout.includes(id)) await new Promise((r) => setTimeout(r, 250));
  }
  expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ applicationId: id, state: 'accompaniment' })]));
});

test('bad input exits non-zero with one line saying what and where', async () => {
  const cases: [string[], number, RegExp][] = [
    [['apply', path.join(dir, 'missing.json')], 2, /cannot read application file .*missing\.json: ENOENT/],
    [['apply', file('broken.json', '{"callId": ')], 2, /broken\.json is not valid JSON/],
    [['apply', file('bad.json', { ...sys.form(), colour: 'red' })], 2, /invalid application: \(root\): Unrecognized key: "colour"/],
    [['apply', file('badvat.json', sys.form({ company: { vatNumber: '123' } }))], 2, /company\.vatNumber: must be 11 digits/],
    [['list', '--state', 'sleeping'], 2, /--state: Invalid option/],
    [['show', 'innosocialmetro-2023.ffffffffffffffffffff'], 3, /no application innosocialmetro-2023\.ffffffffffffffffffff/],
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
  for (const command of ['apply', 'show', 'list', 'send', 'diagram']) {
    const r = await cli(command, '--help');
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('Example') });
  }
  const diagram = await cli('diagram');
  expect(diagram.stdout).toMatch(/^stateDiagram-v2\n/);
  expect(diagram.stdout).toContain('commission --> admitted: APPROVE');
});
