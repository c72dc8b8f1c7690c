import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/*
 * Bundles the workflow code once, at image build time: `node dist/scripts/build-workflow-bundle.js <out.js>`.
 * The worker then loads it through WORKFLOW_BUNDLE instead of running webpack at every start.
 */

// Compiled into dist/scripts/ or run from scripts/ with tsx: the sources are read from the project root either way.
const root = path.resolve(__dirname, '..', __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '');

async function main() {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: build-workflow-bundle <output.js>');
    process.exit(2);
  }
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(root, 'workflows', 'index.ts') });
  const target = path.resolve(out);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, code);
  console.log(`workflow bundle: ${target} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((err) => {
  console.error(`workflow bundle: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
