import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationService } from '../../client/service/applications';
import { exportCsv } from '../../client/service/export';
import { territoryLoader } from '../../config/comuni';
import { ListFilterSchema } from '../../client/service/filters';
import { allApplications, applicationView, listApplications } from '../../client/service/register';
import { eventually } from '../support/eventually';
import { dayFromToday } from '../support/fixtures';
import { admitted, decide, inCommission, send } from '../support/journeys';
import { operator } from '../support/people';
import { startTestSystem, type TestSystem } from '../support/system';

/*
 * PostgreSQL is the register: Temporal forgets a closed workflow after the namespace's retention, people's reads
 * and the one-application-per-company rule must not.
 */

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
});
afterAll(async () => {
  await sys?.stop();
});

const temporalDescribe = (id: string) => sys.client.workflow.getHandle(id).describe();

/** What retention does to a closed workflow: Temporal deletes it (asynchronously: half a minute on the dev server). */
async function forget(id: string) {
  await sys.client.workflowService.deleteWorkflowExecution({
    namespace: sys.config.TEMPORAL_NAMESPACE,
    workflowExecution: { workflowId: id },
  });
  const gone = await eventually(
    () =>
      temporalDescribe(id).then(
        () => false,
        (err: unknown) => err instanceof WorkflowNotFoundError,
      ),
    (v) => v,
    90_000,
  );
  expect(gone).toBe(true);
}

const list = (filter: Record<string, string>) =>
  listApplications(sys.db, ListFilterSchema.parse({ call: sys.callId, ...filter }));

test('closed applications deleted from Temporal stay in show, list and export; applying again is refused', async () => {
  const rejected = await inCommission(sys);
  await decide(sys, rejected, 'REJECT', 'Impact not measurable.');
  const funded = await admitted(sys);
  await send(sys, funded, { type: 'RECORD_FUNDING', amountCents: 4_000_000, disbursedOn: dayFromToday(0) });
  const before = { rejected: await applicationView(sys.db, rejected), funded: await applicationView(sys.db, funded) };
  expect(before.rejected).toMatchObject({ state: 'rejected', final: true });
  expect(before.funded).toMatchObject({ state: 'funded', final: true });

  for (const id of [rejected, funded])
    await expect(sys.client.workflow.getHandle(id).result()).resolves.toMatchObject({ applicationId: id });
  await Promise.all([rejected, funded].map(forget));

  // show: the whole view, as it was before Temporal forgot.
  expect(await applicationView(sys.db, rejected)).toEqual(before.rejected);
  expect(await applicationView(sys.db, funded)).toEqual(before.funded);
  expect(before.funded).toMatchObject({
    fundedCents: 4_000_000,
    company: { legalName: 'Officina Sociale Srl', comune: 'Ivrea' },
    consultant: { bodyId: 'i3p' },
    timeline: expect.arrayContaining([expect.objectContaining({ event: 'RECORD_FUNDING', to: 'funded' })]),
  });

  // list, with its filters.
  const all = (await list({})).items.map((a) => a.applicationId);
  expect(all).toEqual(expect.arrayContaining([rejected, funded]));
  expect((await list({ state: 'funded' })).items.map((a) => a.applicationId)).toEqual([funded]);
  expect((await list({ state: 'rejected' })).items.map((a) => a.applicationId)).toEqual([rejected]);
  expect((await list({ vat: before.rejected.company.vatNumber })).items).toEqual([
    expect.objectContaining({ applicationId: rejected, state: 'rejected', companyName: 'Officina Sociale Srl' }),
  ]);
  expect((await list({ name: 'officina sociale', body: 'i3p' })).items.length).toBe(2);

  // export: one CSV line each, with the company's name and the figures.
  const csv = exportCsv(await allApplications(sys.db, { call: sys.callId })).split('\n');
  expect(csv[0]).toMatch(/^application_id,call_id,state,company,comune,/);
  expect(csv.find((l) => l.startsWith(`${funded},`))).toMatch(
    new RegExp(`^${funded},${sys.callId},funded,Officina Sociale Srl,Ivrea,i3p,employment;environment,40000\\.00`),
  );
  expect(csv.find((l) => l.startsWith(`${rejected},`))).toMatch(/,rejected,Officina Sociale Srl,Ivrea,i3p,/);

  // The same company applying again to the same call is refused by the register, whatever Temporal remembers,
  // and no workflow comes back to life for it.
  for (const [id, view] of [
    [rejected, before.rejected],
    [funded, before.funded],
  ] as const) {
    const again = sys.form({ company: { vatNumber: view.company.vatNumber, legalName: 'Officina Sociale Due Srl' } });
    await expect(sys.service.apply(again, operator)).rejects.toMatchObject({
      code: 'already_applied',
      message: expect.stringContaining(id),
    });
    await expect(temporalDescribe(id)).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(await applicationView(sys.db, id)).toEqual(view);
  }
  await expect(temporalDescribe(funded)).rejects.toBeInstanceOf(WorkflowNotFoundError);

  // A command to a forgotten application: the register says it is final.
  await expect(send(sys, funded, { type: 'WITHDRAW', reason: 'too late' })).rejects.toMatchObject({
    code: 'event_refused',
    message: expect.stringMatching(/funded, a final state/),
  });
}, 180_000);

test('an application whose workflow never started (crash after the commit) is started by the next apply', async () => {
  // The register's transaction commits, then Temporal cannot be reached.
  const unreachable = { workflow: { start: () => Promise.reject(new Error('14 UNAVAILABLE: ECONNREFUSED')) } };
  const crashing = new ApplicationService({
    config: sys.config,
    db: sys.db,
    client: unreachable as never,
    territory: territoryLoader(sys.config.projectRoot),
  });
  const form = sys.form();
  await expect(crashing.apply(form, operator)).rejects.toMatchObject({ code: 'temporal_unavailable' });
  const id = (await list({ vat: form.company.vatNumber })).items[0]!.applicationId;
  expect(await applicationView(sys.db, id)).toMatchObject({ state: 'submitted', seq: 0 });
  await expect(temporalDescribe(id)).rejects.toBeInstanceOf(WorkflowNotFoundError);

  await expect(sys.service.apply(form, operator)).rejects.toMatchObject({ code: 'already_applied' });
  const mended = await eventually(
    () => applicationView(sys.db, id),
    (v) => v.seq >= 1,
  );
  expect(mended).toMatchObject({ state: 'submitted', seq: 1, facts: { eligibility: 'eligible' } });
  expect((await temporalDescribe(id)).status.name).toBe('RUNNING');
});
