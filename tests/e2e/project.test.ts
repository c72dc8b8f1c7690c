import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { budgetOverview, ledgerBalance } from '../../db/repositories/budget';
import { addMonths } from '../../machines/project.deadlines';
import { projectWorkflowId, type CommandMeta } from '../../workflows/messages';
import { SA } from '../../workflows/search-attributes';
import { startTestApi, type TestApi } from '../support/api';
import { assertCliBuilt, runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { pdfBase64, type PreProjectOverrides } from '../support/fixtures';
import {
  ADMITTED_CENTS,
  closedProject,
  EQUIPMENT,
  finalReport,
  fundedProject,
  GRANT_CENTS,
  inAnotherCall,
  JOBS,
  projectIn,
  projectMail as mailOf,
  projectOf,
  projectPayloads,
  refusalOf as refusal,
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
 * project routes use, then through the API and the installed CLI. The dev server's clock cannot be moved: a project
 * whose realisation must be over is funded with a disbursement dated a year and three days ago, and its first timer
 * fires at once. What needs days to pass (reminders, a missed report, the observations period before a confirmed
 * reduction, and so `reduced`) is in project-deadlines.test.ts, on the time-skipping server.
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
const events = async (id: string) =>
  (await sys.db.selectFrom('project_events').select('event_type').where('application_id', '=', id).execute()).length;
const projectMail = (id: string) => mailOf(sys, id);
const payloadsOf = (id: string, template: string) => projectPayloads(sys, id, template);

const HOUSEHOLDS = 'Households using the repair service';
/** A second kind of project, on another theme, with one indicator and no loan. */
const WELLBEING: PreProjectOverrides = {
  themes: ['community_wellbeing'],
  indicators: [
    {
      name: HOUSEHOLDS,
      theme: 'community_wellbeing',
      unit: 'households',
      baseline: 0,
      target: 200,
      measurementMethod: 'service register',
    },
  ],
  costLines: [{ description: EQUIPMENT, category: 'equipment', amountCents: 6_000_000 }],
  grantCents: 3_000_000,
  loan: undefined,
};

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
          'Interest subsidy justified: EUR 195.41 of the EUR 195.41 admitted, ' +
            'scaled by the accepted share of the costs.',
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

  test('an indicator slipped in, a cost line given twice, a line renumbered', async () => {
    const report = await finalReport(sys, id, { measured: [3, 8], spentCents: [5_000_000, 3_000_000] });
    const err = await refused({
      type: 'SUBMIT_FINAL_REPORT',
      report: {
        ...report,
        indicators: [...report.indicators, { ...report.indicators[0]!, indicator: 3, name: 'Customers served' }],
        costLines: [report.costLines[0]!, { ...report.costLines[0]!, costLine: 2 }, report.costLines[0]!],
      },
    });
    expect((err as Error).message).toBe(
      'SUBMIT_FINAL_REPORT refused while the project is final_report_due: ' +
        'indicator 3 is not in the pre-project, which has 2: nothing new can be added to it now; ' +
        `cost line 1 (${EQUIPMENT}) is given 2 times: give it once; ` +
        `cost line 2 is "${EQUIPMENT}" here but "${TRAINING}" in the pre-project: check the numbering`,
    );
  });

  test('amounts that are not whole cents: refused by the workflow even when they skipped the door', async () => {
    const report = await finalReport(sys, id, { measured: [3, 8], spentCents: [5_000_000, 3_000_000] });
    report.costLines[0]!.spentCents = 49_999.5;
    report.costLines[1]!.spentCents = -100;
    const err = await refused({ type: 'SUBMIT_FINAL_REPORT', report });
    expect(err).toMatchObject({ code: 'invalid_input' });
    expect((err as Error).message).toMatch(/^invalid command: /);
    expect((err as Error).message).toContain('report.costLines.0.spentCents: must be integer');
    expect((err as Error).message).toContain('report.costLines.1.spentCents: must be at least 0');
  });

  test('commands from the wrong people, and an event only a timer sends', async () => {
    const report = await finalReport(sys, id, { measured: [3, 8], spentCents: [5_000_000, 3_000_000] });
    const submit = { type: 'SUBMIT_FINAL_REPORT', report } as const;
    // Companies act through operators and consultants, except to withdraw; auditors and the commission only read.
    for (const meta of [PEOPLE.company, PEOPLE.chair, { actor: 'auditor', role: 'auditor' } as const])
      expect(await refused(submit, meta)).toMatchObject({
        code: 'forbidden',
        message: `SUBMIT_FINAL_REPORT is not a project command the role ${meta.role} can send`,
      });
    expect(await refused({ type: 'RECORD_REPAYMENT', amountCents: 1, repaidOn: romeDay() }, consultant)).toMatchObject({
      code: 'forbidden',
      message: 'RECORD_REPAYMENT is not a project command the role consultant can send',
    });
    // Only the workflow's timer ends the realisation period: a person cannot send it.
    const err = await refused({ type: 'END_REALISATION', endedOn: romeDay() } as never, operator);
    expect(err).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/type: unknown command/) });
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

test('a reduction intended with reasons and amount, observations recorded, then dropped by the operator', async () => {
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
  // The company renounces (rinuncia) itself: the one project command it may send.
  const reason = 'the company closes its workshop';
  const withdrawn = await toProject(sys, id, { type: 'WITHDRAW', reason }, PEOPLE.company);
  expect(withdrawn).toMatchObject({ state: 'withdrawn', deadline: null });
  const view = await projectOf(sys, id);
  expect(view).toMatchObject({
    status: 'withdrawn',
    recovery: { kind: 'withdrawal', orderedCents: 3_500_000, repaidCents: 0, outstandingCents: 3_500_000 },
    allowedCommands: ['RECORD_REPAYMENT'],
  });
  expect(view.timeline.at(-1)).toMatchObject({ event: 'WITHDRAW', from: 'in_progress', role: 'company' });
  const order = await sys.db
    .selectFrom('recovery_orders')
    .selectAll()
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  expect(order).toMatchObject({
    call_id: sys.callId,
    kind: 'withdrawal',
    reasons: [reason],
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

describe('through the API and the installed CLI', () => {
  let api: TestApi;
  let dir: string;
  beforeAll(async () => {
    assertCliBuilt();
    api = await startTestApi(sys);
    dir = mkdtempSync(path.join(tmpdir(), 'innosocial-project-'));
  });
  afterAll(async () => {
    await api?.stop();
  });

  const post = (id: string, route: string, token: string, body: unknown) =>
    api.call('POST', `/applications/${id}/project/${route}`, { token, body });
  /** The installed command, as the operator unless another person's token is given. */
  const cli = (args: string[], token?: string) => runCli(api, args, token ? { INNOSOCIAL_TOKEN: token } : {});
  const file = (name: string, content: unknown) => {
    const p = path.join(dir, name);
    writeFileSync(p, JSON.stringify(content));
    return p;
  };

  test('the consultant reports, the operator verifies; doors refuse others and amounts not in cents', async () => {
    const id = await reportDue(sys);
    const { consultant: carla, otherConsultant: nino, auditor } = api.users;
    const shown = await cli(['project', 'show', id]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/^state\s+final_report_due \(final_report_due\)$/m);
    expect(shown.stdout).toMatch(/^next\s+SUBMIT_FINAL_REPORT, START_REVOCATION, WITHDRAW$/m);

    // Evidence is stored by the API like any document; only people who may read the application may add to it.
    const invoice = { kind: 'invoice', filename: 'fattura-7.pdf', contentBase64: pdfBase64(`${id} fattura 7`) };
    const stored = await post(id, 'documents', carla.token, { document: invoice });
    expect(stored).toMatchObject({
      status: 201,
      body: { kind: 'invoice', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(await post(id, 'documents', nino.token, { document: invoice })).toMatchObject({
      status: 403,
      body: { code: 'forbidden', detail: `application ${id} is not assigned to your implementing body` },
    });

    const report = await finalReport(sys, id, { measured: [2, 10], spentCents: [5_000_000, 3_000_000] });
    report.costLines[0]!.documents.push({
      sha256: stored.body.sha256,
      kind: 'invoice',
      sizeBytes: stored.body.sizeBytes,
    });
    expect(await post(id, 'final-report', auditor.token, { report })).toMatchObject({ status: 403 });
    expect(await post(id, 'final-report', nino.token, { report })).toMatchObject({ status: 403 });
    const euros = { ...report, costLines: [{ ...report.costLines[0]!, spentCents: 50_000.5 }, report.costLines[1]!] };
    const notCents = await post(id, 'final-report', carla.token, { report: euros });
    expect(notCents).toMatchObject({ status: 400, body: { code: 'invalid_input' } });
    expect(notCents.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.report.costLines.0.spentCents']);
    const incomplete = await post(id, 'final-report', carla.token, {
      report: { ...report, costLines: [report.costLines[0]] },
    });
    expect(incomplete).toMatchObject({
      status: 409,
      body: {
        code: 'event_refused',
        detail:
          'SUBMIT_FINAL_REPORT refused while the project is final_report_due: cost line 2 (Training of the repair ' +
          'team) is missing: give the amount actually spent (0 if nothing) and its invoices',
      },
    });
    // Nothing of it reached the register: the realisation's start and end only.
    expect(await events(id)).toBe(2);

    // The consultant sends the report from the CLI with their own token; deciding on money is not theirs.
    expect(await cli(['project', 'final-report', id, file('report.json', { report })], carla.token)).toMatchObject({
      code: 0,
      stdout: `${id}: the project is now under_verification\n`,
    });
    const verdictFile = file('verdict.json', { costLines: verdict(5_000_000, 3_000_000) });
    expect(await cli(['project', 'verify', id, verdictFile], carla.token)).toMatchObject({
      code: 5,
      stderr: expect.stringMatching(/^innosocial: /),
    });
    expect(await cli(['project', 'verify', id, verdictFile])).toMatchObject({
      code: 0,
      stdout: `${id}: the project is now closed\n`,
    });
    const closed = await api.call('GET', `/applications/${id}/project`, { token: auditor.token });
    expect(closed).toMatchObject({
      status: 200,
      body: { state: 'closed', verification: { money: { justifiedCents: ADMITTED_CENTS, recoveryCents: 0 } } },
    });
    expect(closed.body.timeline.map((t: { role: string }) => t.role)).toEqual([
      'operator',
      'system',
      'consultant',
      'operator',
    ]);
    // Closed is final: the CLI says so, with the exit code of a refusal.
    expect(await cli(['project', 'withdraw', id, '--reason', 'too late'])).toMatchObject({
      code: 4,
      stderr: `innosocial: the project is closed, a final state: no further events are accepted\n`,
    });
  });

  test('the impact of one call: hand-worked figures, alike in the API and the CLI, no personal data', async () => {
    // A call of its own, so that only these two projects count. The first: both indicators measured (jobs 4 of a
    // target of 3 from 0: beyond it, capped at 100%; waste 9 t from 12 to a target of 8: 3 of the 4 t, 75%), every
    // cost line accepted: closed with EUR 40,195.41 granted and disbursed. The second, on community well-being:
    // EUR 30,000 granted, EUR 25,000 disbursed, withdrawn by the company, EUR 10,000 of it repaid so far.
    const call = inAnotherCall(sys, {});
    const closed = await closedProject(call, { measured: [4, 9], spentCents: [5_200_000, 3_000_000] });
    const withdrawn = await fundedProject(call, { amountCents: 2_500_000, plan: WELLBEING });
    await toProject(sys, withdrawn, { type: 'WITHDRAW', reason: 'the association took it over' }, PEOPLE.company);
    await toProject(sys, withdrawn, { type: 'RECORD_REPAYMENT', amountCents: 1_000_000, repaidOn: romeDay() });
    expect((await projectOf(sys, closed)).state).toBe('closed');

    // Per call and overall, each project once: 7,019,541 granted, 6,519,541 disbursed, 1,000,000 recovered; 2 of
    // the 3 indicators measured, 1 reached; average achievement (10,000 + 7,500) / 2 = 8,750 bps.
    const csv = await api.call('GET', `/impact?call=${call.callId}&format=csv`, { token: api.users.auditor.token });
    expect(csv).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/csv/) });
    const statuses = (closedCount: number, withdrawnCount: number) => `0,0,0,0,0,${closedCount},0,0,${withdrawnCount}`;
    expect(csv.body.split('\r\n')).toEqual([
      'call_id,theme,projects,projects_in_progress,projects_final_report_due,projects_under_verification,' +
        'projects_reduction_intended,projects_revocation_intended,projects_closed,projects_reduced,projects_revoked,' +
        'projects_withdrawn,granted_cents,disbursed_cents,recovered_cents,indicators,indicators_measured,' +
        'indicators_reached,average_achievement_bps',
      `all,all,2,${statuses(1, 1)},7019541,6519541,1000000,3,2,1,8750`,
      `${call.callId},all,2,${statuses(1, 1)},7019541,6519541,1000000,3,2,1,8750`,
      // A theme row counts a project's money whole, and only the indicators of that theme.
      `all,employment,1,${statuses(1, 0)},4019541,4019541,0,1,1,1,10000`,
      `all,environment,1,${statuses(1, 0)},4019541,4019541,0,1,1,0,7500`,
      `all,community_wellbeing,1,${statuses(0, 1)},3000000,2500000,1000000,1,0,0,`,
      `${call.callId},employment,1,${statuses(1, 0)},4019541,4019541,0,1,1,1,10000`,
      `${call.callId},environment,1,${statuses(1, 0)},4019541,4019541,0,1,1,0,7500`,
      `${call.callId},community_wellbeing,1,${statuses(0, 1)},3000000,2500000,1000000,1,0,0,`,
      '',
    ]);
    const indicators = await api.call('GET', `/impact?call=${call.callId}&format=indicators.csv`, {
      token: api.users.operator.token,
    });
    expect(indicators.body.split('\r\n')).toEqual([
      'call_id,theme,indicator,unit,baseline,target,measured,achievement_bps,beyond_target,wrong_side,note',
      `${call.callId},employment,${JOBS},FTE,0,3,4,10000,true,false,measured 4 is beyond the target 3: capped at 100%`,
      `${call.callId},environment,${WASTE},t/year,12,8,9,7500,false,false,` +
        '75.00% of the way from the baseline 12 to the target 8',
      `${call.callId},community_wellbeing,${HOUSEHOLDS},households,0,200,,,false,false,not measured yet`,
      '',
    ]);
    // Open data: nothing names the companies or the people behind them.
    const form = sys.form();
    for (const personal of [form.company.legalName, form.company.legalRepresentative.name, closed, withdrawn])
      expect(csv.body + indicators.body).not.toContain(personal);
    // Consultants answer for their applications, not for the programme.
    expect(await api.call('GET', '/impact', { token: api.users.consultant.token })).toMatchObject({ status: 403 });

    // The CLI reads the same figures: the CSV as the API wrote it, the table in euro and percent.
    expect(await cli(['impact', '--call', call.callId, '--format', 'csv'])).toMatchObject({
      code: 0,
      stdout: csv.body,
    });
    const table = await cli(['impact', '--call', call.callId]);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    /** A whole line of the table: its cells in order, padded by whatever spaces the widths need. */
    const row = (...cells: string[]) => new RegExp(`^${cells.join('\\s+')}$`, 'm');
    const eur = (amount: string) => `EUR ${amount.replace('.', '\\.')}`;
    expect(table.stdout).toMatch(
      row('all calls', 'all themes', '2', '2/3', '1', '87\\.50%', eur('70,195.41'), eur('65,195.41'), eur('10,000.00')),
    );
    expect(table.stdout).toMatch(
      row('all calls', 'environment', '1', '1/1', '0', '75\\.00%', eur('40,195.41'), eur('40,195.41'), eur('0.00')),
    );
    expect(table.stdout).toMatch(row(call.callId, 'employment', JOBS, 'FTE', '0', '3', '4', '100\\.00% \\(capped\\)'));
    expect(table.stdout).toMatch(
      row(call.callId, 'community_wellbeing', HOUSEHOLDS, 'households', '0', '200', '-', 'not measured'),
    );
    // One theme: its projects, and of their indicators only those measuring it.
    const environment = await cli(['impact', '--call', call.callId, '--theme', 'environment', '--format', 'json']);
    expect(JSON.parse(environment.stdout)).toMatchObject({
      total: {
        theme: 'environment',
        projects: 1,
        grantedCents: ADMITTED_CENTS,
        indicators: [{ name: WASTE, measured: 9, achievementBps: 7_500, reached: false }],
        averageAchievementBps: 7_500,
      },
      byTheme: [{ theme: 'environment' }],
    });
  });
});
