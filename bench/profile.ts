import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * Where a worker's CPU went: a V8 .cpuprofile (node --cpu-prof) summed by self time, per function and per
 * package or source file, so the largest costs can be named without opening a profiler.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a file belongs to, or its path inside the project; the workflow bundle and Node itself by name. */
export function ownerOf(url: string): string {
  if (!url) return '(native / idle)';
  if (url.startsWith('node:')) return 'node (built-ins)';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = file.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (/workflow-bundle|bundles\//.test(file)) return 'workflow bundle (workflows, machines, xstate)';
  const project = file.indexOf('/main/');
  return project >= 0 ? file.slice(project + '/main/'.length) : path.basename(file);
}

export function summariseProfile(dir: string, top = 12): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      const micros = profile.timeDeltas[i] ?? 0;
      if (!node || node.callFrame.functionName === '(idle)' || node.callFrame.functionName === '(program)') return;
      total += micros;
      const { functionName, url, lineNumber } = node.callFrame;
      const fn = `${functionName || '(anonymous)'} ${ownerOf(url)}:${lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
      byOwner.set(ownerOf(url), (byOwner.get(ownerOf(url)) ?? 0) + micros);
    });
  }
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, v]) => `  ${(v / 1000).toFixed(0).padStart(7)} ms  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`,
      )
      .join('\n');
  return [
    `CPU profile of the project's worker (${files.length} file(s) in ${dir}): ${(total / 1000).toFixed(0)} ms busy`,
    'self time by package or file:',
    list(byOwner),
    'self time by function:',
    list(byFunction),
  ].join('\n');
}
