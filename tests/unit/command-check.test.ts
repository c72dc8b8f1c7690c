import { existsSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { commandPayloads, parseCommand, type CommandType } from '../../machines/events';
import { COMMAND_SCHEMAS_FILE, GENERATED } from '../../scripts/generate-command-schemas';
import { check, checkCommand, type Schema } from '../../workflows/check';
import { oneCommandOfEach, session } from '../support/fixtures';

/*
 * Workflow code checks commands against JSON Schemas generated from the door's zod schemas (workflows/check.ts), so
 * that zod stays out of the workflow bundle. On replay and for signals no validator runs: whatever the door would
 * refuse, the light check must refuse too (or the handler would act on it, or trip over it), and it must never throw.
 */

const committed = JSON.parse(readFileSync(COMMAND_SCHEMAS_FILE, 'utf8')) as Record<CommandType, Schema>;
const COMMANDS = Object.keys(commandPayloads) as CommandType[];

type Payload = Record<string, unknown>;
const payloadOf = ({ type: _type, ...payload }: { type: string }): Payload => payload;
const door = (type: CommandType, payload: Payload) => parseCommand({ type, ...payload });
const light = (type: CommandType, payload: Payload) => checkCommand(committed[type], type, payload);

test.each(Object.keys(GENERATED))('%s is what scripts/generate-command-schemas.ts generates today', (file) => {
  const fresh = JSON.parse(JSON.stringify(GENERATED[file]!()));
  if (!isDeepStrictEqual(JSON.parse(readFileSync(file, 'utf8')), fresh)) {
    throw new Error(
      `${file} is stale: the command schemas in machines/ changed. ` +
        'Run `npx tsx scripts/generate-command-schemas.ts` and commit the result.',
    );
  }
});

test('the application file has every command', () => {
  expect(Object.keys(committed).sort()).toEqual([...COMMANDS].sort());
});

describe('valid commands', () => {
  test.each(COMMANDS)('%s from the fixtures passes the door and the light check', (type) => {
    const payload = payloadOf(oneCommandOfEach[type]);
    expect(door(type, payload).error?.issues ?? []).toEqual([]);
    expect(light(type, payload)).toEqual([]);
  });

  test('a session answer by link and a pre-project with a loan pass both', () => {
    const answer = { date: '2024-03-05', start: '09:00', link: oneCommandOfEach.DISPUTE_SESSION.link };
    const loan = { amountCents: 5_000_000, annualRateBps: 450, months: 60 };
    const preProject = { ...oneCommandOfEach.SUBMIT_PRE_PROJECT.preProject, loan };
    for (const [type, payload] of [
      ['CONFIRM_SESSION', answer],
      ['SUBMIT_PRE_PROJECT', { preProject }],
    ] as const) {
      expect(door(type, payload).success).toBe(true);
      expect(light(type, payload)).toEqual([]);
    }
  });
});

/*
 * The corpus: from each valid payload, every field (at any depth) replaced by each of these, removed, or given an
 * unexpected sibling. Values JSON cannot carry (undefined, NaN, Infinity) are in too: the light check must not
 * depend on the wire to be safe.
 */
const HUGE = 'x'.repeat(1_000_000);
const replacements = (v: unknown): [string, unknown][] => [
  ['null', null],
  ['undefined', undefined],
  ['true', true],
  ['zero', 0],
  ['a negative number', -1],
  ['a fraction', 0.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['an unsafe integer', 2 ** 53 + 2],
  ['1e308', 1e308],
  ['a number as text', '42'],
  ['an exponent as text', '1e3'],
  ['"NaN" as text', 'NaN'],
  ['an empty string', ''],
  ['blank text', '   '],
  ['a huge string', HUGE],
  ['an empty array', []],
  ['the value in an array', [v]],
  ['an empty object', {}],
  ['the value in an object', { value: v }],
  ['a deeply wrong shape', { a: [{ b: [[{ c: null }]] }], d: { e: { f: NaN } } }],
  ['a thousand of it', Array.from({ length: 1_000 }, () => v)],
];

type Key = string | number;
interface Mutation {
  what: string;
  /** Where the payload was changed: a problem must be reported there. */
  path: string;
  payload: Payload;
}

const REMOVED = Symbol('removed');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function* fieldsOf(value: unknown, at: Key[] = []): Generator<[Key[], unknown]> {
  if (at.length) yield [at, value];
  if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* fieldsOf(v, [...at, i]);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) yield* fieldsOf(v, [...at, k]);
}

/** A copy of `payload` with the value at `path` replaced (or removed); `structuredClone` keeps the rest apart. */
function withValue(payload: Payload, path: Key[], value: unknown): Payload {
  const copy = structuredClone(payload);
  let parent: any = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1]!;
  if (value === REMOVED) delete parent[last];
  else parent[last] = value;
  return copy;
}

function mutationsOf(valid: Payload): Mutation[] {
  const out: Mutation[] = [
    { what: 'an empty payload', path: '(root)', payload: {} },
    { what: 'an unexpected field', path: 'unexpected', payload: { ...valid, unexpected: 1 } },
  ];
  for (const [path, value] of fieldsOf(valid)) {
    const at = path.join('.');
    for (const [what, bad] of replacements(value)) out.push({ what, path: at, payload: withValue(valid, path, bad) });
    if (typeof path[path.length - 1] === 'string') {
      out.push({ what: 'removed', path: at, payload: withValue(valid, path, REMOVED) });
    }
    if (isObject(value)) {
      const extra = { ...value, unexpected: 'x' };
      out.push({ what: 'an unexpected field', path: `${at}.unexpected`, payload: withValue(valid, path, extra) });
    }
  }
  return out;
}

const valueAt = (payload: unknown, path: readonly PropertyKey[]) =>
  path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], payload);

/**
 * What the door refuses and the light check lets through: a transformation (z.toJSONSchema does not write it).
 * The rules across fields JSON Schema cannot say are checked inside too (domain/command-rules.ts). `behind` says
 * what, inside, stands in for the door; each gap comes with examples the door refuses for that reason alone.
 */
interface Gap {
  commands: readonly CommandType[];
  path: RegExp;
  message: RegExp;
  blankOnly?: true;
  behind: string;
  examples: [CommandType, Payload][];
}
const BEYOND_JSON_SCHEMA: Gap[] = [
  {
    commands: COMMANDS,
    path: /./,
    message: /^Too small: expected string to have >=1 characters$/,
    blankOnly: true,
    behind: 'nothing: blank text is accepted (text is trimmed before its length is checked; JSON Schema has no trim)',
    examples: [
      ['WITHDRAW', { reason: ' \t ' }],
      ['LOG_SESSION', { session: { ...session('2024-03-05', '09:00', '10:00'), topic: '  ' } }],
    ],
  },
];

function excused(type: CommandType, payload: Payload, issue: { path: PropertyKey[]; message: string }) {
  const path = issue.path.join('.');
  return BEYOND_JSON_SCHEMA.some(
    (gap) =>
      gap.commands.includes(type) &&
      gap.path.test(path) &&
      gap.message.test(issue.message) &&
      (!gap.blankOnly || String(valueAt(payload, issue.path)).trim() === ''),
  );
}

describe('malformed commands', () => {
  test.each(COMMANDS)(
    '%s: the light check refuses whatever the door refuses, at the field, and never throws',
    (type) => {
      const findings: string[] = [];
      const mutations = mutationsOf(payloadOf(oneCommandOfEach[type]));
      for (const { what, path, payload } of mutations) {
        const label = `${path} ${what}`;
        let problems: ReturnType<typeof check>;
        try {
          problems = light(type, payload);
        } catch (err) {
          findings.push(`${label}: the light check threw ${String(err)}`);
          continue;
        }
        for (const p of problems) {
          if (typeof p.path !== 'string' || p.path === '' || typeof p.message !== 'string' || p.message === '') {
            findings.push(`${label}: a problem without a path or a message: ${JSON.stringify(p)}`);
          }
        }
        const parsed = door(type, payload);
        if (parsed.success) {
          // What the door lets through (as it forwards it) must not be refused inside the workflow.
          const forwarded = light(type, payloadOf(parsed.data));
          if (forwarded.length)
            findings.push(`${label}: the door accepts, the light check refuses ${forwarded[0]!.path}`);
          continue;
        }
        if (parsed.error.issues.every((issue) => excused(type, payload, issue))) continue;
        if (problems.length === 0) {
          findings.push(`${label}: the door refuses (${parsed.error.issues[0]!.message}), the light check accepts`);
        } else if (
          path !== '(root)' &&
          !problems.some((p) => p.path === path || p.path.startsWith(`${path}.`)) &&
          // A rule across fields is named where the door names it (a missing link: "code or link").
          !parsed.error.issues.some((issue) => problems.some((p) => p.path === issue.path.join('.')))
        ) {
          findings.push(`${label}: the light check refuses elsewhere: ${problems.map((p) => p.path).join(', ')}`);
        }
      }
      expect(findings).toEqual([]);
    },
  );

  test('the corpus is large: every field of every command, at every depth', () => {
    const sizes = COMMANDS.map((type) => mutationsOf(payloadOf(oneCommandOfEach[type])).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(1_000);
    expect(Math.min(...sizes)).toBe(2);
  });

  test.each(BEYOND_JSON_SCHEMA.map((gap) => [gap.message.source, gap.behind, gap] as const))(
    'listed beyond JSON Schema: %s; behind the door: %s',
    (_, __, gap) => {
      for (const [type, payload] of gap.examples) {
        const issues = door(type, payload).error?.issues ?? [];
        expect(issues.length).toBeGreaterThan(0);
        for (const issue of issues) {
          expect([issue.message, gap.message.test(issue.message), gap.path.test(issue.path.join('.'))]).toEqual([
            issue.message,
            true,
            true,
          ]);
          expect(excused(type, payload, issue)).toBe(true);
        }
        expect(light(type, payload)).toEqual([]);
      }
    },
  );
});

describe('the workflow bundle', () => {
  // Built once per run by the jest global setup, from workflows/index.ts: what really ships to the sandbox, with
  // every transitive import (which a lint rule on the workflow files cannot see).
  const bundle = () => {
    const file = process.env.TEST_WORKFLOW_BUNDLE;
    if (!file || !existsSync(file)) throw new Error('no TEST_WORKFLOW_BUNDLE: run through jest (its global setup)');
    return readFileSync(file, 'utf8');
  };

  test('holds no zod, and none of the door schemas', () => {
    const code = bundle();
    expect(code).toContain('./workflows/check.ts');
    expect(code).not.toMatch(/ZodError|node_modules\/zod\//);
    for (const door of [
      'machines/events.ts',
      'machines/project.events.ts',
      'domain/application.ts',
      'domain/rules.ts',
    ]) {
      expect(code).not.toContain(`./${door}"`);
    }
  });
});
