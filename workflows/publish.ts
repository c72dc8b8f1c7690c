import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { supportOf } from '../domain/pre-project';
import type { Deadline } from '../machines/deadlines';
import { stateOf, type ApplicationSnapshot } from '../machines/explain';
import { describeState } from './details';
import type { CommandMeta } from './messages';
import { SA } from './search-attributes';

export interface Published {
  snapshot: ApplicationSnapshot;
  deadline: Deadline | null;
  lastActor: CommandMeta | null;
}

/** What staff filter on in the Temporal UI, from the application's state: no personal data. */
function searchAttributes({ snapshot, deadline }: Published): SearchAttributePair[] {
  const c = snapshot.context;
  return [
    { key: SA.state, value: stateOf(snapshot) },
    { key: SA.themes, value: c.themes },
    { key: SA.call, value: c.callId },
    ...(c.implementingBody ? [{ key: SA.body, value: c.implementingBody }] : []),
    ...(c.preProject ? [{ key: SA.requestedCents, value: supportOf(c.preProject, c.rules).totalCents }] : []),
    ...(c.admittedCents !== null ? [{ key: SA.admittedCents, value: c.admittedCents }] : []),
    { key: SA.deadline, value: deadline ? new Date(deadline.dueAt) : null },
  ] as SearchAttributePair[];
}

const same = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : JSON.stringify(a) === JSON.stringify(b);

/**
 * Publishes search attributes and the UI's current details. 'changed' upserts only the attributes whose value
 * moved (each upsert is a history event); 'all' upserts every one, as the first generation always did.
 */
export function publisher() {
  return (mode: 'all' | 'changed', now: Published) => {
    // Read afresh each time: an upsert replaces workflowInfo() with a new copy, and comparing with the attributes
    // the run started with re-sent unchanged values and never cleared one (the deadline) that the start lacked.
    const typed = workflowInfo().typedSearchAttributes;
    const pairs = searchAttributes(now);
    const changed = mode === 'all' ? pairs : pairs.filter((p) => !same(typed.get(p.key as never) ?? null, p.value));
    if (changed.length > 0) upsertSearchAttributes(changed);
    setCurrentDetails(describeState(now));
  };
}
