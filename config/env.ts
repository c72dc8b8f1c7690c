import path from 'node:path';
import { z } from 'zod';

const root = path.resolve(__dirname, '..', __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '');

/** The development default of ID_SECRET: refused outside development, where ids must not be computable. */
export const DEVELOPMENT_ID_SECRET = 'innosocialmetro-development-only';

const port = z.coerce.number().int().min(0).max(65_535);
const positive = z.coerce.number().int().positive();
const file = z.string().min(1);
/** A comma-separated list of addresses, e.g. "a@x.it, b@x.it". */
const emails = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.email()));

/**
 * Fastify's `trustProxy`: off by default (the client address is the socket's); `true`, a hop count, or a
 * comma-separated list of proxy addresses or CIDR ranges when the API runs behind a reverse proxy.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((v, ctx): boolean | number | string[] => {
    if (v === 'false') return false;
    if (v === 'true') return true;
    if (/^\d+$/.test(v)) return Number(v);
    const list = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.every((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s))) return list;
    ctx.addIssue({ code: 'custom', message: 'false, true, a hop count, or proxy addresses / CIDR ranges' });
    return z.NEVER;
  });

export const EnvSchema = z
  .object({
    /** development (npm start, the defaults), test, or production (secrets required, cookies Secure). */
    APP_ENV: z.enum(['development', 'test', 'production']).default('development'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    PGLITE_DIR: z
      .string()
      .min(1)
      .default(path.join(root, '.data', 'pglite')),
    /** false: the schema is brought up by a separate migration job (production runs the app with DML rights only). */
    MIGRATE_ON_START: z.stringbool().default(true),
    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('innosocialmetro'),
    /** TLS to Temporal: on when a CA or a client certificate is given; mutual TLS with a certificate and key. */
    TEMPORAL_TLS_CA_FILE: file.optional(),
    TEMPORAL_TLS_CERT_FILE: file.optional(),
    TEMPORAL_TLS_KEY_FILE: file.optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    /** The payload encryption key ring: a JSON file, or inline `id:base64key,id2:base64key`. */
    PAYLOAD_KEYS_FILE: file.optional(),
    PAYLOAD_KEYS: z.string().min(1).optional(),
    /** The key id new payloads are encrypted with; the others still decrypt. */
    PAYLOAD_ACTIVE_KEY: z.string().min(1).optional(),
    /** Where the Temporal UI runs: the only origin the codec endpoint answers (CORS). */
    TEMPORAL_UI_ORIGIN: z.url().optional(),
    API_HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(3000),
    /** How people reach the API and its pages (links in e-mails); defaults to http://API_HOST:API_PORT. */
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    TRUST_PROXY: trustProxy,
    /**
     * The bearer token Prometheus scrapes the API's /metrics with. Unset: /metrics answers loopback callers only, and
     * nobody when the API sits behind a proxy (TRUST_PROXY), whose requests all come from its own address.
     */
    METRICS_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
    DOCUMENT_MAX_BYTES: z.coerce.number().int().positive().max(10_000_000).default(1_000_000),
    CALLS_DIR: z
      .string()
      .min(1)
      .default(path.join(root, 'config', 'calls')),
    ID_SECRET: z.string().min(16, 'at least 16 characters').default(DEVELOPMENT_ID_SECRET),
    SMTP_URL: z
      .url({ protocol: /^smtps?$/, hostname: /./, error: 'an SMTP URL such as smtp://127.0.0.1:2525' })
      .optional(),
    MAIL_FROM: z.string().min(3).default('InnoSocialMetro <noreply@innosocialmetro.invalid>'),
    MAIL_SINK_DIR: z
      .string()
      .min(1)
      .default(path.join(root, '.data', 'mail')),
    OPERATOR_EMAILS: emails,
    COMMISSION_EMAILS: emails,
    /** An application's workflow continues as new past this many history events (Temporal warns at 10,240). */
    CONTINUE_AS_NEW_AFTER_EVENTS: z.coerce.number().int().min(100).max(10_000).default(8_000),
    WORKER_MAX_CACHED_WORKFLOWS: positive.optional(),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positive.optional(),
    WORKER_MAX_CONCURRENT_ACTIVITIES: positive.optional(),
    WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: positive.optional(),
    /** A workflow bundle built ahead of time (the production image builds it); bundled at start-up otherwise. */
    WORKFLOW_BUNDLE: file.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** The worker's Prometheus endpoint (Temporal's runtime metrics), e.g. 0.0.0.0:9464; off when unset. */
    WORKER_METRICS_BIND: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
      .optional(),
  })
  .superRefine((env, ctx) => {
    const need = (key: keyof typeof env, why: string) => ctx.addIssue({ code: 'custom', path: [key], message: why });
    if (env.TEMPORAL_TLS_CERT_FILE && !env.TEMPORAL_TLS_KEY_FILE) {
      need('TEMPORAL_TLS_KEY_FILE', 'a client certificate needs its key (TEMPORAL_TLS_KEY_FILE)');
    }
    if (env.TEMPORAL_TLS_KEY_FILE && !env.TEMPORAL_TLS_CERT_FILE) {
      need('TEMPORAL_TLS_CERT_FILE', 'a client key needs its certificate (TEMPORAL_TLS_CERT_FILE)');
    }
    if (env.PAYLOAD_KEYS_FILE && env.PAYLOAD_KEYS) {
      need('PAYLOAD_KEYS', 'set PAYLOAD_KEYS_FILE or PAYLOAD_KEYS, not both');
    }
    if (env.APP_ENV !== 'production') return;
    if (env.ID_SECRET === DEVELOPMENT_ID_SECRET) {
      need('ID_SECRET', 'the development default is refused in production: set a secret of at least 16 characters');
    }
    if (!env.PAYLOAD_KEYS_FILE && !env.PAYLOAD_KEYS) {
      need('PAYLOAD_KEYS_FILE', 'production encrypts every payload: give the key ring (PAYLOAD_KEYS_FILE)');
    }
    if (!env.PUBLIC_URL) need('PUBLIC_URL', 'production needs the address people reach the pages at (https://...)');
  });

export type Env = z.infer<typeof EnvSchema>;
export type Config = Readonly<Env & { projectRoot: string; publicUrl: string }>;

export class ConfigError extends Error {}

/** One frozen configuration object, read once; a bad variable stops the process with its name and the problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const host = e.API_HOST === '0.0.0.0' || e.API_HOST === '::' ? '127.0.0.1' : e.API_HOST;
  const publicUrl = (e.PUBLIC_URL ?? `http://${host}:${e.API_PORT}`).replace(/\/+$/, '');
  return Object.freeze({ ...e, projectRoot: root, publicUrl });
}
