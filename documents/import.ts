import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Executor } from '../db/repositories/applications';
import { sha256Of, storeBlob } from './store';

/**
 * Documents written by the first generation lived as files named by their SHA-256 under DOCUMENTS_DIR/<first two
 * hex digits>/. This brings them into PostgreSQL (where every replica and one backup find them): each file is checked
 * against its name, stored once, and the run can be repeated. Files that do not hash to their name are reported and
 * left out, never stored under a name they do not match.
 */
export async function importDocumentFiles(db: Executor, dir: string) {
  const report = { imported: 0, damaged: [] as string[], ignored: [] as string[] };
  for (const prefix of (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    for (const entry of await readdir(path.join(dir, prefix.name), { withFileTypes: true })) {
      const file = path.join(dir, prefix.name, entry.name);
      if (!entry.isFile() || !/^[0-9a-f]{64}$/.test(entry.name) || !entry.name.startsWith(prefix.name)) {
        report.ignored.push(file);
        continue;
      }
      const bytes = await readFile(file);
      if (sha256Of(bytes) !== entry.name) {
        report.damaged.push(file);
        continue;
      }
      await storeBlob(db, bytes);
      report.imported += 1;
    }
  }
  return report;
}
