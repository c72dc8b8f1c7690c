import { openApiDocument } from '../../client/api/openapi';
import { problem } from '../../client/api/problem';
import { ProblemSchema } from '../../client/api/schemas';
import { request } from '../../client/cli/http';
import { exitCodeOf } from '../../client/cli/output';
import { ERROR_CODES, ERRORS, UserError, type ErrorCode } from '../../client/errors';

/*
 * One table (client/errors.ts) gives every error its HTTP status, its problem title and the CLI's exit code. These
 * tests hold the three doors to it: the API's problem+json, the OpenAPI document, and the CLI's exit codes.
 */

const CODES = Object.keys(ERRORS) as ErrorCode[];

describe('the ERRORS table', () => {
  test('ERROR_CODES lists every code once', () => {
    expect([...ERROR_CODES]).toEqual(CODES);
    expect(new Set(ERROR_CODES).size).toBe(CODES.length);
  });

  test('every title is distinct, and says something in words: capitalised, two words at least, no code', () => {
    const titles = CODES.map((code) => ERRORS[code].title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const code of CODES) {
      const { title } = ERRORS[code];
      expect([code, title]).toEqual([code, expect.stringMatching(/^[A-Z][A-Za-z]*( [A-Za-z]+)+$/)]);
      expect(title).not.toContain('_');
    }
  });

  test('statuses are client or server errors, and exit codes follow them', () => {
    // 0 is success; 1 the system; 2 bad input; 3 not found; 4 refused; 5 not allowed (client/cli/main.ts).
    const exitFor = (status: number) =>
      status >= 500 || status === 429 || status === 410
        ? 1
        : status === 401 || status === 403
          ? 5
          : status === 404
            ? 3
            : status === 409
              ? 4
              : 2;
    for (const code of CODES) {
      const { status, exit } = ERRORS[code];
      expect([code, status >= 400 && status < 600]).toEqual([code, true]);
      expect([code, exit]).toEqual([code, exitFor(status)]);
    }
  });
});

describe('the API: problem+json', () => {
  test.each(CODES)('%s: status and title from the table, a stable type, valid against the Problem schema', (code) => {
    const p = problem(code, 'what happened', [{ path: 'body.x', message: 'is wrong' }]);
    expect(p).toEqual({
      type: `urn:innosocial:problem:${code}`,
      title: ERRORS[code].title,
      status: ERRORS[code].status,
      code,
      detail: 'what happened',
      errors: [{ path: 'body.x', message: 'is wrong' }],
    });
    expect(ProblemSchema.safeParse(p).success).toBe(true);
  });

  test('no field problems, no errors member', () => {
    expect(problem('not_found', 'no such application')).not.toHaveProperty('errors');
    expect(problem('not_found', 'no such application', [])).not.toHaveProperty('errors');
  });

  test('the Problem schema refuses a code that is not in the table', () => {
    const p = { ...problem('internal', 'x'), code: 'teapot' };
    expect(ProblemSchema.safeParse(p).success).toBe(false);
  });

  test("the OpenAPI document's Problem enum is the table's codes", () => {
    const doc = openApiDocument('http://127.0.0.1:3000', []);
    const schema = doc.components.schemas.Problem as unknown as {
      properties: { code: { enum: string[] } };
      required: string[];
    };
    expect(schema.properties.code.enum).toEqual(CODES);
    expect(schema.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'code', 'detail']));
  });
});

describe('the CLI: exit codes', () => {
  test.each(CODES)('%s exits with the code the table gives it', (code) => {
    expect(exitCodeOf(new UserError(code, 'x'))).toBe(ERRORS[code].exit);
  });

  describe('an API answer becomes the error it names', () => {
    const realFetch = globalThis.fetch;
    const token = process.env.INNOSOCIAL_TOKEN;
    beforeAll(() => {
      process.env.INNOSOCIAL_TOKEN = 'test-token';
    });
    afterAll(() => {
      globalThis.fetch = realFetch;
      if (token === undefined) delete process.env.INNOSOCIAL_TOKEN;
      else process.env.INNOSOCIAL_TOKEN = token;
    });
    const answer = (status: number, body: string, type = 'application/problem+json') => {
      globalThis.fetch = (async () => new Response(body, { status, headers: { 'content-type': type } })) as never;
    };
    const refusal = async () => {
      const err = await request('GET', '/applications').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      return err as UserError;
    };

    test.each(CODES.filter((c) => c !== 'api_unavailable'))(
      '%s: same code, detail and fields, and the exit code of the table',
      async (code) => {
        const p = problem(code, `detail of ${code}`, [{ path: 'query.state', message: 'unknown state' }]);
        answer(p.status, JSON.stringify(p));
        const err = await refusal();
        expect([err.code, err.message, err.details]).toEqual([code, p.detail, p.errors]);
        expect(exitCodeOf(err)).toBe(ERRORS[code].exit);
      },
    );

    // A proxy in front of the API answers in its own words: its code is not ours, and must not crash the CLI.
    test.each([
      ['a code that is not in the table', 502, JSON.stringify({ code: 'FST_ERR_UPSTREAM', detail: 'bad gateway' })],
      ['an inherited name as code', 502, JSON.stringify({ code: 'constructor', detail: 'bad gateway' })],
      ['no code', 500, JSON.stringify({ message: 'oops' })],
    ])('%s is an internal error, with an exit code', async (_, status, body) => {
      answer(status, body, 'application/json');
      const err = await refusal();
      expect(err.code).toBe('internal');
      expect(exitCodeOf(err)).toBe(1);
    });

    test('an HTML error page is an internal error naming the status', async () => {
      answer(502, '<html>Bad Gateway</html>', 'text/html');
      const err = await refusal();
      expect([err.code, err.message]).toEqual(['internal', 'HTTP 502']);
    });

    test('an API that cannot be reached is api_unavailable, not temporal_unavailable', async () => {
      globalThis.fetch = (async () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      }) as never;
      const err = await refusal();
      expect(err.code).toBe('api_unavailable');
      expect(err.message).toMatch(/cannot reach the API at .*: ECONNREFUSED/);
      expect(exitCodeOf(err)).toBe(1);
    });
  });
});
