import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyRingError, keyRingFor, loadKeyRing, type KeyRing } from '../../security/keyring';

const key = () => randomBytes(32).toString('base64');
const [k1, k2] = [key(), key()];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'keyring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A key ring file in the test's own directory. */
const ringFile = (content: unknown, name = 'payload-keys.json') => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};
const idsOf = (ring: KeyRing) => [...ring.keys.keys()];
const refusal = (load: () => unknown) => {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyRingError);
    return (err as Error).message;
  }
  throw new Error('expected a KeyRingError');
};

describe('loadKeyRing', () => {
  test('from a file: every key, 32 bytes each, and the active one', () => {
    const ring = loadKeyRing({ PAYLOAD_KEYS_FILE: ringFile({ active: 'k2', keys: { k1, k2 } }) });
    expect([ring.active, idsOf(ring)]).toEqual(['k2', ['k1', 'k2']]);
    expect(ring.keys.get('k1')).toEqual(Buffer.from(k1, 'base64'));
    expect([...ring.keys.values()].map((b) => b.length)).toEqual([32, 32]);
  });

  test("from a file, PAYLOAD_ACTIVE_KEY chooses the active key (rotation's second step)", () => {
    const file = ringFile({ active: 'k1', keys: { k1, k2 } });
    expect(loadKeyRing({ PAYLOAD_KEYS_FILE: file, PAYLOAD_ACTIVE_KEY: 'k2' }).active).toBe('k2');
  });

  test('inline: id:base64 pairs, with the active key named', () => {
    const ring = loadKeyRing({ PAYLOAD_KEYS: `k1:${k1}, k2:${k2}`, PAYLOAD_ACTIVE_KEY: 'k1' });
    expect([ring.active, idsOf(ring)]).toEqual(['k1', ['k1', 'k2']]);
    expect(ring.keys.get('k2')).toEqual(Buffer.from(k2, 'base64'));
  });

  test.each<[string, () => Parameters<typeof loadKeyRing>[0], RegExp]>([
    [
      'no source at all',
      () => ({}),
      /^no payload keys: set PAYLOAD_KEYS_FILE \(or PAYLOAD_KEYS and PAYLOAD_ACTIVE_KEY\)$/,
    ],
    [
      'both sources set',
      () => ({ PAYLOAD_KEYS_FILE: ringFile({ active: 'k1', keys: { k1 } }), PAYLOAD_KEYS: `k2:${k2}` }),
      /set PAYLOAD_KEYS_FILE or PAYLOAD_KEYS, not both/,
    ],
    [
      'an active key that is not in the file',
      () => ({ PAYLOAD_KEYS_FILE: ringFile({ active: 'k3', keys: { k1 } }) }),
      /payload-keys\.json: active: the active key must be one of the keys$/,
    ],
    [
      'a file that names no active key',
      () => ({ PAYLOAD_KEYS_FILE: ringFile({ keys: { k1 } }) }),
      /payload-keys\.json: active: /,
    ],
    [
      'an active key that is not inline',
      () => ({ PAYLOAD_KEYS: `k1:${k1}`, PAYLOAD_ACTIVE_KEY: 'k2' }),
      /^PAYLOAD_KEYS: active: the active key must be one of the keys$/,
    ],
    [
      'several inline keys and none named active',
      () => ({ PAYLOAD_KEYS: `k1:${k1},k2:${k2}` }),
      /^PAYLOAD_KEYS: several keys: say which one encrypts with PAYLOAD_ACTIVE_KEY$/,
    ],
    [
      'a key of the wrong length',
      () => ({ PAYLOAD_KEYS: `k1:${randomBytes(16).toString('base64')}`, PAYLOAD_ACTIVE_KEY: 'k1' }),
      /^PAYLOAD_KEYS: keys\.k1: an AES-256 key: 32 bytes, base64-encoded \(openssl rand -base64 32\)$/,
    ],
    [
      'a key id with a space',
      () => ({ PAYLOAD_KEYS: `bad id:${k1}`, PAYLOAD_ACTIVE_KEY: 'bad id' }),
      /a key id: letters, digits, \. _ -/,
    ],
    [
      'a file that is not JSON',
      () => ({ PAYLOAD_KEYS_FILE: ringFile('active = k1') }),
      /payload-keys\.json: not readable JSON/,
    ],
    [
      'a file that does not exist',
      () => ({ PAYLOAD_KEYS_FILE: path.join(dir, 'missing.json') }),
      /missing\.json: not readable JSON \(ENOENT/,
    ],
  ])('%s: refused, saying so', (_, env, message) => {
    expect(refusal(() => loadKeyRing(env()))).toMatch(message);
  });

  test('a refusal never quotes a key', () => {
    const short = randomBytes(16).toString('base64');
    const message = refusal(() => loadKeyRing({ PAYLOAD_KEYS: `k1:${short}`, PAYLOAD_ACTIVE_KEY: 'k1' }));
    expect(message).not.toContain(short);
  });
});

describe('keyRingFor', () => {
  const dev = () => keyRingFor({ APP_ENV: 'development', projectRoot: dir });
  const devFile = () => path.join(dir, '.data', 'payload-keys.json');

  test('without keys configured, creates a development ring readable by its owner only', () => {
    const ring = dev();
    expect([ring.active, idsOf(ring), ring.keys.get('dev-1')?.length]).toEqual(['dev-1', ['dev-1'], 32]);
    expect(statSync(devFile()).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(devFile())).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(devFile(), 'utf8'))).toEqual({
      active: 'dev-1',
      keys: { 'dev-1': expect.any(String) },
    });
  });

  test('the development ring is created once: the next process reads the same key', () => {
    const first = dev().keys.get('dev-1');
    expect(dev().keys.get('dev-1')).toEqual(first);
  });

  test('a configured ring is used as it is, and no development file is written', () => {
    const ring = keyRingFor({
      APP_ENV: 'production',
      projectRoot: dir,
      PAYLOAD_KEYS: `k1:${k1}`,
      PAYLOAD_ACTIVE_KEY: 'k1',
    });
    expect(idsOf(ring)).toEqual(['k1']);
    expect(() => statSync(devFile())).toThrow(/ENOENT/);
  });
});
