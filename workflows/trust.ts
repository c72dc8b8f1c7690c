import { ApplicationFailure, patched } from '@temporalio/workflow';
import { FAILURE } from './messages';

/**
 * What the payload codec hands the workflow when it cannot authenticate a payload (plain JSON, an unknown key, a
 * bad tag): never a thrown error, which would wedge the workflow task, but this marked value.
 */
export interface Untrusted {
  $untrusted: string;
  value: unknown;
}

export const isUntrusted = (v: unknown): v is Untrusted =>
  typeof v === 'object' && v !== null && typeof (v as Partial<Untrusted>).$untrusted === 'string';

/**
 * Runs recorded before payloads were encrypted are plain from end to end, and replay with every payload marked:
 * for them the marked value is taken as it is. Anything new that arrives unauthenticated is refused. patched(),
 * not replay detection, tells the two apart: the marker is written the first time a plain payload is refused.
 * A run of the current generation never took a plain payload, so it refuses without asking (and without a marker:
 * a forged signal then leaves nothing in its history but itself and the task that read it).
 */
export function trusted<T>(value: unknown, where: string, generation?: 1 | 2): T {
  if (!isUntrusted(value)) return value as T;
  if (generation === 2 || patched('refuse-untrusted-payloads')) throw untrustedFailure(where, value.$untrusted);
  return value.value as T;
}

export const untrustedFailure = (where: string, why: string) =>
  ApplicationFailure.create({
    type: FAILURE.untrusted,
    message: `${where} refused: its payload is not authenticated (${why})`,
    nonRetryable: true,
  });
