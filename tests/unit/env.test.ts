import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DEVELOPMENT_ID_SECRET, loadConfig } from '../../config/env';
import { temporalTls } from '../../security/tls';

/** A production environment that starts: every variable production asks for, set. */
const production = {
  APP_ENV: 'production',
  ID_SECRET: 'a-production-secret-of-32-chars!',
  PAYLOAD_KEYS_FILE: '/run/secrets/payload-keys',
  PUBLIC_URL: 'https://innosocial.example.org/',
};

/** The problems `loadConfig` names, one "VARIABLE: why" each. */
const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.replace(/^invalid environment: /, '').split('; ');
  }
  return [];
};

describe('loadConfig', () => {
  test('development needs nothing: the defaults run `npm start`', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      APP_ENV: 'development',
      ID_SECRET: DEVELOPMENT_ID_SECRET,
      TRUST_PROXY: false,
      publicUrl: 'http://127.0.0.1:3000',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('a complete production environment starts, its public URL without the trailing slash', () => {
    expect(problems(production)).toEqual([]);
    expect(loadConfig(production).publicUrl).toBe('https://innosocial.example.org');
  });

  test.each<[string, NodeJS.ProcessEnv, string]>([
    [
      'the development ID_SECRET',
      { ...production, ID_SECRET: undefined },
      'ID_SECRET: the development default is refused in production: set a secret of at least 16 characters',
    ],
    [
      'the development ID_SECRET written out',
      { ...production, ID_SECRET: DEVELOPMENT_ID_SECRET },
      'ID_SECRET: the development default is refused in production: set a secret of at least 16 characters',
    ],
    [
      'no payload keys',
      { ...production, PAYLOAD_KEYS_FILE: undefined },
      'PAYLOAD_KEYS_FILE: production encrypts every payload: give the key ring (PAYLOAD_KEYS_FILE)',
    ],
    [
      'no PUBLIC_URL',
      { ...production, PUBLIC_URL: undefined },
      'PUBLIC_URL: production needs the address people reach the pages at (https://...)',
    ],
  ])('production refuses %s, naming the variable', (_, env, problem) => {
    expect(problems(env)).toEqual([problem]);
  });

  test('every missing production setting is named at once', () => {
    expect(problems({ APP_ENV: 'production' }).map((p) => p.split(':')[0])).toEqual([
      'ID_SECRET',
      'PAYLOAD_KEYS_FILE',
      'PUBLIC_URL',
    ]);
  });

  test('the development ID_SECRET is fine in development and tests', () => {
    expect(problems({ APP_ENV: 'development' })).toEqual([]);
    expect(problems({ APP_ENV: 'test' })).toEqual([]);
  });

  test('an empty variable counts as unset', () => {
    expect(problems({ ...production, PUBLIC_URL: '' })).toEqual([expect.stringMatching(/^PUBLIC_URL: /)]);
    expect(loadConfig({ API_PORT: '' }).API_PORT).toBe(3000);
  });

  test.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['a short ID_SECRET', { ID_SECRET: 'short' }, ['ID_SECRET: at least 16 characters']],
    [
      'a TLS certificate without its key',
      { TEMPORAL_TLS_CERT_FILE: '/etc/tls/client.pem' },
      ['TEMPORAL_TLS_KEY_FILE: a client certificate needs its key (TEMPORAL_TLS_KEY_FILE)'],
    ],
    [
      'a TLS key without its certificate',
      { TEMPORAL_TLS_KEY_FILE: '/etc/tls/client.key' },
      ['TEMPORAL_TLS_CERT_FILE: a client key needs its certificate (TEMPORAL_TLS_CERT_FILE)'],
    ],
    [
      'both payload key sources',
      { PAYLOAD_KEYS_FILE: '/run/secrets/payload-keys', PAYLOAD_KEYS: 'k1:x' },
      ['PAYLOAD_KEYS: set PAYLOAD_KEYS_FILE or PAYLOAD_KEYS, not both'],
    ],
    ['an unknown APP_ENV', { APP_ENV: 'staging' }, [expect.stringMatching(/^APP_ENV: /)]],
  ])('%s is refused, naming the variable', (_, env, expected) => {
    expect(problems(env)).toEqual(expected);
  });

  test('a certificate with its key is accepted', () => {
    const tls = { TEMPORAL_TLS_CERT_FILE: '/etc/tls/client.pem', TEMPORAL_TLS_KEY_FILE: '/etc/tls/client.key' };
    expect(problems(tls)).toEqual([]);
  });

  describe('TRUST_PROXY', () => {
    test.each<[string | undefined, boolean | number | string[]]>([
      [undefined, false],
      ['false', false],
      ['true', true],
      ['0', 0],
      ['2', 2],
      ['10.0.0.1', ['10.0.0.1']],
      ['10.0.0.1, 192.168.0.0/16', ['10.0.0.1', '192.168.0.0/16']],
      ['::1,fd00::/8', ['::1', 'fd00::/8']],
    ])('%p -> %p', (value, expected) => {
      expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
    });

    test.each(['yes', 'TRUE', 'proxy.internal', '10.0.0.1; 10.0.0.2', '-1'])('%p is refused', (value) => {
      expect(problems({ TRUST_PROXY: value })).toEqual([
        'TRUST_PROXY: false, true, a hop count, or proxy addresses / CIDR ranges',
      ]);
    });
  });
});

describe('temporalTls', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tls-'));
    for (const name of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(dir, name), `-- ${name} --`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const at = (name: string) => path.join(dir, name);

  test('no CA and no certificate: a plain connection (the local dev server)', () => {
    expect(temporalTls(loadConfig({}))).toBeNull();
  });

  test('mutual TLS: the CA, the client pair and the server name, read from their files', () => {
    const tls = temporalTls(
      loadConfig({
        TEMPORAL_TLS_CA_FILE: at('ca.pem'),
        TEMPORAL_TLS_CERT_FILE: at('client.pem'),
        TEMPORAL_TLS_KEY_FILE: at('client.key'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      }),
    );
    expect(tls).toEqual({
      serverRootCACertificate: Buffer.from('-- ca.pem --'),
      clientCertPair: { crt: Buffer.from('-- client.pem --'), key: Buffer.from('-- client.key --') },
      serverNameOverride: 'temporal.internal',
    });
  });

  test('a server name alone turns TLS on, with the system roots', () => {
    expect(temporalTls(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal.example.org' }))).toEqual({
      serverNameOverride: 'temporal.example.org',
    });
    expect(temporalTls(loadConfig({}))).toBeNull();
  });

  test('a file that cannot be read is named with its variable', () => {
    expect(() => temporalTls(loadConfig({ TEMPORAL_TLS_CA_FILE: at('missing.pem') }))).toThrow(
      `cannot read TEMPORAL_TLS_CA_FILE ${at('missing.pem')}: ENOENT`,
    );
  });
});
