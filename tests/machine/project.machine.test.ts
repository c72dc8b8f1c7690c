import { initialTransition, transition } from 'xstate';
import { projectRules } from '../../domain/rules';
import { mermaidDiagram } from '../../machines/diagram';
import { PROJECT_COMMANDS_BY_ROLE, projectPermissionProblem } from '../../machines/permissions';
import {
  ProjectCommandSchema,
  isProjectCommandType,
  type DocumentRef,
  type FinalReport,
  type ProjectEvent,
} from '../../machines/project.events';
import {
  allowedProjectCommands,
  projectRefusalReason,
  projectStateOf,
  type ProjectSnapshot,
} from '../../machines/project.explain';
import {
  PROJECT_FINAL_STATES,
  PROJECT_OPEN_STATES,
  PROJECT_RECOVERING_STATES,
  PROJECT_STATES,
  outstandingCents,
  projectMachine,
  projectStatus,
  type ProjectMachineInput,
  type ProjectState,
} from '../../machines/project.machine';
import { preProject, rules2023 } from '../support/fixtures';

/** Two indicators (one where lower is better) and two cost lines, so "each exactly once" has something to check. */
const pre = preProject({
  indicators: [
    {
      name: 'Jobs for people at risk of exclusion',
      theme: 'employment',
      unit: 'FTE',
      baseline: 0,
      target: 3,
      measurementMethod: 'payroll records, yearly',
    },
    {
      name: 'Textile waste sent to landfill',
      theme: 'environment',
      unit: 't/year',
      baseline: 12,
      target: 8,
      measurementMethod: 'waste register',
    },
  ],
  costLines: [
    { description: 'Sewing and repair equipment', category: 'equipment', amountCents: 5_000_000 },
    { description: 'Training of the repair team', category: 'services', amountCents: 3_000_000 },
  ],
});

/** The money of tests/unit/verification.test.ts: EUR 40,000 grant and EUR 195.41 interest subsidy, all disbursed. */
const input: ProjectMachineInput = {
  applicationId: 'app-test',
  callId: rules2023.callId,
  rulesVersion: rules2023.version,
  rules: projectRules(rules2023),
  preProject: pre,
  preProjectVersion: 1,
  admittedGrantCents: 4_000_000,
  admittedSubsidyCents: 19_541,
  disbursedCents: 4_019_541,
  disbursedOn: '2024-06-01',
};
const DISBURSED = input.disbursedCents;

const start = (i: ProjectMachineInput = input): ProjectSnapshot => initialTransition(projectMachine, i)[0];
const send = (snapshot: ProjectSnapshot, event: ProjectEvent) => transition(projectMachine, snapshot, event)[0];
const effects = (snapshot: ProjectSnapshot, event: ProjectEvent) =>
  transition(projectMachine, snapshot, event)[1].map((a) => ({ type: a.type, params: a.params }));

/** Replays events from a fresh project; every step must be accepted, so a stalled path cannot pass by accident. */
function walk(events: readonly ProjectEvent[], from: ProjectSnapshot = start()): ProjectSnapshot {
  return events.reduce((snapshot, event) => {
    const refused = projectRefusalReason(snapshot, event);
    if (refused) throw new Error(`walk stalled at ${event.type}: ${refused}`);
    return send(snapshot, event);
  }, from);
}

const doc = (kind: DocumentRef['kind'], hexDigit: string): DocumentRef => ({
  sha256: hexDigit.repeat(64),
  kind,
  sizeBytes: 48_213,
});

const fullReport = (): FinalReport => ({
  narrative: 'The workshop opened in March; three people were hired and trained.',
  indicators: [
    {
      indicator: 1,
      name: 'Jobs for people at risk of exclusion',
      measured: 3,
      measuredOn: '2025-06-30',
      evidence: doc('indicator_evidence', '1'),
    },
    {
      indicator: 2,
      name: 'Textile waste sent to landfill',
      measured: 9,
      measuredOn: '2025-06-30',
      evidence: doc('indicator_evidence', '2'),
    },
  ],
  costLines: [
    {
      costLine: 1,
      description: 'Sewing and repair equipment',
      spentCents: 5_000_000,
      documents: [doc('invoice', '3'), doc('payment_proof', '4')],
    },
    {
      costLine: 2,
      description: 'Training of the repair team',
      spentCents: 3_000_000,
      documents: [doc('invoice', '5')],
    },
  ],
});

/** The full report with one change made to it. */
function edit(change: (r: FinalReport) => void): FinalReport {
  const r = fullReport();
  change(r);
  return r;
}

const ev = {
  endRealisation: { type: 'END_REALISATION', endedOn: '2025-06-01' },
  expireReport: { type: 'EXPIRE_REPORT_DEADLINE', dueOn: '2025-07-31' },
  endObservations: { type: 'END_OBSERVATION_PERIOD', endedOn: '2025-09-11' },
  interim: {
    type: 'SUBMIT_INTERIM_REPORT',
    report: {
      asOf: '2024-12-31',
      narrative: 'Equipment bought and installed.',
      spentToDateCents: 5_000_000,
      documents: [doc('interim_report', '6')],
    },
  },
  extend: (months: number): ProjectEvent => ({
    type: 'EXTEND_REALISATION',
    months,
    reason: 'the supplier delivered the machines four months late',
  }),
  report: (report: FinalReport = fullReport()): ProjectEvent => ({ type: 'SUBMIT_FINAL_REPORT', report }),
  acceptAll: {
    type: 'VERIFY_REPORT',
    costLines: [
      { costLine: 1, acceptedCents: 5_000_000 },
      { costLine: 2, acceptedCents: 3_000_000 },
    ],
  },
  // The cut of tests/unit/verification.test.ts: EUR 10,000 of training not documented → EUR 5,024.43 back.
  cutTraining: {
    type: 'VERIFY_REPORT',
    costLines: [
      { costLine: 1, acceptedCents: 5_000_000 },
      { costLine: 2, acceptedCents: 2_000_000, reason: 'two courses have no attendance register' },
    ],
  },
  revoke: { type: 'START_REVOCATION', reasons: ['the workshop never opened: the premises are still empty'] },
  observations: (receivedOn = '2025-09-05'): ProjectEvent => ({
    type: 'SUBMIT_OBSERVATIONS',
    observations: {
      receivedOn,
      summary: 'The registers were kept by the trainer; copies attached.',
      documents: [doc('observations', '7')],
    },
  }),
  confirmReduction: { type: 'CONFIRM_REDUCTION', motivation: 'the copies are not signed by the participants' },
  dropReduction: { type: 'DROP_REDUCTION', motivation: 'the signed registers were found' },
  confirmRevocation: { type: 'CONFIRM_REVOCATION', motivation: 'no observations contradict the inspection' },
  dropRevocation: { type: 'DROP_REVOCATION', motivation: 'the report had been sent by registered mail in time' },
  withdraw: { type: 'WITHDRAW', reason: 'the company is closing down' },
  repay: (amountCents: number, repaidOn = '2025-11-03'): ProjectEvent => ({
    type: 'RECORD_REPAYMENT',
    amountCents,
    repaidOn,
  }),
} as const satisfies Record<string, ProjectEvent | ((...args: never[]) => ProjectEvent)>;

const toReportDue: ProjectEvent[] = [ev.endRealisation];
const toVerification = [...toReportDue, ev.report()];
const toReduction = [...toVerification, ev.cutTraining];
const toRevocation = [...toReportDue, ev.expireReport];

const pathTo: Record<ProjectState, ProjectEvent[]> = {
  in_progress: [],
  final_report_due: toReportDue,
  under_verification: toVerification,
  reduction_intended: toReduction,
  revocation_intended: toRevocation,
  reduced: [...toReduction, ev.endObservations, ev.confirmReduction],
  revoked: [...toRevocation, ev.endObservations, ev.confirmRevocation],
  withdrawn: [ev.withdraw],
  closed: [...toVerification, ev.acceptAll],
  settled: [ev.withdraw, ev.repay(DISBURSED)],
};

// One event of every type, so "no event" below really means every event the machine knows.
const everyEvent: ProjectEvent[] = [
  ev.endRealisation,
  ev.expireReport,
  ev.endObservations,
  ev.interim,
  ev.extend(3),
  ev.report(),
  ev.acceptAll,
  ev.revoke,
  ev.observations(),
  ev.confirmReduction,
  ev.dropReduction,
  ev.confirmRevocation,
  ev.dropRevocation,
  ev.withdraw,
  ev.repay(1),
];

describe('states', () => {
  test('the exported state lists match the machine', () => {
    const nodes = Object.entries(projectMachine.root.states);
    expect(nodes.map(([name]) => name).sort()).toEqual([...PROJECT_STATES].sort());
    expect(nodes.filter(([, n]) => n.type === 'final').map(([name]) => name)).toEqual([...PROJECT_FINAL_STATES]);
    expect([...PROJECT_OPEN_STATES, ...PROJECT_RECOVERING_STATES, ...PROJECT_FINAL_STATES].sort()).toEqual(
      [...PROJECT_STATES].sort(),
    );
  });

  test('every event type of the machine is exercised here', () => {
    const known = new Set(Object.values(projectMachine.root.states).flatMap((n) => Object.keys(n.on)));
    expect([...new Set(everyEvent.map((e) => e.type))].sort()).toEqual([...known].sort());
  });

  test.each(PROJECT_STATES)('%s is reachable', (state) => {
    expect(projectStateOf(walk(pathTo[state]))).toBe(state);
  });

  test('a new project starts in progress with nothing reported, decided or owed', () => {
    const s = start();
    expect(projectStateOf(s)).toBe('in_progress');
    expect(s.context).toMatchObject({
      extension: null,
      interimReports: 0,
      finalReport: null,
      verification: null,
      intention: null,
      recovery: null,
      outcome: null,
    });
    expect(s.context.rules.postAward).toEqual({
      realisationMonths: 12,
      finalReportDays: 60,
      reminders: { daysBefore: [30, 7] },
      observationDays: 10,
      maxExtensionMonths: 6,
    });
  });
});

describe('the happy path', () => {
  test('interim report, realisation end, final report, every cost accepted: closed, nothing owed', () => {
    const inProgress = walk([ev.interim]);
    expect(inProgress.context.interimReports).toBe(1);
    const due = walk([ev.endRealisation], inProgress);
    expect([projectStateOf(due), due.context.realisationEndedOn]).toEqual(['final_report_due', '2025-06-01']);
    const verifying = walk([ev.report()], due);
    expect(verifying.context.finalReport).toEqual(fullReport());

    const [closed, actions] = transition(projectMachine, verifying, ev.acceptAll);
    expect([projectStateOf(closed), closed.status, closed.context.outcome]).toEqual(['closed', 'done', 'closed']);
    expect(closed.context.verification?.money).toMatchObject({
      acceptedCostCents: 8_000_000,
      justifiedGrantCents: 4_000_000,
      justifiedSubsidyCents: 19_541,
      recoveryCents: 0,
    });
    // Assign actions change the context; only effects come back for the workflow to perform.
    expect(actions.map((a) => a.type)).toEqual(['storeVerification']);
    expect(actions[0]?.params).toEqual(closed.context.verification);
    expect(outstandingCents(closed.context)).toBe(0);
    expect(projectStatus('closed', closed.context)).toBe('closed');
  });

  test('the machine hands back the reports to store', () => {
    expect(effects(start(), ev.interim)).toContainEqual({
      type: 'storeInterimReport',
      params: { number: 1, report: ev.interim.report },
    });
    expect(effects(walk([ev.interim]), ev.interim)).toContainEqual(
      expect.objectContaining({ type: 'storeInterimReport', params: expect.objectContaining({ number: 2 }) }),
    );
    expect(effects(walk(toReportDue), ev.report())).toContainEqual({
      type: 'storeFinalReport',
      params: { report: fullReport() },
    });
  });

  test('each verified line keeps what was planned, spent and accepted, and why it was cut', () => {
    const s = walk(toReduction);
    expect(s.context.verification?.lines).toEqual([
      {
        costLine: 1,
        description: 'Sewing and repair equipment',
        plannedCents: 5_000_000,
        spentCents: 5_000_000,
        acceptedCents: 5_000_000,
        reason: null,
      },
      {
        costLine: 2,
        description: 'Training of the repair team',
        plannedCents: 3_000_000,
        spentCents: 3_000_000,
        acceptedCents: 2_000_000,
        reason: 'two courses have no attendance register',
      },
    ]);
  });
});

describe('reduction (law 241/1990: intention, observations, decision)', () => {
  test('a verification justifying less than was disbursed announces a reduction with its reasons and amount', () => {
    const [s, actions] = transition(projectMachine, walk(toVerification), ev.cutTraining);
    expect(projectStateOf(s)).toBe('reduction_intended');
    // Hand-worked in tests/unit/verification.test.ts: justified 3,517,098; 4,019,541 − 3,517,098 = 502,443.
    expect(s.context.intention).toMatchObject({
      kind: 'reduction',
      cause: 'verification',
      recoveryCents: 502_443,
      periodEndedOn: null,
      observations: [],
    });
    expect(s.context.intention?.reasons[0]).toBe(
      'cost line 2 (Training of the repair team): EUR 20,000.00 accepted of EUR 30,000.00 spent: two courses have ' +
        'no attendance register',
    );
    expect(actions.map((a) => a.type)).toEqual(['storeVerification', 'notifyIntention']);
    expect(actions.find((a) => a.type === 'notifyIntention')?.params).toEqual({
      kind: 'reduction',
      cause: 'verification',
      reasons: s.context.intention?.reasons,
      recoveryCents: 502_443,
      observationDays: 10,
    });
    expect(s.context.outcome).toBeNull();
    expect(s.context.recovery).toBeNull();
  });

  test('observations are recorded, the decision waits for the period to end, then the reduction is confirmed', () => {
    const observed = walk([...toReduction, ev.observations()]);
    expect(observed.context.intention?.observations).toEqual([
      { ...(ev.observations() as Extract<ProjectEvent, { type: 'SUBMIT_OBSERVATIONS' }>).observations, late: false },
    ]);
    expect(projectRefusalReason(observed, ev.confirmReduction)).toBe(
      'CONFIRM_REDUCTION refused while the project is reduction_intended: ' +
        "the company's observations period (10 days from the notice) has not ended yet " +
        '(1 observation(s) received so far): the decision waits for it to end',
    );
    expect(projectStateOf(send(observed, ev.confirmReduction))).toBe('reduction_intended');

    const ended = walk([ev.endObservations], observed);
    expect(ended.context.intention?.periodEndedOn).toBe('2025-09-11');
    const [reduced, actions] = transition(projectMachine, ended, ev.confirmReduction);
    expect([projectStateOf(reduced), reduced.status, reduced.context.outcome]).toEqual([
      'reduced',
      'active',
      'reduced',
    ]);
    expect(reduced.context.recovery).toEqual({
      kind: 'reduction',
      orderedCents: 502_443,
      repaidCents: 0,
      repayments: [],
    });
    expect(outstandingCents(reduced.context)).toBe(502_443);
    expect(reduced.context.intention).toBeNull();
    expect(reduced.context.pastIntentions).toEqual([
      expect.objectContaining({
        kind: 'reduction',
        outcome: 'confirmed',
        observationsReceived: 1,
        motivation: ev.confirmReduction.motivation,
      }),
    ]);
    expect(actions.filter((a) => a.type === 'orderRecovery' || a.type === 'notifyDecision')).toEqual([
      expect.objectContaining({
        type: 'notifyDecision',
        params: {
          kind: 'reduction',
          decision: 'confirmed',
          motivation: ev.confirmReduction.motivation,
          recoveryCents: 502_443,
        },
      }),
      expect.objectContaining({
        type: 'orderRecovery',
        params: expect.objectContaining({ kind: 'reduction', amountCents: 502_443 }),
      }),
    ]);
  });

  test('observations received after the period are kept and marked late; in time is by the day received', () => {
    const ended = walk([...toReduction, ev.endObservations]); // the period ended on 2025-09-11
    const [late, actions] = transition(projectMachine, ended, ev.observations('2025-09-20'));
    expect(late.context.intention?.observations[0]?.late).toBe(true);
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'storeObservations', params: expect.objectContaining({ late: true }) }),
    );
    // Received on the last day, recorded after the timer fired: in time.
    expect(send(ended, ev.observations('2025-09-11')).context.intention?.observations[0]?.late).toBe(false);
  });

  test('a dropped reduction closes the project with nothing to recover', () => {
    const [s, actions] = transition(projectMachine, walk([...toReduction, ev.observations()]), ev.dropReduction);
    expect([projectStateOf(s), s.status, s.context.outcome, s.context.recovery]).toEqual([
      'closed',
      'done',
      'closed',
      null,
    ]);
    expect(s.context.pastIntentions).toEqual([
      expect.objectContaining({ kind: 'reduction', outcome: 'dropped', recoveryCents: 502_443 }),
    ]);
    expect(actions.map((a) => a.type)).not.toContain('orderRecovery');
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: 'notifyDecision',
        params: { kind: 'reduction', decision: 'dropped', motivation: ev.dropReduction.motivation, recoveryCents: 0 },
      }),
    );
  });
});

describe('revocation', () => {
  test('a final report missing after its deadline announces a revocation of everything disbursed', () => {
    const [s, actions] = transition(projectMachine, walk(toReportDue), ev.expireReport);
    expect(projectStateOf(s)).toBe('revocation_intended');
    expect(s.context.reportMissedOn).toBe('2025-07-31');
    expect(s.context.intention).toEqual({
      kind: 'revocation',
      cause: 'missing_report',
      from: 'final_report_due',
      reasons: ['the final report, due by 2025-07-31, was not received'],
      recoveryCents: DISBURSED,
      observations: [],
      periodEndedOn: null,
    });
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: 'notifyIntention',
        params: expect.objectContaining({ kind: 'revocation', cause: 'missing_report', recoveryCents: DISBURSED }),
      }),
    );
  });

  test('confirmed after the observations period, it orders the whole disbursement back', () => {
    const ended = walk([...toRevocation, ev.endObservations]);
    const [s, actions] = transition(projectMachine, ended, ev.confirmRevocation);
    expect([projectStateOf(s), s.context.outcome, outstandingCents(s.context)]).toEqual([
      'revoked',
      'revoked',
      DISBURSED,
    ]);
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: 'orderRecovery',
        params: {
          kind: 'revocation',
          amountCents: DISBURSED,
          reasons: ['the final report, due by 2025-07-31, was not received', ev.confirmRevocation.motivation],
        },
      }),
    );
  });

  test.each<[string, ProjectEvent[], ProjectState]>([
    ['in progress', [], 'in_progress'],
    ['with the final report due', toReportDue, 'final_report_due'],
    ['under verification', toVerification, 'under_verification'],
  ])('a project found not carried out %s can be revoked, with the operator reasons', (_, path, from) => {
    const s = walk([...path, ev.revoke]);
    expect(s.context.intention).toMatchObject({
      kind: 'revocation',
      cause: 'not_carried_out',
      from,
      reasons: ev.revoke.reasons,
      recoveryCents: DISBURSED,
    });
    // Dropped, it goes back where it came from, with what it had.
    const back = walk([ev.dropRevocation], s);
    expect(projectStateOf(back)).toBe(from);
    expect(back.context.intention).toBeNull();
    expect(back.context.finalReport).toEqual(from === 'under_verification' ? fullReport() : null);
    expect(back.context.pastIntentions).toEqual([
      expect.objectContaining({ kind: 'revocation', outcome: 'dropped', motivation: ev.dropRevocation.motivation }),
    ]);
  });

  test('a dropped revocation for a missed report gives the report back its chance', () => {
    const back = walk([...toRevocation, ev.observations(), ev.dropRevocation]);
    expect(projectStateOf(back)).toBe('final_report_due');
    expect(back.context.reportMissedOn).toBeNull();
    expect(projectStateOf(walk([ev.report(), ev.acceptAll], back))).toBe('closed');
  });

  test('a dropped revocation orders nothing back', () => {
    const actions = effects(walk(toRevocation), ev.dropRevocation);
    expect(actions.map((a) => a.type)).toEqual(['notifyDecision']);
  });

  test('confirming before the observations period ends is refused', () => {
    expect(projectRefusalReason(walk(toRevocation), ev.confirmRevocation)).toMatch(
      /observations period \(10 days from the notice\) has not ended yet: the decision waits for it to end$/,
    );
  });
});

describe('withdrawal', () => {
  test.each(PROJECT_OPEN_STATES)('WITHDRAW from %s recovers everything disbursed', (state) => {
    const [s, actions] = transition(projectMachine, walk(pathTo[state]), ev.withdraw);
    expect([projectStateOf(s), s.context.outcome, s.context.closingReason]).toEqual([
      'withdrawn',
      'withdrawn',
      ev.withdraw.reason,
    ]);
    expect(s.context.recovery).toEqual({ kind: 'withdrawal', orderedCents: DISBURSED, repaidCents: 0, repayments: [] });
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: 'orderRecovery',
        params: { kind: 'withdrawal', amountCents: DISBURSED, reasons: [ev.withdraw.reason] },
      }),
    );
  });

  test('a withdrawal overtakes an intention under way, which the history keeps', () => {
    const s = walk([...toReduction, ev.withdraw]);
    expect(s.context.intention).toBeNull();
    expect(s.context.pastIntentions).toEqual([
      expect.objectContaining({ kind: 'reduction', outcome: 'overtaken_by_withdrawal' }),
    ]);
    expect(outstandingCents(s.context)).toBe(DISBURSED);
  });

  test.each(PROJECT_RECOVERING_STATES)('once %s, the decision stands: no withdrawal', (state) => {
    expect(projectRefusalReason(walk(pathTo[state]), ev.withdraw)).toBe(
      `WITHDRAW is not possible while the project is ${state}; possible now: RECORD_REPAYMENT`,
    );
  });
});

describe('repayments', () => {
  test('partial repayments lower what is outstanding; the last one settles the project', () => {
    const reduced = walk(pathTo.reduced);
    const [part, partActions] = transition(projectMachine, reduced, ev.repay(200_000, '2025-10-01'));
    expect([projectStateOf(part), outstandingCents(part.context)]).toEqual(['reduced', 302_443]);
    expect(partActions).toContainEqual(
      expect.objectContaining({
        type: 'recordRepayment',
        params: { amountCents: 200_000, repaidOn: '2025-10-01', outstandingAfterCents: 302_443 },
      }),
    );
    const [settled, lastActions] = transition(projectMachine, part, ev.repay(302_443, '2025-11-03'));
    expect([projectStateOf(settled), settled.status, settled.context.outcome]).toEqual(['settled', 'done', 'reduced']);
    expect(settled.context.recovery).toEqual({
      kind: 'reduction',
      orderedCents: 502_443,
      repaidCents: 502_443,
      repayments: [
        { amountCents: 200_000, repaidOn: '2025-10-01' },
        { amountCents: 302_443, repaidOn: '2025-11-03' },
      ],
    });
    expect(lastActions).toContainEqual(
      expect.objectContaining({
        type: 'recordRepayment',
        params: expect.objectContaining({ outstandingAfterCents: 0 }),
      }),
    );
    expect(projectStatus('settled', settled.context)).toBe('reduced');
  });

  test.each<[ProjectState, string]>([
    ['revoked', 'revoked'],
    ['withdrawn', 'withdrawn'],
  ])('a %s project repaid in full is settled and still says it was %s', (state, status) => {
    const s = walk([...pathTo[state], ev.repay(DISBURSED)]);
    expect([projectStateOf(s), s.status, projectStatus(projectStateOf(s), s.context)]).toEqual([
      'settled',
      'done',
      status,
    ]);
  });

  test('never more than is outstanding, never before the disbursement', () => {
    const reduced = walk(pathTo.reduced);
    expect(projectRefusalReason(reduced, ev.repay(502_444))).toBe(
      'RECORD_REPAYMENT refused while the project is reduced: a repayment of EUR 5,024.44 is more than the EUR ' +
        '5,024.43 still outstanding',
    );
    expect(send(reduced, ev.repay(502_444)).context).toEqual(reduced.context);
    expect(projectRefusalReason(reduced, ev.repay(1_000, '2024-05-31'))).toMatch(
      /a repayment dated 2024-05-31 is before the disbursement \(2024-06-01\)/,
    );
  });

  test('no repayment is taken where nothing was ordered', () => {
    expect(projectRefusalReason(walk(toReduction), ev.repay(1))).toMatch(
      /^RECORD_REPAYMENT is not possible while the project is reduction_intended/,
    );
  });
});

describe('extension of the realisation period', () => {
  test('once, within the rules maximum', () => {
    expect(projectRefusalReason(start(), ev.extend(7))).toBe(
      "EXTEND_REALISATION refused while the project is in_progress: an extension of 7 months exceeds the rules' " +
        'maximum of 6 months',
    );
    const extended = walk([ev.extend(6)]);
    expect(extended.context.extension).toEqual({
      months: 6,
      reason: 'the supplier delivered the machines four months late',
    });
    expect(projectRefusalReason(extended, ev.extend(1))).toBe(
      'EXTEND_REALISATION refused while the project is in_progress: the realisation period was already extended ' +
        'once, by 6 months (the supplier delivered the machines four months late): the rules allow one extension',
    );
    expect(send(extended, ev.extend(1)).context.extension?.months).toBe(6);
  });

  test('a call whose rules allow none refuses every extension', () => {
    const strict = start({
      ...input,
      rules: { ...input.rules, postAward: { ...input.rules.postAward, maxExtensionMonths: 0 } },
    });
    expect(projectRefusalReason(strict, ev.extend(1))).toMatch(/this call's rules allow no extension/);
  });

  test('only while the project is carried out', () => {
    expect(projectRefusalReason(walk(toReportDue), ev.extend(1))).toMatch(
      /^EXTEND_REALISATION is not possible while the project is final_report_due/,
    );
  });
});

describe('final report validation', () => {
  const refusal = (report: FinalReport) => projectRefusalReason(walk(toReportDue), ev.report(report));

  test('a complete report is accepted', () => {
    expect(refusal(fullReport())).toBeNull();
  });

  test('a missing indicator and a missing cost line are named with what to give', () => {
    const r = edit((r) => {
      r.indicators = r.indicators.slice(0, 1);
      r.costLines = r.costLines.slice(1);
    });
    expect(refusal(r)).toBe(
      'SUBMIT_FINAL_REPORT refused while the project is final_report_due: ' +
        'indicator 2 (Textile waste sent to landfill) is missing: give its measured value, the date measured and ' +
        'the evidence; ' +
        'cost line 1 (Sewing and repair equipment) is missing: give the amount actually spent (0 if nothing) and ' +
        'its invoices',
    );
  });

  test('nothing new slips in, and nothing is counted twice', () => {
    const r = edit((r) => {
      r.indicators.push({ ...r.indicators[0]!, indicator: 3, name: 'Customers served' });
      r.costLines.push({ ...r.costLines[1]! });
    });
    const reason = refusal(r);
    expect(reason).toContain('indicator 3 is not in the pre-project, which has 2: nothing new can be added to it now');
    expect(reason).toContain('cost line 2 (Training of the repair team) is given 2 times: give it once');
  });

  test('a misnumbered line is caught by its name; case and spacing do not matter', () => {
    const swapped = edit((r) => {
      r.indicators[0]!.name = 'Textile waste sent to landfill';
    });
    expect(refusal(swapped)).toContain(
      'indicator 1 is "Textile waste sent to landfill" here ' +
        'but "Jobs for people at risk of exclusion" in the pre-project: check the numbering',
    );
    expect(refusal(edit((r) => void (r.costLines[0]!.description = 'sewing and  REPAIR equipment')))).toBeNull();
  });

  test('a measurement from before the project and money spent without invoices are refused', () => {
    const r = edit((r) => {
      r.indicators[1]!.measuredOn = '2024-05-01';
      r.costLines[1]!.documents = [];
    });
    const reason = refusal(r);
    expect(reason).toContain(
      'indicator 2 (Textile waste sent to landfill) was measured on 2024-05-01, before the project started ' +
        '(disbursed on 2024-06-01)',
    );
    expect(reason).toContain(
      'cost line 2 (Training of the repair team) reports EUR 30,000.00 spent without any document: attach the invoices',
    );
  });

  test('a cost line with nothing spent needs no invoice', () => {
    const r = edit((r) => {
      r.costLines[1]!.spentCents = 0;
      r.costLines[1]!.documents = [];
    });
    expect(refusal(r)).toBeNull();
  });

  test('a refused report changes nothing and stores nothing', () => {
    const due = walk(toReportDue);
    const bad = ev.report(edit((r) => void r.indicators.pop()));
    expect(send(due, bad).context).toEqual(due.context);
    expect(effects(due, bad)).toEqual([]);
  });

  test('the report is only taken once the realisation period has ended', () => {
    expect(projectRefusalReason(start(), ev.report())).toBe(
      'SUBMIT_FINAL_REPORT is not possible while the project is in_progress; possible now: SUBMIT_INTERIM_REPORT, ' +
        'EXTEND_REALISATION, START_REVOCATION, WITHDRAW',
    );
  });

  test('an interim report dated before the disbursement is refused', () => {
    const early = { ...ev.interim, report: { ...ev.interim.report, asOf: '2024-05-31' } };
    expect(projectRefusalReason(start(), early)).toBe(
      'SUBMIT_INTERIM_REPORT refused while the project is in_progress: the interim report is dated 2024-05-31, ' +
        'before the project started (disbursed on 2024-06-01)',
    );
  });
});

describe('verification refusals', () => {
  const verifying = () => walk(toVerification);
  const verify = (costLines: { costLine: number; acceptedCents: number; reason?: string }[]): ProjectEvent => ({
    type: 'VERIFY_REPORT',
    costLines,
  });

  test('every cost line gets a verdict', () => {
    expect(projectRefusalReason(verifying(), verify([{ costLine: 1, acceptedCents: 5_000_000 }]))).toBe(
      'VERIFY_REPORT refused while the project is under_verification: cost line 2 (Training of the repair team) ' +
        'is missing: accept it in full or cut it with a reason',
    );
  });

  test('a cut needs its reason, and nothing is accepted beyond what was spent', () => {
    const reason = projectRefusalReason(
      verifying(),
      verify([
        { costLine: 1, acceptedCents: 5_000_001 },
        { costLine: 2, acceptedCents: 1_000_000 },
      ]),
    );
    expect(reason).toBe(
      'VERIFY_REPORT refused while the project is under_verification: ' +
        'cost line 1 (Sewing and repair equipment): EUR 50,000.01 accepted is more than the EUR 50,000.00 ' +
        'reported spent; ' +
        'cost line 2 (Training of the repair team): EUR 10,000.00 accepted of the EUR 30,000.00 spent: a cut ' +
        'needs its reason',
    );
  });
});

describe('final states', () => {
  test.each(PROJECT_FINAL_STATES)('%s is done, refuses every event and allows no command', (state) => {
    const s = walk(pathTo[state]);
    expect(s.status).toBe('done');
    expect(allowedProjectCommands(s)).toEqual([]);
    for (const event of everyEvent) {
      expect(projectRefusalReason(s, event)).toBe(
        `the project is ${state}, a final state: no further events are accepted`,
      );
      expect(send(s, event).context).toEqual(s.context);
    }
  });
});

describe('allowedProjectCommands', () => {
  test.each<[ProjectState | string, ProjectEvent[], string[]]>([
    ['in_progress', [], ['SUBMIT_INTERIM_REPORT', 'EXTEND_REALISATION', 'START_REVOCATION', 'WITHDRAW']],
    ['final_report_due', toReportDue, ['SUBMIT_FINAL_REPORT', 'START_REVOCATION', 'WITHDRAW']],
    ['under_verification', toVerification, ['VERIFY_REPORT', 'START_REVOCATION', 'WITHDRAW']],
    ['reduction_intended, period running', toReduction, ['SUBMIT_OBSERVATIONS', 'DROP_REDUCTION', 'WITHDRAW']],
    [
      'reduction_intended, period over',
      [...toReduction, ev.endObservations],
      ['SUBMIT_OBSERVATIONS', 'CONFIRM_REDUCTION', 'DROP_REDUCTION', 'WITHDRAW'],
    ],
    [
      'revocation_intended, period over',
      [...toRevocation, ev.endObservations],
      ['SUBMIT_OBSERVATIONS', 'CONFIRM_REVOCATION', 'DROP_REVOCATION', 'WITHDRAW'],
    ],
    ['reduced', pathTo.reduced, ['RECORD_REPAYMENT']],
  ])('%s', (_, events, expected) => {
    expect([...allowedProjectCommands(walk(events))].sort()).toEqual([...expected].sort());
  });
});

describe('commands from outside', () => {
  test('system events are not commands: the timer alone raises them', () => {
    for (const type of ['END_REALISATION', 'EXPIRE_REPORT_DEADLINE', 'END_OBSERVATION_PERIOD']) {
      expect(isProjectCommandType(type)).toBe(false);
      expect(ProjectCommandSchema.safeParse({ type, endedOn: '2025-06-01', dueOn: '2025-06-01' }).success).toBe(false);
    }
  });

  test('a well-formed final report parses; a document named by something other than its SHA-256 does not', () => {
    expect(ProjectCommandSchema.safeParse(ev.report()).success).toBe(true);
    const bad = edit((r) => void (r.indicators[0]!.evidence.sha256 = 'report.pdf'));
    const parsed = ProjectCommandSchema.safeParse(ev.report(bad));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/SHA-256/);
  });

  test('money in cents: a fractional or negative amount is refused', () => {
    expect(ProjectCommandSchema.safeParse(ev.repay(10.5)).success).toBe(false);
    expect(ProjectCommandSchema.safeParse(ev.repay(0)).success).toBe(false);
    expect(ProjectCommandSchema.safeParse({ ...ev.extend(3), extra: true }).success).toBe(false);
  });

  test('consultants report and relay observations; operators decide; companies may only withdraw', () => {
    expect(projectPermissionProblem('consultant', { type: 'SUBMIT_FINAL_REPORT' })).toBeNull();
    expect(projectPermissionProblem('consultant', { type: 'VERIFY_REPORT' })).toBe(
      'VERIFY_REPORT is not a project command the role consultant can send',
    );
    expect(projectPermissionProblem('operator', { type: 'CONFIRM_REVOCATION' })).toBeNull();
    expect(PROJECT_COMMANDS_BY_ROLE.company).toEqual(['WITHDRAW']);
    expect(PROJECT_COMMANDS_BY_ROLE.system).toEqual([]);
  });
});

describe('mermaidDiagram(projectMachine)', () => {
  const diagram = mermaidDiagram(projectMachine);

  test('draws the project lifecycle from its own machine', () => {
    expect(diagram).toMatch(/^stateDiagram-v2\n {2}\[\*\] --> in_progress\n/);
    for (const edge of [
      'in_progress --> final_report_due: END_REALISATION',
      'final_report_due --> under_verification: SUBMIT_FINAL_REPORT [isFinalReportComplete]',
      'final_report_due --> revocation_intended: EXPIRE_REPORT_DEADLINE',
      'under_verification --> closed: VERIFY_REPORT [verificationJustifiesDisbursement]',
      'under_verification --> reduction_intended: VERIFY_REPORT [verificationCallsForReduction]',
      'reduction_intended --> reduced: CONFIRM_REDUCTION [isObservationPeriodOver]',
      'reduction_intended --> closed: DROP_REDUCTION',
      'revocation_intended --> final_report_due: DROP_REVOCATION [revocationCameFromReportDue]',
      'withdrawn --> settled: RECORD_REPAYMENT [repaymentSettlesOutstanding]',
    ])
      expect(diagram).toContain(`  ${edge}\n`);
  });

  test.each(PROJECT_OPEN_STATES)('%s can be withdrawn', (state) => {
    expect(diagram).toContain(`  ${state} --> withdrawn: WITHDRAW`);
  });

  test.each(PROJECT_FINAL_STATES)('%s is an end and has no way out', (state) => {
    expect(diagram).toContain(`  ${state} --> [*]`);
    expect(diagram).not.toMatch(new RegExp(`^\\s*${state} --> \\w`, 'm'));
  });

  test('the application diagram is still the default', () => {
    expect(mermaidDiagram()).toMatch(/^stateDiagram-v2\n {2}\[\*\] --> submitted\n/);
  });
});
