import type { Client } from '@temporalio/client';
import { keyIdsOf, payloadsIn } from '../../security/codec';
import type { KeyRing } from '../../security/keyring';

export interface KeyUsage {
  active: string;
  /** Every key the ring holds or a retained history names, with how many workflows still need it. */
  keys: { id: string; inRing: boolean; active: boolean; workflows: number }[];
  workflows: number;
}

/**
 * Which payload keys the histories Temporal still keeps were written with: a key may leave the ring once no history
 * needs it (closed ones are kept for the namespace's retention). Reads every history, open and closed: a tool for
 * the rare rotation, not for every day.
 */
export async function keyUsage(client: Client, ring: KeyRing, filter: { callId?: string } = {}): Promise<KeyUsage> {
  const counts = new Map<string, number>([...ring.keys.keys()].map((id) => [id, 0]));
  const query = filter.callId ? `CallId = '${filter.callId}'` : undefined;
  const executions: { workflowId: string; runId: string }[] = [];
  for await (const e of client.workflow.list(query ? { query } : {})) executions.push(e);
  // A few histories at a time: the frontend answers them in parallel, one by one would take minutes.
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < executions.length; i = next++) {
      const history = await client.workflow.getHandle(executions[i]!.workflowId, executions[i]!.runId).fetchHistory();
      for (const id of keyIdsOf(payloadsIn(history))) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  const workflows = executions.length;
  return {
    active: ring.active,
    keys: [...counts].map(([id, n]) => ({ id, inRing: ring.keys.has(id), active: id === ring.active, workflows: n })),
    workflows,
  };
}
