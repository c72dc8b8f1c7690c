import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

// The SDK's historyToJSON breaks when npm installs two protobufjs copies (grpc's proto-loader pins v7, so
// @temporalio/common and @temporalio/proto each get their own v8): take protojson from the copy the types come from.
const { toJson, fromJson } = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as {
  toJson: (type: unknown, message: unknown) => unknown;
  fromJson: (type: unknown, json: unknown) => proto.temporal.api.history.v1.History;
};
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);
/** Reads a history this recorder wrote (canonical proto3 JSON). */
export const historyFromJSON = (json: unknown) => fromJson(historyType, json);

const historyToJSON = (history: proto.temporal.api.history.v1.IHistory) =>
  JSON.stringify(toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)));

/**
 * With RECORD_HISTORIES_DIR set, a test system writes the histories of the workflows it ran into that folder when it
 * stops, one JSON file each, named by test file, final status and run: the corpus that tests/replay replays.
 */
export async function recordHistories(
  client: Client,
  source: { taskQueue: string } | { workflowIds: string[] },
): Promise<void> {
  const dir = process.env.RECORD_HISTORIES_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const suite = path.basename(expect.getState().testPath ?? 'unknown', '.test.ts');
  // The time-skipping server has no visibility store: there the caller names the workflows.
  const runs: { workflowId: string; runId?: string }[] = [];
  if ('taskQueue' in source) {
    for await (const wf of client.workflow.list({ query: `TaskQueue = '${source.taskQueue}'` }))
      runs.push({ workflowId: wf.workflowId, runId: wf.runId });
  } else {
    runs.push(...source.workflowIds.map((workflowId) => ({ workflowId })));
  }
  let n = 0;
  for (const run of runs) {
    const handle = client.workflow.getHandle(run.workflowId, run.runId);
    const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
    const name = `${suite}-${String(++n).padStart(3, '0')}-${description.status.name.toLowerCase()}.json`;
    writeFileSync(path.join(dir, name), historyToJSON(history));
  }
}
