import { initialTransition, transition } from 'xstate';
import { machineRules, projectRulesOf } from '../../domain/machine-rules';
import {
  APPLICATION_STATES,
  FINAL_STATES,
  applicationMachine,
  type ApplicationMachineInput,
  type ApplicationState,
} from '../../machines/application.machine';
import { deadlineAfter, type Deadline } from '../../machines/deadlines';
import { mermaidDiagram } from '../../machines/diagram';
import {
  applicationEffects,
  effectsOf,
  type ApplicationEffects,
  type Effect,
  type EffectName,
} from '../../machines/effects';
import type { ApplicationEvent, CommandOf } from '../../machines/events';
import { allowedCommands, refusalReason, stateOf, type ApplicationSnapshot } from '../../machines/explain';
import { factsOf } from '../../machines/view';
import { oneCommandOfEach, preProject, rules2023, storedDocument, type PreProjectOverrides } from '../support/fixtures';
import { PEOPLE } from '../support/people';

const SUBMITTED_ON = '2024-03-01';
const input: ApplicationMachineInput = {
  applicationId: 'app-test',
  callId: rules2023.callId,
  rulesVersion: rules2023.version,
  rules: machineRules(rules2023),
  themes: [],
  deMinimisRoomCents: rules2023.deMinimis.ceilingCents,
  sizeClass: 'small',
  submittedOn: SUBMITTED_ON,
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

const chair = PEOPLE.chair.actor;
const pdf = storedDocument();
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

const assign = (effectiveOn: string): CommandOf<'ASSIGN_BODY'> => ({
  type: 'ASSIGN_BODY',
  implementingBody: 'socialfare',
  consultantId: PEOPLE.consultant.actor,
  effectiveOn,
});
const toAccompaniment: ApplicationEvent[] = [{ type: 'CONFIRM_ELIGIBILITY' }, assign(SUBMITTED_ON)];
const toPreProject = [...toAccompaniment, hours(480), { type: 'COMPLETE_ACCOMPANIMENT' } as const];
const toCommission = [...toPreProject, submit(), { type: 'FORWARD_TO_COMMISSION' } as const];
const reserved: ApplicationEvent = { type: 'RECORD_BUDGET', status: 'reserved', position: null };
const toAdmitted = [
  ...toCommission,
  { type: 'APPROVE', motivation: 'solid social impact plan', chair } as const,
  reserved,
];

const pathTo: Record<ApplicationState, ApplicationEvent[]> = {
  submitted: [],
  accompaniment: toAccompaniment,
  pre_project: toPreProject,
  commission: toCommission,
  admitted: toAdmitted,
  rejected: [...toCommission, { type: 'REJECT', motivation: 'impact not measurable', chair }],
  funded: [...toAdmitted, fund(grantCents)],
  withdrawn: [{ type: 'WITHDRAW', reason: 'the company renounces' }],
  lapsed: [{ type: 'LAPSE', deadline: 'accompaniment', dueAt: '2024-05-01T00:00:00.000Z' }],
};

const OPEN_STATES = APPLICATION_STATES.filter((s) => !FINAL_STATES.includes(s));

// One event of every type, so "no event" below really means every event the machine knows.
const oneOfEach: { [K in ApplicationEvent['type']]: Extract<ApplicationEvent, { type: K }> } = {
  ...oneCommandOfEach,
  CONFIRM_ELIGIBILITY: { type: 'CONFIRM_ELIGIBILITY' },
  REJECT_INELIGIBLE: {
    type: 'REJECT_INELIGIBLE',
    reasons: [{ code: 'not_sme', field: 'company.headcount', message: 'too big' }],
  },
  RECORD_VERIFIED_HOURS: { type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: 600, discarded: [] },
  LAPSE: { type: 'LAPSE', deadline: 'funding', dueAt: '2024-12-01T00:00:00.000Z' },
  RECORD_BUDGET: { type: 'RECORD_BUDGET', status: 'waiting', position: 3 },
};
const everyEvent = Object.values(oneOfEach) as ApplicationEvent[];

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

  test('the state lists are derived from the machine, in its order, and name the four ends', () => {
    expect(APPLICATION_STATES).toEqual(Object.keys(applicationMachine.config.states ?? {}));
    expect(APPLICATION_STATES).toEqual([
      'submitted',
      'accompaniment',
      'pre_project',
      'commission',
      'admitted',
      'rejected',
      'funded',
      'withdrawn',
      'lapsed',
    ]);
    expect(FINAL_STATES).toEqual(['rejected', 'funded', 'withdrawn', 'lapsed']);
  });

  test.each(APPLICATION_STATES)('%s is reachable', (state) => {
    expect(stateOf(walk(pathTo[state]))).toBe(state);
  });

  test('an ineligible company is rejected straight from submitted, with its reasons kept', () => {
    const s = walk([oneOfEach.REJECT_INELIGIBLE]);
    expect(stateOf(s)).toBe('rejected');
    expect(s.context.eligibility).toBe('ineligible');
    // The codes only: the wording may quote the company's figures, and stays in PostgreSQL.
    expect(s.context.ineligibilityReasons).toEqual(['not_sme']);
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
    const sentBack = send(walk(pathTo.commission), {
      type: 'REQUEST_INTEGRATION',
      motivation: 'baseline missing',
      chair,
    });
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

  describe('isAssignmentEffective: an assignment takes effect on or after the day of submission', () => {
    const eligible = () => walk([oneOfEach.CONFIRM_ELIGIBILITY]);

    test.each([
      ['the day of submission', SUBMITTED_ON, 'accompaniment'],
      ['a later day', '2024-03-20', 'accompaniment'],
      ['the day before', '2024-02-29', 'submitted'],
      ['a year before', '2023-03-01', 'submitted'],
    ] as const)('effective on %s (%s) -> %s', (_, effectiveOn, expected) => {
      const s = send(eligible(), assign(effectiveOn));
      expect(stateOf(s)).toBe(expected);
      expect(s.context.assignedOn).toBe(expected === 'accompaniment' ? effectiveOn : null);
    });

    test('the refusal names both days', () => {
      expect(refusalReason(eligible(), assign('2024-02-29'))).toBe(
        'ASSIGN_BODY refused in submitted: the assignment cannot take effect on 2024-02-29, ' +
          `before the application was submitted on ${SUBMITTED_ON}`,
      );
    });

    test('a refused assignment asks for no effect', () => {
      expect(transition(applicationMachine, eligible(), assign('2024-02-29'))[1]).toEqual([]);
    });
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
    // 19,541 cents: the present value at 3% of the interest saved by 3 points off a 6% loan
    // (tests/unit/subsidy.test.ts).
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
    const back = send(walk(toCommission), {
      type: 'REQUEST_INTEGRATION',
      motivation: 'quantify the jobs created',
      chair,
    });
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
  // The step performs these; if the machine stops handing them back, sessions and documents are lost.
  test('LOG_SESSION counts the session and asks for it to be stored', () => {
    const [next, actions] = transition(applicationMachine, walk(toAccompaniment), oneOfEach.LOG_SESSION);
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'storeSession', params: oneOfEach.LOG_SESSION.session }),
    );
    expect(next.context.sessionsLogged).toBe(1);
  });

  test.each(['accompaniment', 'pre_project', 'commission', 'admitted'] as const)(
    'ATTACH_DOCUMENT in %s remembers the stored reference and asks for it to be attached',
    (state) => {
      const [next, actions] = transition(applicationMachine, walk(pathTo[state]), oneOfEach.ATTACH_DOCUMENT);
      expect(actions).toContainEqual(expect.objectContaining({ type: 'attachDocument', params: pdf }));
      expect(next.context.documents).toEqual([pdf]);
    },
  );

  test('a document is remembered once, even if attached twice; another one is added', () => {
    const once = send(walk(toAccompaniment), oneOfEach.ATTACH_DOCUMENT);
    expect(send(once, oneOfEach.ATTACH_DOCUMENT).context.documents).toEqual([pdf]);
    const other = storedDocument({ documentId: '0d0c0000-0000-4000-8000-000000000002', kind: 'attachment' });
    expect(send(once, { type: 'ATTACH_DOCUMENT', document: other }).context.documents).toEqual([pdf, other]);
  });

  test('ASSIGN_BODY asks for the consultant to be bound to the registered body, from the effective day', () => {
    const [next, actions] = transition(
      applicationMachine,
      walk([{ type: 'CONFIRM_ELIGIBILITY' }]),
      oneOfEach.ASSIGN_BODY,
    );
    const { implementingBody, consultantId, effectiveOn } = oneOfEach.ASSIGN_BODY;
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'assignConsultant', params: { implementingBody, consultantId, effectiveOn } }),
    );
    expect(next.context).toMatchObject({ implementingBody, consultantId, assignedOn: effectiveOn });
  });

  test('CONFIRM_SESSION asks for the code to be checked', () => {
    const [next, actions] = transition(applicationMachine, walk(toAccompaniment), oneOfEach.CONFIRM_SESSION);
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: 'confirmSession',
        params: { date: '2024-03-05', start: '09:00', code: '123456' },
      }),
    );
    expect(next.context).toEqual(walk(toAccompaniment).context);
  });

  test('a confirmation or a dispute by link carries the link, not a code', () => {
    const { date, start, link } = oneOfEach.DISPUTE_SESSION;
    const byLink = transition(applicationMachine, walk(toAccompaniment), {
      type: 'CONFIRM_SESSION',
      date,
      start,
      link,
    });
    expect(byLink[1]).toContainEqual(
      expect.objectContaining({ type: 'confirmSession', params: { date, start, link } }),
    );
    const [next, actions] = transition(applicationMachine, walk(toAccompaniment), oneOfEach.DISPUTE_SESSION);
    expect(actions).toContainEqual(expect.objectContaining({ type: 'disputeSession', params: { date, start, link } }));
    expect(next.context).toEqual(walk(toAccompaniment).context);
  });

  test('RESEND_SESSION_CODE asks for a new code for that session and changes nothing else', () => {
    const [next, actions] = transition(applicationMachine, walk(toAccompaniment), oneOfEach.RESEND_SESSION_CODE);
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'resendSessionCode', params: { date: '2024-03-05', start: '09:00' } }),
    );
    expect(next.context).toEqual(walk(toAccompaniment).context);
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

  test('no effect is asked for where the event is not accepted', () => {
    expect(transition(applicationMachine, walk(toPreProject), oneOfEach.LOG_SESSION)[1]).toEqual([]);
    expect(transition(applicationMachine, walk([oneOfEach.CONFIRM_ELIGIBILITY]), oneOfEach.ATTACH_DOCUMENT)[1]).toEqual(
      [],
    );
    expect(transition(applicationMachine, walk(toPreProject), oneOfEach.RESEND_SESSION_CODE)[1]).toEqual([]);
  });
});

describe('session answers and new codes', () => {
  const answers = [oneOfEach.CONFIRM_SESSION, oneOfEach.DISPUTE_SESSION, oneOfEach.RESEND_SESSION_CODE];

  test('are possible in accompaniment', () => {
    const s = walk(toAccompaniment);
    expect(allowedCommands(s)).toEqual(expect.arrayContaining(answers.map((e) => e.type)));
    for (const event of answers) expect(refusalReason(s, event)).toBeNull();
  });

  test.each(OPEN_STATES.filter((s) => s !== 'accompaniment'))('are not possible in %s', (state) => {
    const s = walk(pathTo[state]);
    for (const event of answers) {
      expect(allowedCommands(s)).not.toContain(event.type);
      expect(refusalReason(s, event)).toMatch(`${event.type} is not possible while the application is in ${state}`);
      expect(transition(applicationMachine, s, event)[1]).toEqual([]);
    }
  });
});

/** The project a funding opens: the admitted version, its money and the rules it was pinned to. */
function fundedProject() {
  const admitted = walk(toAdmitted).context;
  return {
    applicationId: admitted.applicationId,
    callId: admitted.callId,
    rulesVersion: admitted.rulesVersion,
    rules: projectRulesOf(admitted.rules),
    preProject: preProject(),
    preProjectVersion: 1,
    admittedGrantCents: grantCents,
    admittedSubsidyCents: admitted.subsidyCents,
    disbursedCents: grantCents,
    disbursedOn: '2024-06-01',
  };
}

describe('effectsOf', () => {
  // One case per declared effect, typed by its declaration: an effect added to machines/effects.ts must be added
  // here (the record is exhaustive), and its params must have the declared type.
  const cases: { [K in EffectName]: [ApplicationEvent[], ApplicationEvent, ApplicationEffects[K]] } = {
    assignConsultant: [
      [oneOfEach.CONFIRM_ELIGIBILITY],
      oneOfEach.ASSIGN_BODY,
      { implementingBody: 'i3p', consultantId: PEOPLE.consultant.actor, effectiveOn: '2024-03-01' },
    ],
    storeSession: [toAccompaniment, oneOfEach.LOG_SESSION, oneOfEach.LOG_SESSION.session],
    confirmSession: [
      toAccompaniment,
      oneOfEach.CONFIRM_SESSION,
      { date: '2024-03-05', start: '09:00', code: '123456' },
    ],
    disputeSession: [
      toAccompaniment,
      oneOfEach.DISPUTE_SESSION,
      { date: '2024-03-05', start: '09:00', link: oneOfEach.DISPUTE_SESSION.link! },
    ],
    resendSessionCode: [toAccompaniment, oneOfEach.RESEND_SESSION_CODE, { date: '2024-03-05', start: '09:00' }],
    attachDocument: [toPreProject, oneOfEach.ATTACH_DOCUMENT, pdf],
    storePreProject: [toPreProject, submit(), { version: 1, preProject: preProject() }],
    freezePreProject: [[...toPreProject, submit()], oneOfEach.FORWARD_TO_COMMISSION, { version: 1 }],
    reserveBudget: [toCommission, oneOfEach.APPROVE, { amountCents: grantCents }],
    releaseBudget: [toAdmitted, oneOfEach.WITHDRAW, { reason: 'withdrawn: changed mind' }],
    settleBudget: [toAdmitted, fund(grantCents), { finalAmountCents: grantCents }],
    openProject: [toAdmitted, fund(grantCents), fundedProject()],
  };

  test('every declared effect has a case here', () => {
    expect(Object.keys(cases).sort()).toEqual(Object.keys(applicationEffects).sort());
  });

  test.each(Object.entries(cases))('%s: exactly that effect, with its params', (type, [path, event, params]) => {
    const [, actions] = transition(applicationMachine, walk(path), event);
    expect(effectsOf(actions).filter((e) => e.type === type)).toEqual([{ type, params }]);
  });

  test('funding asks for exactly the settlement and the project, nothing else', () => {
    const [, actions] = transition(applicationMachine, walk(toAdmitted), fund(grantCents));
    expect(effectsOf(actions).map((e) => e.type)).toEqual(['settleBudget', 'openProject']);
  });

  test('assignments are not effects; names that are not declared effects are dropped', () => {
    expect(effectsOf(transition(applicationMachine, start(), oneOfEach.CONFIRM_ELIGIBILITY)[1])).toEqual([]);
    expect(effectsOf(transition(applicationMachine, walk(toAccompaniment), hours(480))[1])).toEqual([]);
    const mixed = [
      { type: 'xstate.assign' },
      { type: 'rememberDocument' },
      { type: 'reserveBudget', params: { amountCents: 5 } },
      { type: 'toString', params: 'inherited, not declared' },
    ];
    expect(effectsOf(mixed)).toEqual([{ type: 'reserveBudget', params: { amountCents: 5 } }]);
  });

  test('a quorum decision that admits asks for the reservation and nothing else', () => {
    const third = walk([
      ...toCommission,
      ...['m0', 'm1'].flatMap((m) => [declare(m), evaluate(m, 'approve')]),
      declare('m2'),
    ]);
    const [decided, actions] = transition(applicationMachine, third, evaluate('m2', 'approve'));
    expect(stateOf(decided)).toBe('admitted');
    expect(effectsOf(actions)).toEqual([{ type: 'reserveBudget', params: { amountCents: grantCents } }]);
  });
});

// The params' types come from the declaration: a change there that the handlers do not follow fails to compile.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const _reserveParams: Equal<Extract<Effect, { type: 'reserveBudget' }>['params'], { amountCents: number }> = true;
const _attachParams: Equal<ApplicationEffects['attachDocument'], typeof pdf> = true;

describe('refusalReason', () => {
  test('an event the state does not handle names the state and what is possible', () => {
    expect(refusalReason(walk(toAccompaniment), oneOfEach.APPROVE)).toBe(
      'APPROVE is not possible while the application is in accompaniment; possible now: ' +
        'LOG_SESSION, CONFIRM_SESSION, DISPUTE_SESSION, RESEND_SESSION_CODE, ATTACH_DOCUMENT, WITHDRAW',
    );
  });

  test('missing hours are stated in hours, against the rule', () => {
    const reason = refusalReason(walk([...toAccompaniment, hours(450)]), oneOfEach.COMPLETE_ACCOMPANIMENT);
    expect(reason).toBe(
      'COMPLETE_ACCOMPANIMENT refused in accompaniment: ' +
        'verified accompaniment hours are 7.50 h, the rules require at least 8 h',
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

  test('a composite guard (and) gives the reason of each of its guards that refuses, and only those', () => {
    const early = assign('2024-02-29');
    const notYet = 'eligibility is still being assessed';
    const tooEarly =
      'the assignment cannot take effect on 2024-02-29, ' + `before the application was submitted on ${SUBMITTED_ON}`;
    expect(refusalReason(start(), early)).toBe(`ASSIGN_BODY refused in submitted: ${notYet}; ${tooEarly}`);
    expect(refusalReason(start(), assign(SUBMITTED_ON))).toBe(`ASSIGN_BODY refused in submitted: ${notYet}`);
    expect(refusalReason(walk([oneOfEach.CONFIRM_ELIGIBILITY]), early)).toBe(
      `ASSIGN_BODY refused in submitted: ${tooEarly}`,
    );
    const ineligible = walk([oneOfEach.REJECT_INELIGIBLE]);
    expect(refusalReason(ineligible, early)).toMatch(/a final state/);
  });

  test('funding above the admitted amount says both amounts', () => {
    expect(refusalReason(walk(toAdmitted), fund(grantCents + 1))).toBe(
      `RECORD_FUNDING refused in admitted: funding of ${grantCents + 1} cents ` +
        `exceeds the admitted amount of ${grantCents} cents`,
    );
  });

  test('an accepted event has no refusal', () => {
    expect(refusalReason(walk(toAdmitted), fund(grantCents))).toBeNull();
  });
});

describe('allowedCommands', () => {
  const sessions = ['LOG_SESSION', 'CONFIRM_SESSION', 'DISPUTE_SESSION', 'RESEND_SESSION_CODE'];
  test.each<[string, ApplicationEvent[], string[]]>([
    ['submitted, eligibility pending', [], ['WITHDRAW']],
    ['submitted, eligible', [oneOfEach.CONFIRM_ELIGIBILITY], ['ASSIGN_BODY', 'WITHDRAW']],
    ['accompaniment without hours', toAccompaniment, [...sessions, 'ATTACH_DOCUMENT', 'WITHDRAW']],
    [
      'accompaniment with hours',
      [...toAccompaniment, hours(480)],
      [...sessions, 'ATTACH_DOCUMENT', 'COMPLETE_ACCOMPANIMENT', 'WITHDRAW'],
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
      [
        'APPROVE',
        'ATTACH_DOCUMENT',
        'DECLARE_CONFLICT',
        'REJECT',
        'REQUEST_INTEGRATION',
        'SUBMIT_EVALUATION',
        'WITHDRAW',
      ],
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
    deadlineAfter(from, to, running, rules2023.deadlines, now, { budget, assignedOn: null });

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
    const at = (budget: 'reserved' | 'waiting') =>
      deadlineAfter('admitted', 'admitted', null, rules2023.deadlines, now, { budget, assignedOn: '2023-10-01' });
    expect(at('reserved')).toEqual({
      kind: 'funding',
      dueAt: '2024-06-29T00:00:00.000Z',
    });
    expect(at('waiting')).toBeNull();
  });

  test('an assignment recorded later counts from the day it took effect, at the hour it was recorded', () => {
    const later = Date.parse('2024-01-10T09:00:00.000Z');
    const from = (assignedOn: string | null) =>
      deadlineAfter('submitted', 'accompaniment', null, rules2023.deadlines, later, { budget: 'none', assignedOn });
    expect(from('2024-01-01')).toEqual({ kind: 'accompaniment', dueAt: '2024-04-30T09:00:00.000Z' });
    expect(from('2024-01-10')).toEqual({ kind: 'accompaniment', dueAt: '2024-05-09T09:00:00.000Z' });
    expect(from(null)).toEqual(from('2024-01-10'));
    // Never from a day still to come: the clock cannot start after the recording.
    expect(from('2024-01-20')).toEqual(from('2024-01-10'));
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
    expect(diagram).toContain('commission --> admitted: APPROVE [isDeciderFreeOfConflict]');
  });

  test('a composite guard shows every guard it combines', () => {
    expect(diagram).toContain(
      'submitted --> accompaniment: ASSIGN_BODY [isEligibilityConfirmed and isAssignmentEffective]',
    );
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
    expect(refusalReason(s, evaluate('m0', 'approve'))).toBe(
      'SUBMIT_EVALUATION refused in commission: ' +
        'you declared a conflict of interest on this application and cannot evaluate it',
    );
    expect(refusalReason(s, evaluate('m9', 'approve'))).toMatch(
      /declare first whether you have a conflict of interest on this application/,
    );
    const once = walk([...toCommission, declare('m1'), evaluate('m1', 'approve')]);
    expect(refusalReason(once, evaluate('m1', 'reject'))).toMatch(/you have already evaluated pre-project v1/);
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

describe('conflicts of interest', () => {
  const [m0, m1] = ['m0', 'm1'];

  test('a declared conflict is final: declaring none afterwards is refused, and the conflict stands', () => {
    const conflicted = walk([...toCommission, declare(m0, true)]);
    expect(refusalReason(conflicted, declare(m0, false))).toBe(
      'DECLARE_CONFLICT refused in commission: a declared conflict of interest is final',
    );
    const after = send(conflicted, declare(m0, false));
    expect(after.context.conflicts).toEqual({ [m0]: true });
    expect(refusalReason(after, evaluate(m0, 'approve'))).toMatch(/you declared a conflict of interest/);
  });

  test('"none" can become a conflict before evaluating; that member then cannot evaluate', () => {
    const none = walk([...toCommission, declare(m0, false)]);
    expect(refusalReason(none, declare(m0, true))).toBeNull();
    const conflicted = send(none, declare(m0, true));
    expect(conflicted.context.conflicts).toEqual({ [m0]: true });
    expect(refusalReason(conflicted, evaluate(m0, 'approve'))).toMatch(/cannot evaluate it/);
  });

  test('"none" stands once the member has evaluated', () => {
    const evaluated = walk([...toCommission, declare(m0, false), evaluate(m0, 'approve')]);
    expect(refusalReason(evaluated, declare(m0, true))).toBe(
      'DECLARE_CONFLICT refused in commission: you have already evaluated pre-project v1: the declaration stands',
    );
    expect(send(evaluated, declare(m0, true)).context.conflicts).toEqual({ [m0]: false });
  });

  test('a conflict declared on one version still bars the member from the next', () => {
    const back = walk([
      ...toCommission,
      declare(m1, true),
      { type: 'REQUEST_INTEGRATION', motivation: 'more detail', chair },
      submit({ title: 'v2' }),
      oneOfEach.FORWARD_TO_COMMISSION,
    ]);
    expect(stateOf(back)).toBe('commission');
    expect(refusalReason(back, declare(m1, false))).toMatch(/a declared conflict of interest is final/);
    expect(refusalReason(back, evaluate(m1, 'approve'))).toMatch(/cannot evaluate it/);
  });

  const decisions: ApplicationEvent[] = [
    { type: 'APPROVE', motivation: 'solid plan', chair },
    { type: 'REJECT', motivation: 'not measurable', chair },
    { type: 'REQUEST_INTEGRATION', motivation: 'more detail', chair },
  ];

  test.each(decisions.map((d) => [d.type, d] as const))(
    "a conflicted chair's %s is refused with the reason, and nothing happens",
    (type, decision) => {
      const conflicted = walk([...toCommission, declare(chair, true)]);
      expect(refusalReason(conflicted, decision)).toBe(
        `${type} refused in commission: you declared a conflict of interest on this application and cannot decide it`,
      );
      const [after, actions] = transition(applicationMachine, conflicted, decision);
      expect([stateOf(after), after.context]).toEqual(['commission', conflicted.context]);
      expect(actions).toEqual([]);
    },
  );

  test('a chair free of conflict decides (declared none, or nothing); a conflict of another does not bar them', () => {
    const declaredNone = walk([...toCommission, declare(chair, false), declare(m1, true)]);
    expect(stateOf(send(declaredNone, decisions[0]!))).toBe('admitted');
    expect(stateOf(send(walk(toCommission), decisions[1]!))).toBe('rejected');
    const other = { type: 'APPROVE', motivation: 'ok', chair: PEOPLE.members[2].actor } as const;
    expect(stateOf(send(walk([...toCommission, declare(chair, true)]), other))).toBe('admitted');
  });

  test('a decision recorded before decisions named their chair (first generation) still decides', () => {
    const legacy = { type: 'APPROVE', motivation: 'recorded in 2026' } as unknown as ApplicationEvent;
    expect(stateOf(send(walk([...toCommission, declare(chair, true)]), legacy))).toBe('admitted');
  });
});

describe('factsOf', () => {
  test('what people read: the context without the rules and ids, plus the derived figures', () => {
    const context = walk([...toCommission]).context;
    const facts = factsOf(context);
    const { rules: _r, applicationId: _a, callId: _c, rulesVersion: _v, ...rest } = context;
    expect(facts).toEqual({
      ...rest,
      verifiedHours: 8,
      requiredHours: 8,
      eligibleCostCents: 8_000_000,
      requestedCents: grantCents,
    });
  });

  test('no pre-project, no figures of one', () => {
    expect(factsOf(start().context)).toMatchObject({ verifiedHours: 0, eligibleCostCents: null, requestedCents: null });
  });
});
