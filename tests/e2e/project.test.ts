import { budgetOverview, ledgerBalance } from '../../db/repositories/budget';
import { outboxFor } from '../../db/repositories/notifications';
import { addMonths } from '../../machines/project.deadlines';
import { projectWorkflowId, type CommandMeta } from '../../workflows/messages';
import { SA } from '../../workflows/search-attributes';
import { eventually } from '../support/eventually';
import {
  ADMITTED_CENTS,
  EQUIPMENT,
  finalReport,
  fundedProject,
  GRANT_CENTS,
  JOBS,
  projectIn,
  projectOf,
  reportDue,
  romeDay,
  SUBSIDY_CENTS,
  toProject,
  TRAINING,
  upload,
  verdict,
  WASTE,
} from '../support/project-journeys';
import { operator, PEOPLE } from '../support/people';
import { startTestSystem, type TestSystem } from '../support/system';

/*
 * The funded project end to end (issue 13) on the real dev server and database, through the service the API's
 * project routes use. The dev server's clock cannot be moved: a project whose realisation must be over is funded
 * with a disbursement dated a year and three days ago, and its first timer fires at once. What needs days to pass
 * (reminders, a missed report, the observations period before a confirmed reduction) is in project-deadlines.test.ts.
 */

const OPERATORS = 'operatore@finpiemonte.example.org';
let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30, env: { OPERATOR_EMAILS: OPERATORS } });
});
afterAll(async () => {
  await sys?.stop();
});

const consultant = PEOPLE.consultant;
const projectHandle = (id: string) => sys.client.workflow.getHandle(projectWorkflowId(id));
const refusal = (p: Promise<unknown>) => p.then(() => new Error('the command was accepted')).catch((e: unknown) => e);
const events = async (id: string) =>
  (await sys.db.selectFrom('project_events').select('event_type').where('application_id', '=', id).execute()).length;

/** The project's messages in the outbox, as "template/audience[/what]" in the order they were queued. */
async function projectMail(id: string): Promise<string[]> {
  return (await outboxFor(sys.db, id))
    .filter((m) => m.template.startsWith('project.'))
    .map((m) => {
      const p = (typeof m.payload === 'string' ? JSON.parse(m.payload) : m.payload) as Record<string, unknown>;
      const what = p.to ?? p.decision ?? (p.deadline as { kind: string } | undefined)?.kind ?? p.kind;
      return [m.template, p.audience, ...(what ? [what] : [])].join('/');
    });
}
const payloadsOf = async (id: string, template: string) =>
  (await outboxFor(sys.db, id))
    .filter((m) => m.template === template)
    .map((m) => (typeof m.payload === 'string' ? JSON.parse(m.payload) : m.payload) as Record<string, unknown>);

test('from submission to a closed project: realisation over, final report, every cost line accepted', async () => {
  const id = await fundedProject(sys, { disbursedOn: romeDay(-400) });
  const due = await projectIn(sys, id, 'final_report_due');
  const disbursedOn = romeDay(-400);
  expect(due).toMatchObject({
    callId: sys.callId,
    disbursedCents: ADMITTED_CENTS,
    disbursedOn,
    deadline: { kind: 'final_report', startsOn: addMonths(disbursedOn, 12) },
    allowedCommands: ['SUBMIT_FINAL_REPORT', 'START_REVOCATION', 'WITHDRAW'],
  });

  // Every indicator measured with its evidence, every cost line with its invoice: documents stored like the others.
  const report = await finalReport(sys, id, { measured: [4, 9], spentCents: [5_200_000, 3_000_000] });
  const submitted = await toProject(sys, id, { type: 'SUBMIT_FINAL_REPORT', report }, consultant);
  expect(submitted).toEqual({ applicationId: id, state: 'under_verification', seq: 2, deadline: null });
  const stored = await sys.db.selectFrom('project_reports').selectAll().where('application_id', '=', id).execute();
  expect(stored).toEqual([
    expect.objectContaining({ kind: 'final', number: 1, submitted_by: consultant.actor, content: report }),
  ]);
  const documents = await sys.db
    .selectFrom('documents')
    .select(['kind', 'sha256', 'attached_at'])
    .where('application_id', '=', id)
    .where('kind', 'in', ['indicator_evidence', 'invoice'])
    .execute();
  expect(documents.map((d) => d.sha256).sort()).toEqual(
    [...report.indicators.map((i) => i.evidence.sha256), ...report.costLines.map((l) => l.documents[0]!.sha256)].sort(),
  );
  expect(documents.every((d) => d.attached_at !== null)).toBe(true);

  // Hand-worked: EUR 82,000 accepted of the EUR 80,000 planned; 50% of it is EUR 41,000, above the EUR 40,000
  // admitted: the grant stays EUR 40,000. The subsidy scaled by 82/80 would be 20,029 cents, above the 19,541
  // admitted: it stays 19,541. Justified 4,019,541 = disbursed: nothing to recover.
  const closed = await toProject(sys, id, { type: 'VERIFY_REPORT', costLines: verdict(5_200_000, 3_000_000) });
  expect(closed).toEqual({ applicationId: id, state: 'closed', seq: 3, deadline: null });
  const view = await projectOf(sys, id);
  expect(view).toMatchObject({
    state: 'closed',
    status: 'closed',
    final: true,
    deadline: null,
    allowedCommands: [],
    recovery: null,
    reports: [{ kind: 'final', number: 1 }],
    verification: {
      lines: [
        {
          costLine: 1,
          description: EQUIPMENT,
          plannedCents: 5_000_000,
          spentCents: 5_200_000,
          acceptedCents: 5_200_000,
        },
        {
          costLine: 2,
          description: TRAINING,
          plannedCents: 3_000_000,
          spentCents: 3_000_000,
          acceptedCents: 3_000_000,
        },
      ],
      money: {
        plannedCostCents: 8_000_000,
        acceptedCostCents: 8_200_000,
        acceptedShareBps: 10_000,
        justifiedGrantCents: GRANT_CENTS,
        justifiedSubsidyCents: SUBSIDY_CENTS,
        justifiedCents: ADMITTED_CENTS,
        disbursedCents: ADMITTED_CENTS,
        recoveryCents: 0,
        explanation: [
          'Accepted costs EUR 82,000.00 of the EUR 80,000.00 planned (100.00%).',
          'Grant justified: the EUR 40,000.00 admitted (50.00% of the accepted costs would be EUR 41,000.00).',
          'Interest subsidy justified: EUR 195.41 of the EUR 195.41 admitted, scaled by the accepted share of the costs.',
          'Justified EUR 40,195.41 against EUR 40,195.41 disbursed: nothing to recover.',
        ],
      },
    },
  });
  // The register's timeline: the funding step opened it, the timer ended the realisation, then the two commands.
  expect(view.timeline).toEqual([
    expect.objectContaining({ seq: 0, event: 'START_PROJECT', from: null, to: 'in_progress', role: 'operator' }),
    expect.objectContaining({ seq: 1, event: 'END_REALISATION', from: 'in_progress', to: 'final_report_due' }),
    expect.objectContaining({ seq: 2, event: 'SUBMIT_FINAL_REPORT', to: 'under_verification', role: 'consultant' }),
    expect.objectContaining({ seq: 3, event: 'VERIFY_REPORT', from: 'under_verification', to: 'closed' }),
  ]);
  expect(view.timeline[1]).toMatchObject({ role: 'system', summary: { endedOn: addMonths(disbursedOn, 12) } });
  expect(view.timeline[3]).toMatchObject({ summary: { acceptedCents: 8_200_000 } });
  const row = await sys.db
    .selectFrom('projects')
    .selectAll()
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  expect(row).toMatchObject({ state: 'closed', outcome: 'closed', last_seq: 3, deadline_kind: null });
  expect(row.closed_at).toBeInstanceOf(Date);
  const verification = await sys.db
    .selectFrom('project_records')
    .selectAll()
    .where('application_id', '=', id)
    .execute();
  expect(verification).toEqual([
    expect.objectContaining({ seq: 3, kind: 'verification', recorded_by: operator.actor, content: view.verification }),
  ]);

  // The company and the consultant hear the project start; the company each of its steps.
  expect(await projectMail(id)).toEqual([
    'project.started/company',
    'project.started/consultant',
    'project.state/company/final_report_due',
    'project.state/company/under_verification',
    'project.state/company/closed',
  ]);
  const [started] = await payloadsOf(id, 'project.started');
  expect(started).toMatchObject({
    realisationEndsOn: addMonths(disbursedOn, 12),
    finalReportDueOn: due.deadline!.dueOn,
  });
  expect((await payloadsOf(id, 'project.state')).at(-1)).toMatchObject({ to: 'closed', amountCents: ADMITTED_CENTS });

  // The project's workflow ended with the machine, and told the Temporal UI where it stands.
  await expect(projectHandle(id).result()).resolves.toEqual({ applicationId: id, state: 'closed', outcome: 'closed' });
  const described = await projectHandle(id).describe();
  expect(described.status.name).toBe('COMPLETED');
  expect(described.typedSearchAttributes.get(SA.projectState)).toBe('closed');
  expect(described.typedSearchAttributes.get(SA.call)).toBe(sys.callId);
  expect(described.typedSearchAttributes.get(SA.deadline)).toBeUndefined();
  const listed = await eventually(
    async () => {
      const ids: string[] = [];
      const query = `ProjectState = 'closed' AND CallId = '${sys.callId}'`;
      for await (const wf of sys.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids;
    },
    (ids) => ids.includes(projectWorkflowId(id)),
  );
  expect(listed).toContain(projectWorkflowId(id));
});

test('while the project is carried out: an interim report, one extension; no final report yet', async () => {
  const disbursedOn = romeDay();
  const id = await fundedProject(sys, { disbursedOn });
  const started = await projectOf(sys, id);
  expect(started).toMatchObject({
    state: 'in_progress',
    deadline: { kind: 'realisation_end', startsOn: disbursedOn, dueOn: addMonths(disbursedOn, 12) },
    allowedCommands: ['SUBMIT_INTERIM_REPORT', 'EXTEND_REALISATION', 'START_REVOCATION', 'WITHDRAW'],
  });
  const interim = {
    asOf: disbursedOn,
    narrative: 'Equipment ordered; the training plan is ready.',
    spentToDateCents: 2_500_000,
    documents: [await upload(sys, id, 'interim_report', 'SAL 1')],
  };
  expect(await toProject(sys, id, { type: 'SUBMIT_INTERIM_REPORT', report: interim }, consultant)).toMatchObject({
    state: 'in_progress',
    seq: 1,
  });
  expect((await projectOf(sys, id)).reports).toEqual([expect.objectContaining({ kind: 'interim', number: 1 })]);

  const report = await finalReport(sys, id, { measured: [1, 11], spentCents: [2_500_000, 0] });
  const before = await events(id);
  expect(await refusal(toProject(sys, id, { type: 'SUBMIT_FINAL_REPORT', report }, consultant))).toMatchObject({
    code: 'event_refused',
    message:
      'SUBMIT_FINAL_REPORT is not possible while the project is in_progress; possible now: ' +
      'SUBMIT_INTERIM_REPORT, EXTEND_REALISATION, START_REVOCATION, WITHDRAW',
  });
  expect(await refusal(toProject(sys, id, { type: 'EXTEND_REALISATION', months: 7, reason: 'late' }))).toMatchObject({
    code: 'event_refused',
    message:
      'EXTEND_REALISATION refused while the project is in_progress: ' +
      "an extension of 7 months exceeds the rules' maximum of 6 months",
  });
  expect(await events(id)).toBe(before);

  const extended = await toProject(sys, id, { type: 'EXTEND_REALISATION', months: 3, reason: 'supplier delays' });
  expect(extended).toMatchObject({
    state: 'in_progress',
    seq: 2,
    deadline: { kind: 'realisation_end', dueOn: addMonths(disbursedOn, 15) },
  });
  expect(
    await refusal(toProject(sys, id, { type: 'EXTEND_REALISATION', months: 1, reason: 'more delays' })),
  ).toMatchObject({
    code: 'event_refused',
    message:
      'EXTEND_REALISATION refused while the project is in_progress: the realisation period was already extended ' +
      'once, by 3 months (supplier delays): the rules allow one extension',
  });
  expect(await projectOf(sys, id)).toMatchObject({ seq: 2, extension: { months: 3, reason: 'supplier delays' } });
  const described = await projectHandle(id).describe();
  expect(described.typedSearchAttributes.get(SA.projectState)).toBe('in_progress');
  expect(described.typedSearchAttributes.get(SA.deadline)).toEqual(new Date(extended.deadline!.dueAt));
});

describe('a final report that does not account for the pre-project is refused, saying what is wrong', () => {
  let id: string;
  beforeAll(async () => {
    id = await reportDue(sys);
  });
  const refused = async (command: Parameters<typeof toProject>[2], meta: CommandMeta = consultant) => {
    const before = await events(id);
    const err = await refusal(toProject(sys, id, command, meta));
    expect(await events(id)).toBe(before);
    return err;
  };

  test('an indicator missing, a cost line that is not in the pre-project', async () => {
    const report = await finalReport(sys, id, { measured: [3, 8], spentCents: [5_000_000, 3_000_000] });
    const err = await refused({
      type: 'SUBMIT_FINAL_REPORT',
      report: {
        ...report,
        indicators: report.indicators.slice(0, 1),
        costLines: [...report.costLines, { ...report.costLines[1]!, costLine: 3, description: 'Marketing' }],
      },
    });
    expect(err).toMatchObject({
      code: 'event_refused',
      message:
        'SUBMIT_FINAL_REPORT refused while the project is final_report_due: ' +
        `indicator 2 (${WASTE}) is missing: give its measured value, the date measured and the evidence; ` +
        'cost line 3 is not in the pre-project, which has 2: nothing new can be added to it now',
    });
  });

  test('an indicator measured before the project started, money spent without an invoice', async () => {
    const report = await finalReport(sys, id, { measured: [3, 8], spentCents: [5_000_000, 3_000_000] });
    report.indicators[0]!.measuredOn = romeDay(-500);
    report.costLines[0]!.documents = [];
    const err = await refused({ type: 'SUBMIT_FINAL_REPORT', report });
    expect(err).toMatchObject({ code: 'event_refused' });
    expect((err as Error).message).toContain(
      `indicator 1 (${JOBS}) was measured on ${romeDay(-500)}, before the project started (disbursed on `,
    );
    expect((err as Error).message).toContain(
      `cost line 1 (${EQUIPMENT}) reports EUR 50,000.00 spent without any document: attach the invoices`,
    );
  });

  test("evidence that is another application's document", async () => {
    const other = await reportDue(sys);
    const report = await finalReport(sys, id, { measured: [3, 8], spentCents: [5_000_000, 3_000_000] });
    const foreign = await upload(sys, other, 'indicator_evidence', 'not yours');
    report.indicators[1]!.evidence = foreign;
    const err = await refused({ type: 'SUBMIT_FINAL_REPORT', report });
    expect(err).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining(`document ${foreign.sha256.slice(0, 12)}… is not uploaded for this application`),
    });
    expect(await projectOf(sys, id)).toMatchObject({ state: 'final_report_due', reports: [] });
  });

  test('a verification before the report, and by a consultant', async () => {
    expect(await refused({ type: 'VERIFY_REPORT', costLines: verdict(1, 1) }, operator)).toMatchObject({
      code: 'event_refused',
      message: expect.stringMatching(/^VERIFY_REPORT is not possible while the project is final_report_due/),
    });
    expect(await refused({ type: 'VERIFY_REPORT', costLines: verdict(1, 1) }, consultant)).toMatchObject({
      code: 'forbidden',
      message: 'VERIFY_REPORT is not a project command the role consultant can send',
    });
  });
});

test('a reduction intended with its reasons and amount, the observations recorded, then dropped by the operator', async () => {
  const id = await reportDue(sys);
  const report = await finalReport(sys, id, { measured: [3, 10], spentCents: [5_000_000, 3_000_000] });
  await toProject(sys, id, { type: 'SUBMIT_FINAL_REPORT', report }, consultant);
  // Hand-worked: EUR 50,000 + EUR 18,000 = EUR 68,000 accepted of EUR 80,000 planned (85%). Grant: 50% of it,
  // EUR 34,000 (below the EUR 40,000 admitted). Subsidy: floor(19,541 x 68,000 / 80,000) = floor(16,609.85) = 16,609
  // cents. Justified 3,400,000 + 16,609 = 3,416,609; disbursed 4,019,541: 602,932 cents to recover.
  const cut = 'two of the five training days were not held';
  const intended = await toProject(sys, id, {
    type: 'VERIFY_REPORT',
    costLines: verdict(5_000_000, [1_800_000, cut]),
  });
  expect(intended).toMatchObject({ state: 'reduction_intended', deadline: { kind: 'observations' } });
  const reasons = [
    `cost line 2 (${TRAINING}): EUR 18,000.00 accepted of EUR 30,000.00 spent: ${cut}`,
    'Accepted costs EUR 68,000.00 of the EUR 80,000.00 planned (85.00%).',
    'Grant justified: 50.00% of the accepted costs, EUR 34,000.00 of the EUR 40,000.00 admitted.',
    'Interest subsidy justified: EUR 166.09 of the EUR 195.41 admitted, scaled by the accepted share of the costs.',
    'Justified EUR 34,166.09 against EUR 40,195.41 disbursed: EUR 6,029.32 to recover.',
  ];
  const view = await projectOf(sys, id);
  expect(view).toMatchObject({
    state: 'reduction_intended',
    intention: { kind: 'reduction', cause: 'verification', reasons, recoveryCents: 602_932, observations: [] },
    verification: { money: { justifiedGrantCents: 3_400_000, justifiedSubsidyCents: 16_609, recoveryCents: 602_932 } },
  });
  expect(view.deadline!.dueOn).toBe(romeDay(10));
  // Law 241/1990: the company and the operators are told the intention, its reasons, the amount and the period.
  const notices = await payloadsOf(id, 'project.intention');
  expect(notices.map((n) => n.audience)).toEqual(['company', 'operator']);
  for (const n of notices)
    expect(n).toMatchObject({ kind: 'reduction', reasons, recoveryCents: 602_932, observationsDueOn: romeDay(10) });

  const observations = {
    receivedOn: romeDay(),
    summary: 'The two training days were held online: the attendance sheets are attached.',
    documents: [await upload(sys, id, 'observations', 'attendance sheets')],
  };
  await toProject(sys, id, { type: 'SUBMIT_OBSERVATIONS', observations }, consultant);
  // The decision waits for the observations period to end, even with the observations in hand.
  expect(await refusal(toProject(sys, id, { type: 'CONFIRM_REDUCTION', motivation: 'the cut stands' }))).toMatchObject({
    code: 'event_refused',
    message:
      'CONFIRM_REDUCTION refused while the project is reduction_intended: ' +
      "the company's observations period (10 days from the notice) has not ended yet " +
      '(1 observation(s) received so far): the decision waits for it to end',
  });
  const dropped = await toProject(sys, id, {
    type: 'DROP_REDUCTION',
    motivation: 'the attendance sheets show the training was held',
  });
  expect(dropped).toMatchObject({ state: 'closed', deadline: null });
  expect(await projectOf(sys, id)).toMatchObject({
    state: 'closed',
    status: 'closed',
    intention: null,
    recovery: null,
    pastIntentions: [
      {
        kind: 'reduction',
        cause: 'verification',
        recoveryCents: 602_932,
        observationsReceived: 1,
        outcome: 'dropped',
        motivation: 'the attendance sheets show the training was held',
      },
    ],
  });
  const records = await sys.db
    .selectFrom('project_records')
    .select(['kind', 'content'])
    .where('application_id', '=', id)
    .orderBy('seq')
    .execute();
  expect(records.map((r) => r.kind)).toEqual(['verification', 'observations']);
  expect(records[1]!.content).toEqual({ kind: 'reduction', observations, late: false });
  expect(
    await sys.db.selectFrom('recovery_orders').select('amount_cents').where('application_id', '=', id).execute(),
  ).toEqual([]);
  expect(await projectMail(id)).toEqual([
    'project.started/company',
    'project.started/consultant',
    'project.state/company/final_report_due',
    'project.state/company/under_verification',
    'project.intention/company/reduction',
    `project.intention/operator/reduction`,
    'project.decision/company/dropped',
    'project.decision/operator/dropped',
    'project.state/company/closed',
  ]);
  await expect(projectHandle(id).result()).resolves.toMatchObject({ state: 'closed', outcome: 'closed' });
});

test('a withdrawal after funding recovers everything disbursed; repayments go back to the call', async () => {
  // EUR 35,000 paid of the EUR 40,195.41 admitted: the funding freed the difference, the withdrawal claims the rest.
  const id = await fundedProject(sys, { amountCents: 3_500_000 });
  const committed = async () => (await budgetOverview(sys.db, sys.callId))!.committedCents;
  const before = await committed();
  const withdrawn = await toProject(sys, id, { type: 'WITHDRAW', reason: 'the company closes its workshop' });
  expect(withdrawn).toMatchObject({ state: 'withdrawn', deadline: null });
  expect(await projectOf(sys, id)).toMatchObject({
    status: 'withdrawn',
    recovery: { kind: 'withdrawal', orderedCents: 3_500_000, repaidCents: 0, outstandingCents: 3_500_000 },
    allowedCommands: ['RECORD_REPAYMENT'],
  });
  const order = await sys.db
    .selectFrom('recovery_orders')
    .selectAll()
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  expect(order).toMatchObject({
    call_id: sys.callId,
    kind: 'withdrawal',
    reasons: ['the company closes its workshop'],
  });
  expect(Number(order.amount_cents)).toBe(3_500_000);

  expect(
    await refusal(toProject(sys, id, { type: 'RECORD_REPAYMENT', amountCents: 3_500_001, repaidOn: romeDay() })),
  ).toMatchObject({
    code: 'event_refused',
    message:
      'RECORD_REPAYMENT refused while the project is withdrawn: ' +
      'a repayment of EUR 35,000.01 is more than the EUR 35,000.00 still outstanding',
  });
  expect(await committed()).toBe(before);
  await toProject(sys, id, { type: 'RECORD_REPAYMENT', amountCents: 1_000_000, repaidOn: romeDay() });
  expect(await committed()).toBe(before - 1_000_000);
  expect(await projectOf(sys, id)).toMatchObject({
    state: 'withdrawn',
    recovery: { orderedCents: 3_500_000, repaidCents: 1_000_000, outstandingCents: 2_500_000 },
  });
  const settled = await toProject(sys, id, { type: 'RECORD_REPAYMENT', amountCents: 2_500_000, repaidOn: romeDay() });
  expect(settled).toMatchObject({ state: 'settled' });
  expect(await committed()).toBe(before - 3_500_000);
  expect(await ledgerBalance(sys.db, sys.callId)).toBe(await committed());
  const repaid = await sys.db
    .selectFrom('budget_ledger')
    .select('amount_cents')
    .where('application_id', '=', id)
    .where('kind', '=', 'repay')
    .orderBy('id')
    .execute();
  expect(repaid.map((r) => Number(r.amount_cents))).toEqual([-1_000_000, -2_500_000]);
  // Settled, the project still says what it was settled for.
  expect(await projectOf(sys, id)).toMatchObject({ state: 'settled', status: 'withdrawn', final: true });
  await expect(projectHandle(id).result()).resolves.toEqual({
    applicationId: id,
    state: 'settled',
    outcome: 'withdrawn',
  });
  expect(await projectMail(id)).toEqual([
    'project.started/company',
    'project.started/consultant',
    'project.state/company/withdrawn',
    'project.state/company/settled',
  ]);
  expect((await projectHandle(id).describe()).typedSearchAttributes.get(SA.projectState)).toBe('settled');
  expect(
    await refusal(toProject(sys, id, { type: 'RECORD_REPAYMENT', amountCents: 1, repaidOn: romeDay() })),
  ).toMatchObject({ code: 'event_refused', message: expect.stringMatching(/settled, a final state/) });
});
