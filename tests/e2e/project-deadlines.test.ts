import { budgetOverview, ledgerBalance } from '../../db/repositories/budget';
import { addDays, addMonths } from '../../machines/project.deadlines';
import { projectWorkflowId } from '../../workflows/messages';
import { SA } from '../../workflows/search-attributes';
import { eventually } from '../support/eventually';
import { PEOPLE } from '../support/people';
import {
  ADMITTED_CENTS,
  finalReport,
  inAnotherCall,
  projectIn,
  projectMail,
  projectOf,
  projectPayloads,
  refusalOf,
  toProject,
  TRAINING,
  upload,
  verdict,
} from '../support/project-journeys';
import {
  admittedNow,
  fundedProjectNow,
  serverToday,
  skipToBefore,
  startTimeSkippingSystem,
  type TimeSkippingSystem,
} from '../support/time-skipping';

/*
 * The funded project's deadlines (issue 13) as they fire, on Temporal's time-skipping test server with the real
 * worker and database: a year of realisation, the 60 days of the final report and the 10 days of observations pass in
 * moments. What needs no time to pass is in project.test.ts, on the real dev server.
 */

let sys: TimeSkippingSystem;
beforeAll(async () => {
  sys = await startTimeSkippingSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const skipTo = (dueAt: string, daysBefore: number) => skipToBefore(sys, dueAt, daysBefore);
const reminders = async (id: string) => (await projectMail(sys, id)).filter((m) => m.startsWith('project.reminder/'));
const handle = (id: string) => sys.client.workflow.getHandle(projectWorkflowId(id));

test('reminders before the realisation end and the report due; no report: revoked after observations', async () => {
  const id = await fundedProjectNow(sys);
  const started = await projectOf(sys, id);
  const disbursedOn = started.disbursedOn;
  expect(started.deadline).toMatchObject({ kind: 'realisation_end', dueOn: addMonths(disbursedOn, 12) });
  const end = started.deadline!;

  // The 2023 rules remind 30 and 7 days before each deadline: the company alone while the project is carried out.
  await skipTo(end.dueAt, 30.01);
  expect(await reminders(id)).toEqual([]);
  await skipTo(end.dueAt, 29.99);
  expect(await reminders(id)).toEqual(['project.reminder/company/realisation_end/30']);
  await skipTo(end.dueAt, 6.99);
  expect(await reminders(id)).toHaveLength(2);
  await skipTo(end.dueAt, 0.01);
  expect((await projectOf(sys, id)).state).toBe('in_progress');

  await skipTo(end.dueAt, -0.01);
  const due = await projectIn(sys, id, 'final_report_due');
  // 60 days from the end of the realisation period (not from the moment the timer fired).
  expect(due.deadline).toMatchObject({ kind: 'final_report', startsOn: end.dueOn, dueOn: addDays(end.dueOn, 60) });
  expect(due.timeline.at(-1)).toMatchObject({
    event: 'END_REALISATION',
    role: 'system',
    summary: { endedOn: end.dueOn },
  });
  const report = due.deadline!;
  await skipTo(report.dueAt, 6.99);
  // The consultant writes the report: the report's reminders go to both.
  expect(await reminders(id)).toEqual([
    'project.reminder/company/realisation_end/30',
    'project.reminder/company/realisation_end/7',
    'project.reminder/company/final_report/30',
    'project.reminder/consultant/final_report/30',
    'project.reminder/company/final_report/7',
    'project.reminder/consultant/final_report/7',
  ]);

  // No report by the end of its last day: a revocation is intended, for everything disbursed, with the reason.
  await skipTo(report.dueAt, -0.01);
  const intended = await projectIn(sys, id, 'revocation_intended');
  const reasons = [`the final report, due by ${report.dueOn}, was not received`];
  expect(intended).toMatchObject({
    intention: { kind: 'revocation', cause: 'missing_report', reasons, recoveryCents: ADMITTED_CENTS },
    deadline: { kind: 'observations', startsOn: addDays(report.dueOn, 1), dueOn: addDays(report.dueOn, 11) },
  });
  expect(intended.timeline.at(-1)).toMatchObject({ event: 'EXPIRE_REPORT_DEADLINE', role: 'system' });
  const notices = await projectPayloads(sys, id, 'project.intention');
  expect(notices).toEqual([
    expect.objectContaining({ audience: 'company', reasons, observationsDueOn: intended.deadline!.dueOn }),
    expect.objectContaining({ audience: 'operator', reasons, recoveryCents: ADMITTED_CENTS }),
  ]);

  // Law 241/1990: no decision before the company's 10 days are over, even with its observations in hand.
  const observations = {
    receivedOn: await serverToday(sys),
    summary: 'The report was ready: the consultant fell ill.',
    documents: [await upload(sys, id, 'observations', 'medical certificate')],
  };
  await toProject(sys, id, { type: 'SUBMIT_OBSERVATIONS', observations }, PEOPLE.consultant);
  const confirm = () => toProject(sys, id, { type: 'CONFIRM_REVOCATION', motivation: 'no report, no grant' });
  expect(await refusalOf(confirm())).toMatchObject({
    code: 'event_refused',
    message: expect.stringMatching(/observations period \(10 days from the notice\) has not ended yet/),
  });
  // A 10-day period has room for the 7-day reminder only.
  await skipTo(intended.deadline!.dueAt, -0.01);
  expect((await reminders(id)).slice(6)).toEqual(['project.reminder/company/observations/7']);
  const ended = await eventually(
    () => projectOf(sys, id),
    (p) => p.intention?.periodEndedOn != null,
  );
  expect(ended).toMatchObject({
    state: 'revocation_intended',
    deadline: null,
    intention: { periodEndedOn: intended.deadline!.dueOn, observations: [{ ...observations, late: false }] },
  });
  expect((await handle(id).describe()).typedSearchAttributes.get(SA.deadline)).toBeUndefined();

  const revoked = await confirm();
  expect(revoked).toMatchObject({ state: 'revoked', deadline: null });
  expect(await projectOf(sys, id)).toMatchObject({
    status: 'revoked',
    recovery: { kind: 'revocation', orderedCents: ADMITTED_CENTS, repaidCents: 0, outstandingCents: ADMITTED_CENTS },
    pastIntentions: [{ kind: 'revocation', outcome: 'confirmed', observationsReceived: 1 }],
    allowedCommands: ['RECORD_REPAYMENT'],
  });
  const order = await sys.db
    .selectFrom('recovery_orders')
    .selectAll()
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  expect(order).toMatchObject({ kind: 'revocation', reasons: [...reasons, 'no report, no grant'] });
  expect(Number(order.amount_cents)).toBe(ADMITTED_CENTS);
  expect((await projectMail(sys, id)).filter((m) => !m.startsWith('project.reminder/'))).toEqual([
    'project.started/company',
    'project.started/consultant',
    'project.state/company/final_report_due',
    'project.intention/company/revocation',
    'project.intention/operator/revocation',
    'project.decision/company/confirmed',
    'project.decision/operator/confirmed',
  ]);
  // Money is owed: the workflow waits for repayments, and the Temporal UI lists it as revoked.
  const described = await handle(id).describe();
  expect(described.status.name).toBe('RUNNING');
  expect(described.typedSearchAttributes.get(SA.projectState)).toBe('revoked');
});

test('a final report in time stops its reminders and the revocation: nothing fires after it', async () => {
  const id = await fundedProjectNow(sys);
  await skipTo((await projectOf(sys, id)).deadline!.dueAt, -0.01);
  const due = await projectIn(sys, id, 'final_report_due');
  const measuredOn = await serverToday(sys);
  const report = await finalReport(sys, id, { measured: [3, 8], spentCents: [5_000_000, 3_000_000], measuredOn });
  await toProject(sys, id, { type: 'SUBMIT_FINAL_REPORT', report }, PEOPLE.consultant);
  // Well past the report's old deadline: its reminders and the revocation must never come.
  await skipTo(due.deadline!.dueAt, -30);
  expect(await projectOf(sys, id)).toMatchObject({ state: 'under_verification', deadline: null, intention: null });
  expect(await reminders(id)).toEqual([
    'project.reminder/company/realisation_end/30',
    'project.reminder/company/realisation_end/7',
  ]);
});

test('a cut cost line: reduction confirmed after the observations; repayment promotes the reserve list', async () => {
  // A call of its own with room for one project and most of another: the second admission waits for money.
  const call = inAnotherCall(sys, { budgetCents: 7_500_000 });
  const id = await fundedProjectNow(call);
  const waiting = await admittedNow(call);
  expect(await call.view(waiting)).toMatchObject({ facts: { budget: 'waiting', budgetPosition: 1 } });
  const committed = async () => (await budgetOverview(sys.db, call.callId))!.committedCents;
  expect(await committed()).toBe(ADMITTED_CENTS);

  await skipTo((await projectOf(sys, id)).deadline!.dueAt, -0.01);
  await projectIn(sys, id, 'final_report_due');
  const measuredOn = await serverToday(sys);
  const report = await finalReport(sys, id, { measured: [3, 10], spentCents: [5_000_000, 3_000_000], measuredOn });
  await toProject(sys, id, { type: 'SUBMIT_FINAL_REPORT', report }, PEOPLE.consultant);
  // Hand-worked as in project.test.ts: EUR 68,000 accepted of EUR 80,000; grant EUR 34,000, subsidy 16,609 cents;
  // 4,019,541 disbursed - 3,416,609 justified = 602,932 cents to recover.
  const cut = 'two of the five training days were not held';
  const intended = await toProject(sys, id, { type: 'VERIFY_REPORT', costLines: verdict(5_000_000, [1_800_000, cut]) });
  expect(intended).toMatchObject({ state: 'reduction_intended', deadline: { kind: 'observations' } });
  expect((await projectOf(sys, id)).intention).toMatchObject({
    kind: 'reduction',
    recoveryCents: 602_932,
    reasons: expect.arrayContaining([
      `cost line 2 (${TRAINING}): EUR 18,000.00 accepted of EUR 30,000.00 spent: ${cut}`,
    ]),
  });
  const confirm = () => toProject(sys, id, { type: 'CONFIRM_REDUCTION', motivation: 'no observations received' });
  expect(await refusalOf(confirm())).toMatchObject({ code: 'event_refused' });

  await skipTo(intended.deadline!.dueAt, -0.01);
  await eventually(
    () => projectOf(sys, id),
    (p) => p.intention?.periodEndedOn != null,
  );
  expect(await confirm()).toMatchObject({ state: 'reduced', deadline: null });
  // The recovery order is in the ledger of the project; the call gets the money back only as it is repaid.
  expect(await projectOf(sys, id)).toMatchObject({
    status: 'reduced',
    recovery: { kind: 'reduction', orderedCents: 602_932, repaidCents: 0, outstandingCents: 602_932 },
  });
  const order = await sys.db
    .selectFrom('recovery_orders')
    .select(['kind', 'amount_cents', 'call_id'])
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  expect({ ...order, amount_cents: Number(order.amount_cents) }).toEqual({
    kind: 'reduction',
    amount_cents: 602_932,
    call_id: call.callId,
  });
  expect(await committed()).toBe(ADMITTED_CENTS);

  // EUR 3,000 back: 7,500,000 - 3,719,541 = 3,780,459 cents free, less than the EUR 40,000 waiting: no promotion.
  const repaidOn = await serverToday(sys);
  await toProject(sys, id, { type: 'RECORD_REPAYMENT', amountCents: 300_000, repaidOn });
  expect(await committed()).toBe(ADMITTED_CENTS - 300_000);
  expect(await call.view(waiting)).toMatchObject({ facts: { budget: 'waiting', budgetPosition: 1 } });
  // The rest: 3,416,609 committed, 4,083,391 free: the EUR 40,000 admission fits and is reserved, in the same step.
  expect(await toProject(sys, id, { type: 'RECORD_REPAYMENT', amountCents: 302_932, repaidOn })).toMatchObject({
    state: 'settled',
  });
  expect(await committed()).toBe(ADMITTED_CENTS - 602_932 + 4_000_000);
  expect(await ledgerBalance(sys.db, call.callId)).toBe(await committed());
  const promoted = await eventually(
    () => call.view(waiting),
    (v) => v.facts?.budget === 'reserved',
  );
  expect(promoted).toMatchObject({
    facts: { budget: 'reserved', budgetPosition: null },
    deadline: { kind: 'funding' },
  });
  expect(promoted.timeline.at(-1)).toMatchObject({ event: 'RECORD_BUDGET', role: 'system' });

  await expect(handle(id).result()).resolves.toEqual({ applicationId: id, state: 'settled', outcome: 'reduced' });
  expect(await projectOf(sys, id)).toMatchObject({ state: 'settled', status: 'reduced', final: true });
  expect((await projectMail(sys, id)).filter((m) => !m.startsWith('project.reminder/'))).toEqual([
    'project.started/company',
    'project.started/consultant',
    'project.state/company/final_report_due',
    'project.state/company/under_verification',
    'project.intention/company/reduction',
    'project.intention/operator/reduction',
    'project.decision/company/confirmed',
    'project.decision/operator/confirmed',
    'project.state/company/settled',
  ]);
});
