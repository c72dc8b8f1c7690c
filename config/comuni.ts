import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Comune } from '../domain/eligibility';

/** The 312 comuni of the metropolitan territory (data/README.md gives the source and licence). */
export function loadComuni(projectRoot: string): Comune[] {
  const file = path.join(projectRoot, 'data', 'comuni-citta-metropolitana-torino.csv');
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  if (header !== 'istat_code,name,cadastral_code,population') throw new Error(`${file}: unexpected header ${header}`);
  // No field is quoted in this file; a comma in a name would show up as a wrong column count.
  return rows.map((line, i) => {
    const cols = line.split(',');
    if (cols.length !== 4 || !/^\d{6}$/.test(cols[0]!)) throw new Error(`${file}:${i + 2}: malformed row`);
    return { istatCode: cols[0]!, name: cols[1]! };
  });
}
