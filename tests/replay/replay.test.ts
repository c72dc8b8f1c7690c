import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../../security/data-converter';
import { historyFromJSON } from '../support/histories';
import { testKeyRing } from '../support/keys';

const corpus = path.join(__dirname, 'histories');

/** Every recorded history, in every generation folder: old ones must keep replaying as the code changes. */
function histories(): { workflowId: string; history: ReturnType<typeof historyFromJSON>; file: string }[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.json')) files.push(full);
    }
  };
  walk(corpus);
  return files.map((file) => ({
    workflowId: path.relative(corpus, file),
    file,
    history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))),
  }));
}

test('the corpus covers every final state and open states too', () => {
  const names = histories().map((h) => h.workflowId);
  expect(names.length).toBeGreaterThanOrEqual(20);
  for (const status of ['completed', 'continued_as_new', 'running'])
    expect(names.some((n) => n.endsWith(`-${status}.json`))).toBe(true);
});

test('the corpus holds histories from before and after the patched() change', () => {
  // Activity type names are plain text in the JSON (payloads are not): runs that confirmed a session, and those
  // that went through the patched branch and told the consultant.
  const confirming = histories().filter((h) => readFileSync(h.file, 'utf8').includes('"confirmSession"'));
  const patchedRuns = confirming.filter((h) => readFileSync(h.file, 'utf8').includes('"acknowledgeSession"'));
  expect(patchedRuns.length).toBeGreaterThan(0);
  expect(confirming.length).toBeGreaterThan(patchedRuns.length);
});

test('the corpus holds histories of both generations: activities per transition, and one local step each', () => {
  const activities = (h: ReturnType<typeof histories>[number]) =>
    (h.history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  // A local activity's marker names its type in core's own plain JSON payload (the result beside it is encrypted).
  const localActivities = (h: ReturnType<typeof histories>[number]) =>
    (h.history.events ?? []).flatMap((e) => {
      const marker = e.markerRecordedEventAttributes;
      const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : null;
      return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
    });
  const all = histories();
  const first = all.filter((h) => activities(h).includes('recordTransition'));
  const second = all.filter((h) => localActivities(h).includes('applyStep'));
  expect(first.length).toBeGreaterThan(0);
  expect(second.length).toBeGreaterThan(0);
  // Never both in one run: a run is of one generation (a first-generation run moves on by continuing as new).
  expect(first.filter((h) => second.includes(h))).toEqual([]);
  // Each generation has finished and still open runs to replay.
  for (const generation of [first, second]) {
    expect(generation.some((h) => h.workflowId.endsWith('-completed.json'))).toBe(true);
    expect(generation.some((h) => h.workflowId.endsWith('-running.json'))).toBe(true);
  }
});

test('the corpus holds funded projects, finished and open, from before and after their patched() changes', () => {
  type Recorded = ReturnType<typeof histories>[number];
  const typeOf = (h: Recorded) =>
    h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? null;
  // A patch marker names its id in core's own plain JSON, as a local activity's marker names its type.
  const patches = (h: Recorded) =>
    (h.history.events ?? []).flatMap((e) => {
      const marker = e.markerRecordedEventAttributes;
      const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : null;
      return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
    });
  const all = histories();
  const projects = all.filter((h) => typeOf(h) === 'projectWorkflow');
  for (const status of ['completed', 'running'])
    expect(projects.some((h) => h.workflowId.endsWith(`-${status}.json`))).toBe(true);
  // Runs recorded before each project change replay on its old path, runs after it on the new one.
  for (const change of ['project-search-attributes-as-they-are', 'project-no-reminder-when-overdue']) {
    const after = projects.filter((h) => patches(h).includes(change));
    expect(after.length).toBeGreaterThan(0);
    expect(projects.length).toBeGreaterThan(after.length);
  }
  // And an application that started its project as it was funded.
  expect(all.some((h) => typeOf(h) === 'applicationWorkflow' && patches(h).includes('start-project'))).toBe(true);
});

test('every recorded history replays on the current workflow code without a determinism error', async () => {
  const results = Worker.runReplayHistories(
    // With the codec production runs: histories recorded before encryption replay with every payload marked.
    { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, dataConverter: dataConverter(testKeyRing()) },
    histories(),
  );
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of results) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(histories().length);
});
