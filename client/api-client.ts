import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/env';
import { UserError, type ErrorCode } from './errors';

export const tokenFile = (config: Config) => path.join(config.projectRoot, '.data', 'operator.token');

/** The CLI's bearer token: INNOSOCIAL_TOKEN, else the operator token `npm start` created on its first run. */
function token(config: Config): string {
  if (process.env.INNOSOCIAL_TOKEN) return process.env.INNOSOCIAL_TOKEN;
  try {
    return readFileSync(tokenFile(config), 'utf8').trim();
  } catch {
    throw new UserError(
      'unauthorized',
      `no token: set INNOSOCIAL_TOKEN, or run \`npm start\` once (it writes ${tokenFile(config)})`,
    );
  }
}

/** Calls the HTTP API as the operator; problem+json answers become UserErrors with the same code. */
export async function callApi<T>(config: Config, method: string, route: string, body?: unknown): Promise<T> {
  const url =
    process.env.INNOSOCIAL_API_URL ??
    `http://${config.API_HOST === '0.0.0.0' ? '127.0.0.1' : config.API_HOST}:${config.API_PORT}`;
  let res: Response;
  try {
    res = await fetch(`${url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token(config)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new UserError(
      'temporal_unavailable',
      `cannot reach the API at ${url} (is \`npm start\` running?): ${(err as Error).message}`,
    );
  }
  const payload = (await res.json().catch(() => null)) as {
    code?: ErrorCode;
    detail?: string;
    errors?: { path?: string; message: string }[];
  } | null;
  if (!res.ok)
    throw new UserError(payload?.code ?? 'internal', payload?.detail ?? `HTTP ${res.status}`, payload?.errors ?? []);
  return payload as T;
}
