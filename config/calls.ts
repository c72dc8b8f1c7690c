import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CallRulesSchema, type CallRules } from '../domain/rules';

export class RulesError extends Error {}

/** Reads and validates one rules file; a bad field is named with its path in the file. */
export function parseRulesFile(file: string): CallRules {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RulesError(`${file}: not readable JSON (${(err as Error).message})`);
  }
  const parsed = CallRulesSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new RulesError(`${file}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** The newest version of a call's rules: the one a new application pins. */
export function currentRules(dir: string, callId: string): CallRules {
  const versions = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => parseRulesFile(path.join(dir, f)))
    .filter((r) => r.callId === callId)
    .sort((a, b) => b.version - a.version);
  const latest = versions[0];
  if (!latest) throw new RulesError(`no rules for call "${callId}" in ${dir}`);
  return latest;
}
