import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { UserError } from '../client/errors';
import type { ApplicationService } from '../client/service/applications';
import { applicationView } from '../client/service/register';
import type { Config } from '../config/env';
import type { Db } from '../db/connect';
import type { ApplicationForm } from '../domain/application';
import { romeToday } from '../domain/rome';
import type { ApplicationCommand } from '../machines/events';
import { applicationForm, dayFromToday, preProject, session } from '../tests/support/fixtures';
import { assign, confirmedSession, decide, registered, send } from '../tests/support/journeys';
import { operator, PEOPLE } from '../tests/support/people';
import type { CommandMeta } from '../workflows/messages';
import { baselineCommand, baselineWorkflow } from './baseline/workflow';

/*
 * One happy-path lifecycle, both ways: the project through the same service the API and CLI use (the journeys the
 * end-to-end tests walk), the baseline as ten bare Updates with the same payloads. Each returns how long every
 * command's round trip took.
 */

export interface ProjectSide {
  config: Config;
  callId: string;
  db: Db;
  service: ApplicationService;
}

/** Commands the service answered "send it again" (503, temporal_unavailable) and the benchmark sent again. */
export const resent = { count: 0 };

/**
 * Times every Update the journeys send, leaving the journeys themselves as the tests use them. A command answered
 * "send it again" is sent again, as the CLI's user would: its round trip counts from the first try, and `resent`
 * says how often it happened.
 */
function timed(side: ProjectSide, times: number[]) {
  const service = Object.create(side.service) as ApplicationService;
  service.send = async (...args: Parameters<ApplicationService['send']>) => {
    const start = performance.now();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          // Not applied: sent again under a fresh update id (a failed handler's answer stays with the old one).
          return await side.service.send(...args);
        } catch (err) {
          if ((err as UserError).code !== 'temporal_unavailable' || attempt === 5) throw err;
          resent.count += 1;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    } finally {
      times.push(performance.now() - start);
    }
  };
  return {
    service,
    db: side.db,
    config: side.config,
    form: (overrides = {}) => applicationForm({ callId: side.callId, ...overrides }),
    view: (id: string) => applicationView(side.db, id),
  };
}

/** Registration, then assign, two sessions logged and confirmed, complete, pre-project, forward, approve, fund. */
export async function projectLifecycle(side: ProjectSide): Promise<{ applicationId: string; commandsMs: number[] }> {
  const commandsMs: number[] = [];
  const sys = timed(side, commandsMs);
  const id = await registered(sys);
  await assign(sys, id);
  await confirmedSession(sys, id, dayFromToday(1), '09:00', '13:00');
  await confirmedSession(sys, id, dayFromToday(2), '14:00', '18:00');
  await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' });
  await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() });
  await send(sys, id, { type: 'FORWARD_TO_COMMISSION' });
  await decide(sys, id, 'APPROVE', 'solid social impact plan');
  const { admittedCents } = await applicationView(side.db, id);
  await send(sys, id, { type: 'RECORD_FUNDING', amountCents: admittedCents!, disbursedOn: romeToday(new Date()) });
  return { applicationId: id, commandsMs };
}

/** The first step of a lifecycle: an application that stays open, waiting in accompaniment. */
export async function projectOpen(side: ProjectSide): Promise<string> {
  const sys = timed(side, []);
  const id = await registered(sys);
  await assign(sys, id);
  return id;
}

/** An application waiting for the commission's decision (its decision is what the HTTP comparison times). */
export async function projectInCommission(side: ProjectSide): Promise<string> {
  const sys = timed(side, []);
  const id = await registered(sys);
  await assign(sys, id);
  await confirmedSession(sys, id, dayFromToday(1), '09:00', '13:00');
  await confirmedSession(sys, id, dayFromToday(2), '14:00', '18:00');
  await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' });
  await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() });
  await send(sys, id, { type: 'FORWARD_TO_COMMISSION' });
  return id;
}

export interface BaselineSide {
  client: Client;
  taskQueue: string;
  callId: string;
}

/** The same ten commands, with the payloads the project receives (a confirmation code stands in for the e-mail's). */
const baselineCommands = (): { event: ApplicationCommand; meta: CommandMeta }[] => [
  {
    event: {
      type: 'ASSIGN_BODY',
      implementingBody: 'i3p',
      consultantId: randomUUID(),
      effectiveOn: romeToday(new Date()),
    },
    meta: operator,
  },
  { event: { type: 'LOG_SESSION', session: session(dayFromToday(1), '09:00', '13:00') }, meta: PEOPLE.consultant },
  { event: { type: 'CONFIRM_SESSION', date: dayFromToday(1), start: '09:00', code: '482913' }, meta: PEOPLE.company },
  { event: { type: 'LOG_SESSION', session: session(dayFromToday(2), '14:00', '18:00') }, meta: PEOPLE.consultant },
  { event: { type: 'CONFIRM_SESSION', date: dayFromToday(2), start: '14:00', code: '173650' }, meta: PEOPLE.company },
  { event: { type: 'COMPLETE_ACCOMPANIMENT' }, meta: operator },
  { event: { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, meta: operator },
  { event: { type: 'FORWARD_TO_COMMISSION' }, meta: operator },
  {
    event: { type: 'APPROVE', motivation: 'solid social impact plan', chair: PEOPLE.chair.actor },
    meta: PEOPLE.chair,
  },
  { event: { type: 'RECORD_FUNDING', amountCents: 4_000_000, disbursedOn: romeToday(new Date()) }, meta: operator },
];

const startBaseline = (side: BaselineSide, form: ApplicationForm) =>
  side.client.workflow.start(baselineWorkflow, {
    taskQueue: side.taskQueue,
    workflowId: `bench-baseline-${randomUUID()}`,
    args: [form],
  });

export async function baselineLifecycle(side: BaselineSide): Promise<{ workflowId: string; commandsMs: number[] }> {
  const handle = await startBaseline(side, applicationForm({ callId: side.callId }));
  const commandsMs: number[] = [];
  for (const command of baselineCommands()) {
    const start = performance.now();
    await handle.executeUpdate(baselineCommand, { args: [command] });
    commandsMs.push(performance.now() - start);
  }
  return { workflowId: handle.workflowId, commandsMs };
}

/** A baseline workflow that stays open after its first command. */
export async function baselineOpen(side: BaselineSide): Promise<string> {
  const handle = await startBaseline(side, applicationForm({ callId: side.callId }));
  await handle.executeUpdate(baselineCommand, { args: [baselineCommands()[0]] });
  return handle.workflowId;
}

/** Runs `n` of `one` with `inFlight` at a time; the wall time and every value they returned. */
export async function inParallel<T>(n: number, inFlight: number, one: () => Promise<T>) {
  const results: T[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(n, inFlight) }, async () => {
      while (started < n) {
        started += 1;
        results.push(await one());
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, results };
}
