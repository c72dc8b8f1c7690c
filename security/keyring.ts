import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The payload encryption keys: each AES-256 key has an id, written into every payload it encrypts, and one of them
 * is active (new payloads use it). Older keys stay in the ring to decrypt the histories written under them.
 *
 * Rotation, two steps (README, "Security"): first give every process the new key without activating it (all can
 * read what any will write), then make it active. A key leaves the ring only once no retained history uses it
 * (`innosocial keys usage` says which keys the histories use).
 */
export interface KeyRing {
  active: string;
  keys: ReadonlyMap<string, Buffer>;
}

const id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id: letters, digits, . _ -');
const key = z
  .string()
  .transform((v) => Buffer.from(v, 'base64'))
  .refine((b) => b.length === 32, 'an AES-256 key: 32 bytes, base64-encoded (openssl rand -base64 32)');

export const KeyRingFileSchema = z
  .object({ active: id, keys: z.record(id, key) })
  .strict()
  .refine((r) => r.active in r.keys, { message: 'the active key must be one of the keys', path: ['active'] });

export class KeyRingError extends Error {}

/** From the environment: a JSON file (PAYLOAD_KEYS_FILE) or `id:base64,...` (PAYLOAD_KEYS) + PAYLOAD_ACTIVE_KEY. */
export function loadKeyRing(env: {
  PAYLOAD_KEYS_FILE?: string;
  PAYLOAD_KEYS?: string;
  PAYLOAD_ACTIVE_KEY?: string;
}): KeyRing {
  let raw: unknown;
  let where: string;
  // Two rings given, one silently used: a rotation edited in the other would never take effect.
  if (env.PAYLOAD_KEYS_FILE && env.PAYLOAD_KEYS) {
    throw new KeyRingError('set PAYLOAD_KEYS_FILE or PAYLOAD_KEYS, not both');
  }
  if (env.PAYLOAD_KEYS_FILE) {
    where = env.PAYLOAD_KEYS_FILE;
    try {
      raw = JSON.parse(readFileSync(env.PAYLOAD_KEYS_FILE, 'utf8'));
    } catch (err) {
      throw new KeyRingError(`${where}: not readable JSON (${(err as Error).message})`);
    }
    if (env.PAYLOAD_ACTIVE_KEY && raw && typeof raw === 'object') raw = { ...raw, active: env.PAYLOAD_ACTIVE_KEY };
  } else if (env.PAYLOAD_KEYS) {
    where = 'PAYLOAD_KEYS';
    const keys = Object.fromEntries(
      env.PAYLOAD_KEYS.split(',').map((pair) => pair.trim().split(':') as [string, string]),
    );
    // One key is plainly the active one; of several, a guess would encrypt with a key another host may lack.
    if (!env.PAYLOAD_ACTIVE_KEY && Object.keys(keys).length > 1) {
      throw new KeyRingError('PAYLOAD_KEYS: several keys: say which one encrypts with PAYLOAD_ACTIVE_KEY');
    }
    raw = { active: env.PAYLOAD_ACTIVE_KEY ?? Object.keys(keys)[0], keys };
  } else {
    throw new KeyRingError('no payload keys: set PAYLOAD_KEYS_FILE (or PAYLOAD_KEYS and PAYLOAD_ACTIVE_KEY)');
  }
  const parsed = KeyRingFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new KeyRingError(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return { active: parsed.data.active, keys: new Map(Object.entries(parsed.data.keys)) };
}

/**
 * The ring a process uses: the configured one; in development and tests, when none is configured, a ring of one
 * key kept in .data/payload-keys.json (created on first use, readable by its owner only). Production requires one
 * (config/env.ts refuses to start without it).
 */
export function keyRingFor(config: {
  APP_ENV: string;
  PAYLOAD_KEYS_FILE?: string | undefined;
  PAYLOAD_KEYS?: string | undefined;
  PAYLOAD_ACTIVE_KEY?: string | undefined;
  projectRoot: string;
}): KeyRing {
  if (config.PAYLOAD_KEYS_FILE || config.PAYLOAD_KEYS) return loadKeyRing(config as Parameters<typeof loadKeyRing>[0]);
  const file = path.join(config.projectRoot, '.data', 'payload-keys.json');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const ring = { active: 'dev-1', keys: { 'dev-1': randomBytes(32).toString('base64') } };
    // wx: two processes starting together keep the first file, and both read it below.
    try {
      writeFileSync(file, `${JSON.stringify(ring, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return loadKeyRing({ PAYLOAD_KEYS_FILE: file });
}
