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

/** Every rules file of the folder, newest version of each call first. */
export function allRules(dir: string): CallRules[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => parseRulesFile(path.join(dir, f)))
    .sort((a, b) => a.callId.localeCompare(b.callId) || b.version - a.version);
}

/** The newest version of a call's rules: the one a new application pins. */
export function currentRules(dir: string, callId: string): CallRules {
  const latest = allRules(dir).find((r) => r.callId === callId);
  if (!latest) throw new RulesError(`no rules for call "${callId}" in ${dir}`);
  return latest;
}

/**
 * The rules an application pinned, by call and version: read once per process. Workflows carry only what their
 * machine reads; whatever else a step needs (the budget, the territory, the wording of criteria) comes from here.
 */
export function pinnedRules(dir: string): (callId: string, version: number) => CallRules {
  const cache = new Map<string, CallRules>();
  return (callId, version) => {
    const key = `${callId}.v${version}`;
    let rules = cache.get(key);
    if (!rules) {
      rules = allRules(dir).find((r) => r.callId === callId && r.version === version);
      if (!rules) throw new RulesError(`no rules ${key} in ${dir}: an application pinned them, so they must stay`);
      cache.set(key, rules);
    }
    return rules;
  };
}
