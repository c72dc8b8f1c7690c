import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../client/api/server';
import type { Config } from '../../config/env';
import { createUser, type UserRole } from '../../db/repositories/users';
import type { TestSystem } from './system';

export interface Caller {
  id: string;
  token: string;
  role: UserRole;
}

export interface TestApi {
  base: string;
  users: {
    operator: Caller;
    auditor: Caller;
    chair: Caller;
    members: [Caller, Caller, Caller];
    consultant: Caller; // of i3p
    otherConsultant: Caller; // of nemo
  };
  call(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; type: string; body: any }>;
  stop(): Promise<void>;
}

/** The real API on a real port, with one user of every kind (tokens created as `innosocial users add` would). */
export async function startTestApi(
  sys: TestSystem,
  options: { rateLimit?: { perMinute: number; strictPerMinute: number }; config?: Partial<Config> } = {},
): Promise<TestApi> {
  const { config, ...rest } = options;
  const api: FastifyInstance = buildApi({
    config: { ...sys.config, ...config },
    client: sys.client,
    db: sys.db,
    ring: sys.ring,
    ...rest,
  });
  const base = await api.listen({ host: '127.0.0.1', port: 0 });
  const user = async (
    name: string,
    role: UserRole,
    extra: { bodyId?: string; chair?: boolean } = {},
  ): Promise<Caller> => {
    const { user: u, token } = await createUser(sys.db, { name, role, ...extra });
    return { id: u.id, token, role };
  };
  const users: TestApi['users'] = {
    operator: await user('Olga Operatrice', 'operator'),
    auditor: await user('Aldo Auditor', 'auditor'),
    chair: await user('Chiara Presidente', 'commission', { chair: true }),
    members: [await user('Marta', 'commission'), await user('Mario', 'commission'), await user('Mirko', 'commission')],
    consultant: await user('Carla (I3P)', 'consultant', { bodyId: 'i3p' }),
    otherConsultant: await user('Nino (NEMO)', 'consultant', { bodyId: 'nemo' }),
  };
  return {
    base,
    users,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(opts.body !== undefined
          ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }
          : {}),
      });
      const type = res.headers.get('content-type') ?? '';
      const text = await res.text();
      return { status: res.status, type, body: type.includes('json') && text ? JSON.parse(text) : text };
    },
    stop: () => api.close(),
  };
}
