import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../security/data-converter';

/*
 * The workflow bundle, built one way everywhere: at image build time (`node dist/scripts/workflow-bundle.js
 * <out.js>`, then WORKFLOW_BUNDLE), by `npm start` into a cache keyed by the sources (so a second start does not run
 * webpack again), and by the tests' global setup.
 */

// Compiled into dist/scripts/ or run from scripts/ with tsx: the sources are read from the project root either way.
const root = path.resolve(__dirname, '..', __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '');
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error } as never;

export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(root, 'workflows', 'index.ts'),
    // Failure messages are encrypted inside the workflows too: the converter must be in the bundle.
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: quiet,
  });
  return code;
}

/** Every source the bundle is made of (workflow code imports machines and parts of domain and security). */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|json)$/.test(name)) hash.update(full).update(readFileSync(full));
    }
  };
  for (const dir of ['workflows', 'machines', 'domain', 'security']) walk(path.join(root, dir));
  hash.update(readFileSync(path.join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

/** The bundle of the current sources: built once, then read from `dir` while no source changes. */
export async function cachedWorkflowBundle(dir: string, say: (msg: string) => void = () => undefined): Promise<string> {
  const file = path.join(dir, `workflow-bundle-${sourceDigest()}.js`);
  if (existsSync(file)) return file;
  say('bundling the workflow code (once per change of its sources)...');
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, await buildWorkflowBundle());
  renameSync(temp, file);
  return file;
}

async function main() {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: workflow-bundle <output.js>');
    process.exit(2);
  }
  const code = await buildWorkflowBundle();
  const target = path.resolve(out);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, code);
  console.log(`workflow bundle: ${target} (${Math.round(code.length / 1024)} KiB)`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`workflow bundle: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
