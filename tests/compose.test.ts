import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

// No Docker engine runs where the tests do: the stack is checked statically, against the code it has to match.

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: string[] | Record<string, unknown>;
}

const root = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

// Compose honours YAML merge keys (the app services share their environment through them); YAML 1.2 needs opting in.
const { services } = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const APP_SERVICES = ['worker', 'api'];

/** A tag on the last path segment (so `host:5000/image` does not count), not `latest`; a digest may follow. */
function isPinned(image: string): boolean {
  const tag = /^(?:[^/]+\/)*[^/:]+:([\w][\w.-]*)(?:@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest';
}

test('the stack has every service', () => {
  expect(Object.keys(services)).toEqual(
    expect.arrayContaining(['postgres', 'temporal', 'temporal-search-attributes', 'temporal-ui', 'worker', 'api']),
  );
});

test('every image, in the compose file and the Dockerfile, is pinned to a version', () => {
  // A service that is not built here runs an image, so an unnamed one counts as unpinned.
  const composeImages = Object.entries(services)
    .filter(([, s]) => !s.build)
    .map(([name, s]) => s.image ?? `${name}: no image`);
  const fromImages = [...read('Dockerfile').matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)/gim)].map((m) => m[1]!);
  expect(fromImages.length).toBeGreaterThan(0);
  expect([...composeImages, ...fromImages].filter((image) => !isPinned(image))).toEqual([]);
});

test('every depends_on names a service of the stack', () => {
  const dangling = Object.entries(services).flatMap(([name, s]) => {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    return deps.filter((dep) => !(dep in services)).map((dep) => `${name} -> ${dep}`);
  });
  expect(dangling).toEqual([]);
});

test.each(APP_SERVICES)('%s reaches the postgres and temporal services', (name) => {
  const env = service(name).environment ?? {};
  expect(new URL(String(env.DATABASE_URL)).hostname).toBe('postgres');
  expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

test('the one-shot service registers exactly the search attributes the workflows use', () => {
  const script = (service('temporal-search-attributes').command ?? []).join(' ');
  const registered = [...script.matchAll(/--name\s+(\S+)\s+--type\s+(\S+)/g)].map((m) => [m[1], m[2]!.toUpperCase()]);
  // The CLI spells types `KeywordList`, the SDK `KEYWORD_LIST`.
  const declared = ALL_SEARCH_ATTRIBUTES.map((key) => [key.name, key.type.replace(/_/g, '')]);
  expect(registered.sort()).toEqual(declared.sort());
  // Registered where the app services will look for them.
  for (const name of APP_SERVICES) {
    const env = service(name).environment ?? {};
    expect(script).toContain(`--address ${env.TEMPORAL_ADDRESS}`);
    expect(script).toContain(`--namespace ${env.TEMPORAL_NAMESPACE}`);
  }
});

describe('the app commands run what `tsc -p tsconfig.build.json` emits', () => {
  const base = JSON.parse(read('tsconfig.json')) as {
    include: string[];
    compilerOptions: { outDir: string; rootDir: string };
  };
  const build = JSON.parse(read('tsconfig.build.json')) as { include?: string[] };
  const { outDir, rootDir } = base.compilerOptions;
  const include = build.include ?? base.include;

  // tsc writes <rootDir>/x.ts to <outDir>/x.js.
  const sourceOf = (script: string) =>
    path.posix.join(rootDir, path.posix.relative(outDir, script)).replace(/\.js$/, '.ts');

  test.each([
    ['worker', 'worker.ts'],
    // May not exist yet when this runs (written alongside), so only the mapping is checked.
    ['api', 'client/api/main.ts'],
  ])('%s runs the output of %s', (name, source) => {
    const [bin, script] = service(name).command ?? [];
    expect(bin).toBe('node');
    expect(sourceOf(String(script))).toBe(source);
    expect(include.some((dir) => source === dir || source.startsWith(`${dir}/`))).toBe(true);
  });

  test('worker.ts exists', () => {
    expect(existsSync(path.join(root, 'worker.ts'))).toBe(true);
  });
});
