import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Comune } from '../domain/eligibility';

export const DEFAULT_COMUNI_FILE = 'data/comuni-citta-metropolitana-torino.csv';

/** The comuni of a call's territory; by default the 312 of the Città metropolitana (see data/README.md). */
export function loadComuni(projectRoot: string, comuniFile = DEFAULT_COMUNI_FILE): Comune[] {
  const file = path.join(projectRoot, comuniFile);
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  if (header !== 'istat_code,name,cadastral_code,population') throw new Error(`${file}: unexpected header ${header}`);
  // No field is quoted in this file; a comma in a name would show up as a wrong column count.
  return rows.map((line, i) => {
    const cols = line.split(',');
    if (cols.length !== 4 || !/^\d{6}$/.test(cols[0]!)) throw new Error(`${file}:${i + 2}: malformed row`);
    return { istatCode: cols[0]!, name: cols[1]! };
  });
}

/** Each territory file read once, on first use: rules versions name theirs, most share one. */
export function territoryLoader(projectRoot: string): (comuniFile: string) => readonly Comune[] {
  const cache = new Map<string, readonly Comune[]>();
  return (comuniFile) => {
    let comuni = cache.get(comuniFile);
    if (!comuni) cache.set(comuniFile, (comuni = loadComuni(projectRoot, comuniFile)));
    return comuni;
  };
}
