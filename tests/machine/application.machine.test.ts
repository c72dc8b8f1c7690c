import { initialTransition, transition } from 'xstate';
import { machineRules } from '../../domain/rules';
import {
  APPLICATION_STATES,
  FINAL_STATES,
  applicationMachine,
  type ApplicationMachineInput,
  type ApplicationState,
} from '../../machines/application.machine';
import { deadlineAfter, type Deadline } from '../../machines/deadlines';
import { mermaidDiagram } from '../../machines/diagram';
import type { ApplicationEvent, DocumentUpload } from '../../machines/events';
import { allowedCommands, refusalReason, stateOf, type ApplicationSnapshot } from '../../machines/explain';
import { pdfBase64, preProject, rules2023, session, type PreProjectOverrides } from '../support/fixtures';

const input: ApplicationMachineInput = {
  applicationId: 'app-test',
  callId: rules2023.callId,
  rulesVersion: rules2023.version,
  rules: machineRules(rules2023),
  themes: [],
  deMinimisRoomCents: rules2023.deMinimis.ceilingCents,
};

const start = (): ApplicationSnapshot => initialTransition(applicationMachine, input)[0];
const send = (snapshot: ApplicationSnapshot, event: ApplicationEvent) =>
  transition(applicationMachine, snapshot, event)[0];

/**
 * Replays events from a fresh application. Every step must be accepted: a path that silently stalls would
 * let a later assertion pass or fail for the wrong reason.
 */
function walk(events: readonly ApplicationEvent[]): ApplicationSnapshot {
  return events.reduce((snapshot, event) => {
    const refused = refusalReason(snapshot, event);
    if (refused) throw new Error(`walk stalled at ${event.type}: ${refused}`);
    return send(snapshot, event);
  }, start());
}

const pdf: DocumentUpload = { kind: 'pre_project', filename: 'pre-progetto.pdf', contentBase64: pdfBase64() };
const hours = (verifiedMinutes: number, discarded: string[] = []): ApplicationEvent => ({
  type: 'RECORD_VERIFIED_HOURS',
  verifiedMinutes,
  discarded,
});
const submit = (overrides: PreProjectOverrides = {}): ApplicationEvent => ({
  type: 'SUBMIT_PRE_PROJECT',
  preProject: preProject(overrides),
});
const fund = (amountCents: number): ApplicationEvent => ({
  type: 'RECORD_FUNDING',
  amountCents,
  disbursedOn: '2024-06-01',
});
const grantCents = preProject().grantCents;

const toAccompaniment: ApplicationEvent[] = [
  { type: 'CONFIRM_ELIGIBILITY' },
  {
    type: 'ASSIGN_BODY',
    implementingBody: 'socialfare',
    consultant: { name: 'Marco Bianchi', email: 'marco.bianchi@example.org' },
  },
];
const toPreProject = [...toAccompaniment, hours(480), { type: 'COMPLETE_ACCOMPANIMENT' } as const];
const toCommission = [...toPreProject, submit(), { type: 'FORWARD_TO_COMMISSION' } as const];
const reserved: ApplicationEvent = { type: 'RECORD_BUDGET', status: 'reserved', position: null };
const toAdmitted = [...toCommission, { type: 'APPROVE', motivation: 'solid social impact plan' } as const, reserved];

const pathTo: Record<ApplicationState, ApplicationEvent[]> = {
  submitted: [],
  accompaniment: toAccompaniment,
  pre_project: toPreProject,
  commission: toCommission,
  admitted: toAdmitted,
  rejected: [...toCommission, { type: 'REJECT', motivation: 'impact not measurable' }],
  funded: [...toAdmitted, fund(grantCents)],
  withdrawn: [{ type: 'WITHDRAW', reason: 'the company renounces' }],
  lapsed: [{ type: 'LAPSE', deadline: 'accompaniment', dueAt: '2024-05-01T00:00:00.000Z' }],
};

const OPEN_STATES = APPLICATION_STATES.filter((s) => !FINAL_STATES.includes(s));

// One event of every type, so "no event" below really means every event the machine knows.
const oneOfEach: { [K in ApplicationEvent['type']]: Extract<ApplicationEvent, { type: K }> } = {
  ASSIGN_BODY: {
    type: 'ASSIGN_BODY',
    implementingBody: 'i3p',
    consultant: { name: 'Anna Verdi', email: 'anna.verdi@example.org' },
  },
  CONFIRM_SESSION: { type: 'CONFIRM_SESSION', date: '2024-03-05', start: '09:00', code: '123456' },
  LOG_SESSION: { type: 'LOG_SESSION', session: session('2024-03-05', '09:00', '13:00') },
  ATTACH_DOCUMENT: { type: 'ATTACH_DOCUMENT', document: pdf },
  COMPLETE_ACCOMPANIMENT: { type: 'COMPLETE_ACCOMPANIMENT' },
  SUBMIT_PRE_PROJECT: { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() },
  FORWARD_TO_COMMISSION: { type: 'FORWARD_TO_COMMISSION' },
  DECLARE_CONFLICT: { type: 'DECLARE_CONFLICT', member: 'member-1', conflicted: false },
  SUBMIT_EVALUATION: {
    type: 'SUBMIT_EVALUATION',
    member: 'member-1',
    scores: { social_impact: 30, innovation: 15, feasibility: 20, territory: 10 },
    recommendation: 'approve',
    motivation: 'good',
  },
  APPROVE: { type: 'APPROVE', motivation: 'ok' },
  REJECT: { type: 'REJECT', motivation: 'no' },
  REQUEST_INTEGRATION: { type: 'REQUEST_INTEGRATION', motivation: 'more detail' },
  RECORD_FUNDING: { type: 'RECORD_FUNDING', amountCents: 1, disbursedOn: '2024-06-01' },
  WITHDRAW: { type: 'WITHDRAW', reason: 'changed mind' },
  CONFIRM_ELIGIBILITY: { type: 'CONFIRM_ELIGIBILITY' },
  REJECT_INELIGIBLE: {
    type: 'REJECT_INELIGIBLE',
    reasons: [{ code: 'not_sme', field: 'company.headcount', message: 'too big' }],
  },
  RECORD_VERIFIED_HOURS: { type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: 600, discarded: [] },
  DOCUMENT_STORED: {
    type: 'DOCUMENT_STORED',
    document: {
      documentId: 'doc-1',
      sha256: 'a'.repeat(64),
      kind: 'attachment',
      filename: 'a.pdf',
      mediaType: 'application/pdf',
      sizeBytes: 10,
    },
  },
  LAPSE: { type: 'LAPSE', deadline: 'funding', dueAt: '2024-12-01T00:00:00.000Z' },
  RECORD_BUDGET: { type: 'RECORD_BUDGET', status: 'waiting', position: 3 },
};
const everyEvent = Object.values(oneOfEach) as ApplicationEvent[];

describe('states', () => {
  test('the exported state lists match the machine', () => {
    const nodes = Object.entries(applicationMachine.root.states);
    expect(nodes.map(([name]) => name).sort()).toEqual([...APPLICATION_STATES].sort());
    expect(
      nodes
        .filter(([, node]) => node.type === 'final')
        .map(([name]) => name)
        .sort(),
    ).toEqual([...FINAL_STATES].sort());
  });

  test.each(APPLICATION_STATES)('%s is reachable', (state) => {
    expect(stateOf(walk(pathTo[state]))).toBe(state);
  });

  test('an ineligible company is rejected straight from submitted, with its reasons kept', () => {
    const s = walk([oneOfEach.REJECT_INELIGIBLE]);
    expect(stateOf(s)).toBe('rejected');
    expect(s.context.eligibility).toBe('ineligible');
    expect(s.context.ineligibilityReasons).toEqual(['too big']);
  });

  test('approval admits the requested grant and funding records the disbursed amount', () => {
    expect(walk(pathTo.admitted).context.admittedCents).toBe(grantCents);
    expect(walk(pathTo.funded).context.fundedCents).toBe(grantCents);
  });
});

describe('guards', () => {
  test.each([
    [479, 'accompaniment'],
    [480, 'pre_project'],
  ] as const)('hasMinimumHours: %i verified minutes -> %s', (minutes, expected) => {
    const s = send(walk([...toAccompaniment, hours(minutes)]), oneOfEach.COMPLETE_ACCOMPANIMENT);
    expect(stateOf(s)).toBe(expected);
  });

  describe('isPreProjectAdmissible', () => {
    const submitted = (overrides: PreProjectOverrides) => send(walk(toPreProject), submit(overrides));

    test.each<[string, PreProjectOverrides]>([
      ['no impact theme', { themes: [] }],
      ['a grant above 50% of the eligible cost', { eligibleCostCents: 8_000_000, grantCents: 4_000_001 }],
      ['neither a grant nor a loan', { grantCents: 0, loan: undefined }],
      ['an indicator measuring a theme the project does not claim', { themes: ['environment'] }],
      [
        'a grant above 50% of the sum of several cost lines',
        {
          grantCents: 3_000_001,
          costLines: [
            { description: 'tools', category: 'equipment', amountCents: 4_000_000 },
            { description: 'training', category: 'services', amountCents: 2_000_000 },
          ],
        },
      ],
    ])('refuses %s', (_, overrides) => {
      const s = submitted(overrides);
      expect(s.context.preProject).toBeNull();
      expect(s.context.preProjectVersion).toBe(0);
    });

    test.each<[string, PreProjectOverrides]>([
      ['a grant of exactly 50% of the eligible cost', { eligibleCostCents: 8_000_000, grantCents: 4_000_000 }],
      [
        'a loan subsidy without a grant',
        { grantCents: 0, loan: { amountCents: 5_000_000, annualRateBps: 450, months: 60 } },
      ],
      [
        'exactly 50% of the sum of several cost lines',
        {
          grantCents: 3_000_000,
          costLines: [
            { description: 'tools', category: 'equipment', amountCents: 4_000_000 },
            { description: 'training', category: 'services', amountCents: 2_000_000 },
          ],
        },
      ],
    ])('accepts %s', (_, overrides) => {
      const s = submitted(overrides);
      expect(s.context.preProject).toEqual(preProject(overrides));
      expect(s.context.preProjectVersion).toBe(1);
    });
  });

  test('hasNewPreProject: the commission only gets a submitted pre-project', () => {
    const empty = walk(toPreProject);
    expect(stateOf(send(empty, oneOfEach.FORWARD_TO_COMMISSION))).toBe('pre_project');
    expect(stateOf(send(send(empty, submit()), oneOfEach.FORWARD_TO_COMMISSION))).toBe('commission');
  });

  test('hasNewPreProject: after an integration request only a revised version goes back', () => {
    const sentBack = send(walk(pathTo.commission), { type: 'REQUEST_INTEGRATION', motivation: 'baseline missing' });
    const same = send(sentBack, oneOfEach.FORWARD_TO_COMMISSION);
    expect(stateOf(same)).toBe('pre_project');
    expect(refusalReason(sentBack, oneOfEach.FORWARD_TO_COMMISSION)).toMatch(
      /already has pre-project v1: submit a revised version/,
    );
    expect(stateOf(send(send(sentBack, submit()), oneOfEach.FORWARD_TO_COMMISSION))).toBe('commission');
  });

  test('isEligibilityConfirmed: no implementing body before eligibility is confirmed', () => {
    expect(stateOf(send(start(), oneOfEach.ASSIGN_BODY))).toBe('submitted');
    expect(stateOf(send(walk([oneOfEach.CONFIRM_ELIGIBILITY]), oneOfEach.ASSIGN_BODY))).toBe('accompaniment');
  });

  test('isEligibilityPending: a confirmed company cannot be turned ineligible afterwards', () => {
    const confirmed = walk([oneOfEach.CONFIRM_ELIGIBILITY]);
    const s = send(confirmed, oneOfEach.REJECT_INELIGIBLE);
    expect(stateOf(s)).toBe('submitted');
    expect(s.context.eligibility).toBe('eligible');
    expect(refusalReason(confirmed, oneOfEach.CONFIRM_ELIGIBILITY)).toMatch(/already been assessed/);
    expect(refusalReason(start(), oneOfEach.CONFIRM_ELIGIBILITY)).toBeNull();
  });

  test.each([
    [grantCents + 1, 'admitted'],
    [grantCents, 'funded'],
  ] as const)('isFundingWithinAdmitted: %i cents -> %s', (amount, expected) => {
    expect(stateOf(send(walk(pathTo.admitted), fund(amount)))).toBe(expected);
  });

  test('hasMinimumHours: the refusal lists the sessions that did not count and why', () => {
    const s = walk([...toAccompaniment, hours(450, ['2024-03-06 09:00-10:00: is not yet confirmed by the company'])]);
    expect(refusalReason(s, oneOfEach.COMPLETE_ACCOMPANIMENT)).toMatch(
      /7\.50 h, .* at least 8 h \(not counted: 2024-03-06 09:00-10:00: is not yet confirmed by the company\)/,
    );
  });

  test('isPreProjectAdmissible: the support asked cannot exceed the de minimis room left', () => {
    const tight = initialTransition(applicationMachine, { ...input, deMinimisRoomCents: grantCents - 1 })[0];
    const s = [...toPreProject].reduce(send, tight);
    expect(refusalReason(s, submit())).toMatch(/exceeds the de minimis room left to the company \(3999999 cents\)/);
    expect(refusalReason(s, submit({ grantCents: grantCents - 1 }))).toBeNull();
  });

  test('isFundingWithinAdmitted: nothing is disbursed while the admission waits for budget', () => {
    const waiting = walk([...toCommission, oneOfEach.APPROVE, oneOfEach.RECORD_BUDGET]);
    expect(stateOf(send(waiting, fund(grantCents)))).toBe('admitted');
    expect(refusalReason(waiting, fund(grantCents))).toMatch(
      /budget is exhausted: the admission waits in the reserve list at position 3/,
    );
    expect(stateOf(send(send(waiting, reserved), fund(grantCents)))).toBe('funded');
  });
});

describe('money at admission', () => {
  test('the admitted amount is the grant plus the interest subsidy, and that is what is reserved', () => {
    const loan = { amountCents: 1_200_000, annualRateBps: 600, months: 12 };
    const [admitted, actions] = transition(
      applicationMachine,
      walk([...toPreProject, submit({ loan }), { type: 'FORWARD_TO_COMMISSION' }]),
      oneOfEach.APPROVE,
    );
    // 19,541 cents: the present value at 3% of the interest saved by 3 points off a 6% loan (tests/unit/subsidy.test.ts).
    expect(admitted.context).toMatchObject({ subsidyCents: 19_541, admittedCents: grantCents + 19_541 });
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'reserveBudget', params: { amountCents: grantCents + 19_541 } }),
    );
  });

  test('leaving after admission gives the money back; funding settles it', () => {
    const admitted = walk(pathTo.admitted);
    expect(transition(applicationMachine, admitted, oneOfEach.WITHDRAW)[1]).toContainEqual(
      expect.objectContaining({ type: 'releaseBudget' }),
    );
    expect(transition(applicationMachine, admitted, oneOfEach.LAPSE)[1]).toContainEqual(
      expect.objectContaining({ type: 'releaseBudget' }),
    );
    expect(transition(applicationMachine, admitted, fund(grantCents - 100))[1]).toContainEqual(
      expect.objectContaining({ type: 'settleBudget', params: { finalAmountCents: grantCents - 100 } }),
    );
    expect(transition(applicationMachine, walk(toCommission), oneOfEach.WITHDRAW)[1]).toEqual([]);
  });
});

describe('final states', () => {
  test.each(FINAL_STATES)('%s is done, refuses every event and allows no command', (state) => {
    const s = walk(pathTo[state]);
    expect(s.status).toBe('done');
    expect(allowedCommands(s)).toEqual([]);
    for (const event of everyEvent) {
      expect(refusalReason(s, event)).toBe(
        `the application is ${state}, a final state: no further events are accepted`,
      );
    }
  });

  const cases = FINAL_STATES.flatMap((state) => everyEvent.map((event) => [state, event.type, event] as const));
  const leaves = (state: ApplicationState, event: ApplicationEvent) => {
    const before = walk(pathTo[state]);
    const after = send(before, event);
    expect([stateOf(after), after.status, after.context]).toEqual([state, 'done', before.context]);
  };

  // Includes WITHDRAW, LAPSE and DOCUMENT_STORED: pure transition() must not reopen a closed application.
  test.each(cases)('%s does not change on %s', (state, _, event) => leaves(state, event));
});

describe('withdrawal and lapse', () => {
  test.each(OPEN_STATES)('WITHDRAW from %s ends in withdrawn, keeping the reason', (state) => {
    const s = send(walk(pathTo[state]), { type: 'WITHDRAW', reason: 'no longer interested' });
    expect([stateOf(s), s.status, s.context.closingReason]).toEqual(['withdrawn', 'done', 'no longer interested']);
  });

  test.each(OPEN_STATES)('LAPSE from %s ends in lapsed, naming the missed deadline', (state) => {
    const s = send(walk(pathTo[state]), { type: 'LAPSE', deadline: 'funding', dueAt: '2024-12-01T00:00:00.000Z' });
    expect([stateOf(s), s.status]).toEqual(['lapsed', 'done']);
    expect(s.context.closingReason).toBe('deadline "funding" passed on 2024-12-01T00:00:00.000Z');
  });
});

describe('integration requests', () => {
  test('the commission sends the pre-project back; the resubmission is a new version', () => {
    const back = send(walk(toCommission), { type: 'REQUEST_INTEGRATION', motivation: 'quantify the jobs created' });
    expect(stateOf(back)).toBe('pre_project');
    expect(back.context.integrationRequests).toBe(1);
    expect(back.context.motivation).toBe('quantify the jobs created');

    const resubmitted = send(back, submit({ title: 'Laboratorio di riuso tessile, v2' }));
    expect(resubmitted.context.preProjectVersion).toBe(2);
    expect(resubmitted.context.preProject?.title).toBe('Laboratorio di riuso tessile, v2');
    expect(stateOf(send(resubmitted, oneOfEach.FORWARD_TO_COMMISSION))).toBe('commission');
  });
});

describe('effect actions', () => {
  // The workflow performs these; if the machine stops handing them back, sessions and documents are lost.
  test('LOG_SESSION counts the session and asks for it to be stored', () => {
    const [next, actions] = transition(applicationMachine, walk(toAccompaniment), oneOfEach.LOG_SESSION);
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'storeSession', params: oneOfEach.LOG_SESSION.session }),
    );
    expect(next.context.sessionsLogged).toBe(1);
  });

  test.each(['accompaniment', 'pre_project', 'admitted'] as const)(
    'ATTACH_DOCUMENT in %s asks for the upload to be stored',
    (state) => {
      const [, actions] = transition(applicationMachine, walk(pathTo[state]), oneOfEach.ATTACH_DOCUMENT);
      expect(actions).toContainEqual(expect.objectContaining({ type: 'storeDocument', params: pdf }));
    },
  );

  test('ASSIGN_BODY asks for the consultant to be bound to the registered body', () => {
    const [, actions] = transition(applicationMachine, walk([{ type: 'CONFIRM_ELIGIBILITY' }]), oneOfEach.ASSIGN_BODY);
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: 'assignConsultant',
        params: { implementingBody: 'i3p', consultant: oneOfEach.ASSIGN_BODY.consultant },
      }),
    );
  });

  test('CONFIRM_SESSION asks for the code to be checked', () => {
    const [, actions] = transition(applicationMachine, walk(toAccompaniment), oneOfEach.CONFIRM_SESSION);
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: 'confirmSession',
        params: { date: '2024-03-05', start: '09:00', code: '123456' },
      }),
    );
  });

  test('each submitted pre-project is stored as the next version, and forwarding freezes that version', () => {
    const [first, storeFirst] = transition(applicationMachine, walk(toPreProject), submit());
    expect(storeFirst).toContainEqual(
      expect.objectContaining({ type: 'storePreProject', params: { version: 1, preProject: preProject() } }),
    );
    const [, storeSecond] = transition(applicationMachine, first, submit({ title: 'Revised' }));
    expect(storeSecond).toContainEqual(
      expect.objectContaining({ type: 'storePreProject', params: expect.objectContaining({ version: 2 }) }),
    );
    const [, forward] = transition(applicationMachine, first, oneOfEach.FORWARD_TO_COMMISSION);
    expect(forward).toContainEqual(expect.objectContaining({ type: 'freezePreProject', params: { version: 1 } }));
  });

  test('no storage is asked for where the event is not accepted', () => {
    expect(transition(applicationMachine, walk(toPreProject), oneOfEach.LOG_SESSION)[1]).toEqual([]);
    expect(transition(applicationMachine, walk(toCommission), oneOfEach.ATTACH_DOCUMENT)[1]).toEqual([]);
  });

  test('a stored document is remembered once, even if reported twice', () => {
    const once = send(walk(toAccompaniment), oneOfEach.DOCUMENT_STORED);
    expect(send(once, oneOfEach.DOCUMENT_STORED).context.documents).toEqual([oneOfEach.DOCUMENT_STORED.document]);
  });
});

describe('refusalReason', () => {
  test('an event the state does not handle names the state and what is possible', () => {
    expect(refusalReason(walk(toAccompaniment), oneOfEach.APPROVE)).toBe(
      'APPROVE is not possible while the application is in accompaniment; possible now: LOG_SESSION, CONFIRM_SESSION, ATTACH_DOCUMENT, WITHDRAW',
    );
  });

  test('missing hours are stated in hours, against the rule', () => {
    const reason = refusalReason(walk([...toAccompaniment, hours(450)]), oneOfEach.COMPLETE_ACCOMPANIMENT);
    expect(reason).toBe(
      'COMPLETE_ACCOMPANIMENT refused in accompaniment: verified accompaniment hours are 7.50 h, the rules require at least 8 h',
    );
  });

  test('every problem of a pre-project is listed', () => {
    const reason = refusalReason(walk(toPreProject), submit({ themes: [], eligibleCostCents: 1_000, grantCents: 501 }));
    expect(reason).toContain('at least one impact theme');
    expect(reason).toContain('grant of 501 cents exceeds 50% of eligible cost (500 cents at most)');
  });

  test('eligibility still being assessed is distinguished from an assessed one', () => {
    expect(refusalReason(start(), oneOfEach.ASSIGN_BODY)).toMatch(/eligibility is still being assessed/);
  });

  test('funding above the admitted amount says both amounts', () => {
    expect(refusalReason(walk(toAdmitted), fund(grantCents + 1))).toBe(
      `RECORD_FUNDING refused in admitted: funding of ${grantCents + 1} cents exceeds the admitted amount of ${grantCents} cents`,
    );
  });

  test('an accepted event has no refusal', () => {
    expect(refusalReason(walk(toAdmitted), fund(grantCents))).toBeNull();
  });
});

describe('allowedCommands', () => {
  test.each<[string, ApplicationEvent[], string[]]>([
    ['submitted, eligibility pending', [], ['WITHDRAW']],
    ['submitted, eligible', [oneOfEach.CONFIRM_ELIGIBILITY], ['ASSIGN_BODY', 'WITHDRAW']],
    ['accompaniment without hours', toAccompaniment, ['LOG_SESSION', 'CONFIRM_SESSION', 'ATTACH_DOCUMENT', 'WITHDRAW']],
    [
      'accompaniment with hours',
      [...toAccompaniment, hours(480)],
      ['LOG_SESSION', 'CONFIRM_SESSION', 'ATTACH_DOCUMENT', 'COMPLETE_ACCOMPANIMENT', 'WITHDRAW'],
    ],
    ['pre_project without a pre-project', toPreProject, ['ATTACH_DOCUMENT', 'SUBMIT_PRE_PROJECT', 'WITHDRAW']],
    [
      'pre_project with a pre-project',
      [...toPreProject, submit()],
      ['ATTACH_DOCUMENT', 'SUBMIT_PRE_PROJECT', 'FORWARD_TO_COMMISSION', 'WITHDRAW'],
    ],
    [
      'commission',
      toCommission,
      ['APPROVE', 'DECLARE_CONFLICT', 'REJECT', 'REQUEST_INTEGRATION', 'SUBMIT_EVALUATION', 'WITHDRAW'],
    ],
    ['admitted', toAdmitted, ['ATTACH_DOCUMENT', 'RECORD_FUNDING', 'WITHDRAW']],
  ])('%s', (_, events, expected) => {
    expect([...allowedCommands(walk(events))].sort()).toEqual([...expected].sort());
  });
});

describe('deadlineAfter', () => {
  const now = Date.parse('2024-01-01T00:00:00.000Z');
  const running: Deadline = { kind: 'accompaniment', dueAt: '2024-04-30T00:00:00.000Z' };
  const after = (from: ApplicationState, to: ApplicationState, budget: 'none' | 'reserved' | 'waiting' = 'reserved') =>
    deadlineAfter(from, to, running, rules2023.deadlines, now, { budget });

  // Expected dates written out by hand (2024 is a leap year) so the test does not repeat the arithmetic.
  test.each<[ApplicationState, ApplicationState, Deadline]>([
    ['submitted', 'accompaniment', { kind: 'accompaniment', dueAt: '2024-04-30T00:00:00.000Z' }],
    ['commission', 'pre_project', { kind: 'integration_answer', dueAt: '2024-01-31T00:00:00.000Z' }],
    ['pre_project', 'commission', { kind: 'commission_decision', dueAt: '2024-03-01T00:00:00.000Z' }],
    ['commission', 'admitted', { kind: 'funding', dueAt: '2024-06-29T00:00:00.000Z' }],
  ])('%s -> %s starts a new deadline', (from, to, expected) => {
    expect(after(from, to)).toEqual(expected);
  });

  test('an admission waiting in the reserve list has no disbursement deadline until its money is reserved', () => {
    expect(after('commission', 'admitted', 'waiting')).toBeNull();
    expect(deadlineAfter('admitted', 'admitted', null, rules2023.deadlines, now, { budget: 'reserved' })).toEqual({
      kind: 'funding',
      dueAt: '2024-06-29T00:00:00.000Z',
    });
    expect(deadlineAfter('admitted', 'admitted', null, rules2023.deadlines, now, { budget: 'waiting' })).toBeNull();
  });

  test('the pre-project is due within the accompaniment deadline, not a new one', () => {
    expect(after('accompaniment', 'pre_project')).toBe(running);
  });

  test('a step that stays in the same state does not restart the clock', () => {
    expect(after('accompaniment', 'accompaniment')).toBe(running);
  });

  test.each(FINAL_STATES)('nothing is due once %s', (to) => {
    expect(after('admitted', to)).toBeNull();
  });
});

describe('mermaidDiagram', () => {
  const diagram = mermaidDiagram();

  test.each(APPLICATION_STATES)('shows %s', (state) => {
    expect(diagram).toMatch(new RegExp(`^\\s*(${state} --> |.* --> ${state}\\b)`, 'm'));
  });

  test('shows the guarded and the backward edges', () => {
    expect(diagram).toContain('[*] --> submitted');
    expect(diagram).toContain('commission --> pre_project: REQUEST_INTEGRATION');
    expect(diagram).toContain('accompaniment --> pre_project: COMPLETE_ACCOMPANIMENT [hasMinimumHours]');
  });

  test.each(OPEN_STATES)('%s can be withdrawn or lapse', (state) => {
    expect(diagram).toContain(`${state} --> withdrawn: WITHDRAW`);
    expect(diagram).toContain(`${state} --> lapsed: LAPSE`);
  });

  test.each(FINAL_STATES)('%s is an end and has no way out', (state) => {
    expect(diagram).toContain(`${state} --> [*]`);
    expect(diagram).not.toMatch(new RegExp(`^\\s*${state} --> \\w`, 'm'));
  });
});

describe('the commission decides by quorum', () => {
  const declare = (member: string, conflicted = false): ApplicationEvent => ({
    type: 'DECLARE_CONFLICT',
    member,
    conflicted,
  });
  const evaluate = (
    member: string,
    recommendation: 'approve' | 'reject' | 'request_integration',
    points = 20,
  ): ApplicationEvent => ({
    type: 'SUBMIT_EVALUATION',
    member,
    scores: { social_impact: points * 2, innovation: points, feasibility: points, territory: Math.min(points, 15) },
    recommendation,
    motivation: `${member} says ${recommendation}`,
  });
  const panel = (votes: ('approve' | 'reject' | 'request_integration')[], points?: number) =>
    walk([...toCommission, ...votes.flatMap((v, i) => [declare(`m${i}`), evaluate(`m${i}`, v, points)])]);

  test('two evaluations wait for the third; the majority of three decides', () => {
    const two = walk([
      ...toCommission,
      declare('m0'),
      evaluate('m0', 'approve'),
      declare('m1'),
      evaluate('m1', 'reject'),
    ]);
    expect(stateOf(two)).toBe('commission');
    const decided = send(two, declare('m2'));
    expect(stateOf(send(decided, evaluate('m2', 'approve')))).toBe('admitted');
    expect(stateOf(send(decided, evaluate('m2', 'reject')))).toBe('rejected');
  });

  test('the approval carries the tally as motivation and reserves the admitted amount', () => {
    const [admitted, actions] = transition(
      applicationMachine,
      walk([
        ...toCommission,
        declare('m0'),
        evaluate('m0', 'approve'),
        declare('m1'),
        evaluate('m1', 'approve'),
        declare('m2'),
      ]),
      evaluate('m2', 'reject'),
    );
    expect(stateOf(admitted)).toBe('admitted');
    expect(admitted.context.motivation).toMatch(/quorum: 3 evaluations \(approve 2, reject 1, integration 0\)/);
    expect(admitted.context.admittedCents).toBe(grantCents);
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'reserveBudget', params: { amountCents: grantCents } }),
    );
  });

  test('a three-way tie asks for integration; an approval below the minimum score is a rejection', () => {
    expect(stateOf(panel(['approve', 'reject', 'request_integration']))).toBe('pre_project');
    // 20+10+10+10 = 50 of 100: below the 2023 rules' 60%.
    const low = panel(['approve', 'approve', 'approve'], 10);
    expect([stateOf(low), low.context.motivation]).toEqual([
      'rejected',
      expect.stringMatching(/below the minimum score of 60/),
    ]);
  });

  test('a conflicted member cannot evaluate, an undeclared one must declare first, nobody evaluates twice', () => {
    const s = walk([...toCommission, declare('m0', true)]);
    expect(refusalReason(s, evaluate('m0', 'approve'))).toMatch(/m0 declared a conflict of interest/);
    expect(refusalReason(s, evaluate('m9', 'approve'))).toMatch(/m9 must first declare/);
    const once = walk([...toCommission, declare('m1'), evaluate('m1', 'approve')]);
    expect(refusalReason(once, evaluate('m1', 'reject'))).toMatch(/already evaluated pre-project v1/);
    expect(refusalReason(once, declare('m1', true))).toMatch(/already evaluated/);
  });

  test('scores must cover exactly the configured criteria within their maximum', () => {
    const s = walk([...toCommission, declare('m0')]);
    const bad: ApplicationEvent = {
      type: 'SUBMIT_EVALUATION',
      member: 'm0',
      scores: { social_impact: 41, style: 3 },
      recommendation: 'approve',
      motivation: 'x',
    };
    expect(refusalReason(s, bad)).toMatch(
      /missing scores for innovation, feasibility, territory; unknown criteria style; social_impact above 40/,
    );
  });

  test('after an integration request the new version needs a fresh quorum', () => {
    const back = panel(['approve', 'reject', 'request_integration']);
    const resubmitted = send(send(back, submit({ title: 'v2' })), { type: 'FORWARD_TO_COMMISSION' });
    expect(stateOf(resubmitted)).toBe('commission');
    expect(refusalReason(resubmitted, evaluate('m0', 'approve'))).toBeNull();
    expect(stateOf(send(resubmitted, evaluate('m0', 'approve')))).toBe('commission');
  });
});
