import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERRORS, UserError, type ErrorCode, type FieldProblem } from '../errors';

/*
 * The CLI is a client of the HTTP API, like every other door for people: it holds no Temporal credentials and no
 * database, and the audit trail names the person its token belongs to.
 */

const projectRoot = path.resolve(__dirname, '..', '..', __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '');
export const TOKEN_FILE = path.join(projectRoot, '.data', 'operator.token');

export const apiUrl = () => (process.env.INNOSOCIAL_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');

/** The operator's bearer token: INNOSOCIAL_TOKEN, else the one the first `npm start` wrote. */
function token(): string {
  if (process.env.INNOSOCIAL_TOKEN) return process.env.INNOSOCIAL_TOKEN;
  try {
    return readFileSync(TOKEN_FILE, 'utf8').trim();
  } catch {
    throw new UserError(
      'unauthorized',
      `no token: set INNOSOCIAL_TOKEN, or run \`npm start\` once (it writes ${TOKEN_FILE})`,
    );
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  text: string;
}

/** Calls the API as the operator; problem+json answers become UserErrors with the same code and fields. */
export async function callApi<T>(
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  return (await request<T>(method, route, body, headers)).body;
}

export async function request<T>(
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer<T>> {
  const url = apiUrl();
  const bearer = token();
  let res: Response;
  try {
    res = await fetch(`${url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UserError(
      'api_unavailable',
      `cannot reach the API at ${url} (is it running? INNOSOCIAL_API_URL): ${why}`,
    );
  }
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : text;
  if (!res.ok) {
    const p = json as { code?: unknown; detail?: string; errors?: FieldProblem[] };
    // A proxy in front of the API may answer with codes of its own: only the table's have an exit code.
    const code = typeof p?.code === 'string' && Object.hasOwn(ERRORS, p.code) ? (p.code as ErrorCode) : 'internal';
    throw new UserError(code, p?.detail ?? `HTTP ${res.status}`, p?.errors ?? []);
  }
  return { status: res.status, body: json as T, text };
}

/** An application id in a path: refused before any request when it cannot be one (exit 2, not "not found"). */
export function applicationId(id: string): string {
  if (!/^[a-z0-9-]+\.[0-9a-f]{20}$/.test(id)) {
    throw new UserError(
      'invalid_input',
      `"${id}" is not an application id (such as innosocialmetro-2023.0123456789abcdef0123)`,
    );
  }
  return id;
}

export const path_ = (...parts: string[]) => `/${parts.map(encodeURIComponent).join('/')}`;
