import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestApi } from './api';
import { projectRoot } from './fixtures';

const cliPath = path.join(projectRoot, 'bin', 'innosocial.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The installed command runs the compiled CLI: a suite that drives it checks it was built. */
export function assertCliBuilt() {
  if (!existsSync(path.join(projectRoot, 'dist', 'client', 'cli', 'main.js')))
    throw new Error('dist/ is missing: build first (npx tsc -p tsconfig.build.json; npm test does it)');
}

/** Runs the real installed command (bin/innosocial.js) as the operator whose token it holds, against `api`. */
export function runCli(
  api: Pick<TestApi, 'base' | 'users'>,
  args: string[],
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
): Promise<CliRun> {
  const full = {
    ...process.env,
    INNOSOCIAL_API_URL: api.base,
    INNOSOCIAL_TOKEN: api.users.operator.token,
    DATABASE_URL: undefined,
    ...env,
  };
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, cliPath, ...args], { env: full }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr, ms: performance.now() - started });
    });
  });
}
