import { createHash } from 'node:crypto';

/** Stable JSON (sorted keys), so the same payload always yields the same digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    const sorted = entries.sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${sorted.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');
export const payloadDigest = (payload: unknown) => digestOf(canonicalJson(payload));
