import path from 'node:path';
import { z } from 'zod';

const root = path.resolve(__dirname, '..', __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '');

const port = z.coerce.number().int().min(0).max(65_535);
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

const EnvSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  PGLITE_DIR: z
    .string()
    .min(1)
    .default(path.join(root, '.data', 'pglite')),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('innosocialmetro'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  DOCUMENTS_DIR: z
    .string()
    .min(1)
    .default(path.join(root, '.data', 'documents')),
  DOCUMENT_MAX_BYTES: z.coerce.number().int().positive().max(1_500_000).default(1_000_000),
  CALLS_DIR: z
    .string()
    .min(1)
    .default(path.join(root, 'config', 'calls')),
  ID_SECRET: z.string().min(16, 'at least 16 characters').default('innosocialmetro-development-only'),
  INNOSOCIAL_ACTOR: z.string().min(1).optional(),
  SMTP_URL: z
    .url({ protocol: /^smtps?$/, hostname: /./, error: 'an SMTP URL such as smtp://127.0.0.1:2525' })
    .optional(),
  MAIL_FROM: z.string().min(3).default('InnoSocialMetro <noreply@innosocialmetro.invalid>'),
  MAIL_SINK_DIR: z
    .string()
    .min(1)
    .default(path.join(root, '.data', 'mail')),
  /** An application's workflow continues as new past this many history events (Temporal warns at 10,240). */
  CONTINUE_AS_NEW_AFTER_EVENTS: z.coerce.number().int().min(100).max(10_000).default(8_000),
  OPERATOR_EMAILS: emails,
  COMMISSION_EMAILS: emails,
});

export type Config = Readonly<z.infer<typeof EnvSchema> & { projectRoot: string }>;

export class ConfigError extends Error {}

/** One frozen configuration object, read once; a bad variable stops the process with its name and the problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment: ${lines.join('; ')}`);
  }
  return Object.freeze({ ...parsed.data, projectRoot: root });
}
