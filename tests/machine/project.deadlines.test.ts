import { initialTransition, transition } from 'xstate';
import { projectRules, type PostAwardRules } from '../../domain/rules';
import { nextReminder, reminderKey } from '../../machines/reminders';
import {
  addDays,
  addMonths,
  daysBetween,
  deadlinePassesAt,
  eventOnExpiry,
  finalReportDueOn,
  observationsDueOn,
  projectDeadlineAfter,
  realisationEndsOn,
  reminderDaysBefore,
  type ProjectDeadline,
} from '../../machines/project.deadlines';
import { projectStateOf, type ProjectSnapshot } from '../../machines/project.explain';
import type { ProjectEvent } from '../../machines/project.events';
import { projectMachine, type ProjectContext, type ProjectState } from '../../machines/project.machine';
import { preProject, rules2023 } from '../support/fixtures';

const rules: PostAwardRules = projectRules(rules2023).postAward;
const context = (
  extensionMonths?: number,
  periodEndedOn: string | null = null,
): Pick<ProjectContext, 'disbursedOn' | 'extension' | 'intention'> => ({
  disbursedOn: '2024-06-01',
  extension: extensionMonths ? { months: extensionMonths, reason: 'late supplier' } : null,
  intention: {
    kind: 'revocation',
    cause: 'missing_report',
    from: 'final_report_due',
    reasons: [],
    recoveryCents: 1,
    observations: [],
    periodEndedOn,
  },
});
const deadline = (kind: ProjectDeadline['kind'], startsOn: string, dueOn: string): ProjectDeadline => ({
  kind,
  startsOn,
  dueOn,
  dueAt: `${addDays(dueOn, 1)}T00:00:00.000Z`,
});

describe('calendar arithmetic (art. 2963 of the civil code)', () => {
  test.each([
    ['2024-06-01', 12, '2025-06-01'],
    ['2024-01-31', 1, '2024-02-29'], // 2024 is a leap year: the month's last day
    ['2023-01-31', 1, '2023-02-28'],
    ['2024-08-31', 18, '2026-02-28'],
    ['2024-11-30', 3, '2025-02-28'],
    ['2024-12-15', 6, '2025-06-15'],
  ])('%s + %i months = %s', (from, months, expected) => {
    expect(addMonths(from, months)).toBe(expected);
  });

  test.each([
    ['2025-06-01', 60, '2025-07-31'], // June has 30 days: 29 to 30 June, 31 more to 31 July
    ['2025-12-01', 60, '2026-01-30'], // 30 to 31 December, 30 more into January
    ['2025-09-01', 10, '2025-09-11'],
    ['2024-02-20', 10, '2024-03-01'], // through 29 February
  ])('%s + %i days = %s', (from, days, expected) => {
    expect(addDays(from, days)).toBe(expected);
    expect(daysBetween(from, expected)).toBe(days);
  });

  test('the deadline passes when its last day is over', () => {
    expect(deadlinePassesAt('2025-07-31')).toBe('2025-08-01T00:00:00.000Z');
    expect(deadlinePassesAt('2024-12-31')).toBe('2025-01-01T00:00:00.000Z');
  });

  test.each(['2025-02-30', '2025-6-1', '01/06/2025', ''])('%p is not a date', (bad) => {
    expect(() => addDays(bad, 1)).toThrow(RangeError);
  });

  test('the programme defaults: 12 months, then 60 days, then 10 days for observations', () => {
    expect(realisationEndsOn('2024-06-01', rules)).toBe('2025-06-01');
    expect(realisationEndsOn('2024-06-01', rules, 6)).toBe('2025-12-01');
    expect(finalReportDueOn('2025-06-01', rules)).toBe('2025-07-31');
    expect(observationsDueOn('2025-09-01', rules)).toBe('2025-09-11');
  });
});

describe('projectDeadlineAfter', () => {
  const today = '2025-09-15';
  const after = (from: ProjectState, to: ProjectState, current: ProjectDeadline | null, c = context()) =>
    projectDeadlineAfter(from, to, current, c, rules, today);
  const realisation = deadline('realisation_end', '2024-06-01', '2025-06-01');

  test('a new project runs until the end of its realisation period', () => {
    expect(after('in_progress', 'in_progress', null)).toEqual(realisation);
  });

  test('an extension moves the end; anything else keeps the same deadline (and its timer)', () => {
    expect(after('in_progress', 'in_progress', realisation, context(6))).toEqual(
      deadline('realisation_end', '2024-06-01', '2025-12-01'),
    );
    expect(after('in_progress', 'in_progress', realisation)).toBe(realisation);
  });

  test('the final report is due 60 days after the realisation end, whenever the timer fired', () => {
    expect(after('in_progress', 'final_report_due', realisation)).toEqual(
      deadline('final_report', '2025-06-01', '2025-07-31'),
    );
    expect(after('in_progress', 'final_report_due', null, context(6))).toEqual(
      deadline('final_report', '2025-12-01', '2026-01-30'),
    );
  });

  test('back from a dropped revocation, a full final-report period counts from that day', () => {
    // 15 September + 60 days: 15 to 30 September, 31 in October, 14 into November.
    expect(after('revocation_intended', 'final_report_due', null)).toEqual(
      deadline('final_report', '2025-09-15', '2025-11-14'),
    );
  });

  test('a revocation dropped back into progress keeps the realisation end', () => {
    expect(after('revocation_intended', 'in_progress', null)).toEqual(realisation);
  });

  test.each<ProjectState>(['reduction_intended', 'revocation_intended'])(
    '%s: the observations period runs from the notice, and ends',
    (state) => {
      const observations = after('under_verification', state, null);
      expect(observations).toEqual(deadline('observations', '2025-09-15', '2025-09-25'));
      expect(after(state, state, observations)).toBe(observations);
      expect(after(state, state, observations, context(undefined, '2025-09-25'))).toBeNull();
    },
  );

  test.each<ProjectState>(['under_verification', 'closed', 'reduced', 'revoked', 'withdrawn', 'settled'])(
    'nothing is due from the company once %s',
    (to) => {
      expect(after('final_report_due', to, realisation)).toBeNull();
    },
  );
});

describe('reminders', () => {
  test('the rules distances that fit inside each deadline', () => {
    expect(reminderDaysBefore(deadline('realisation_end', '2024-06-01', '2025-06-01'), rules)).toEqual([30, 7]);
    expect(reminderDaysBefore(deadline('final_report', '2025-06-01', '2025-07-31'), rules)).toEqual([30, 7]);
    // 30 days before a 10-day period would arrive with the notice itself.
    expect(reminderDaysBefore(deadline('observations', '2025-09-15', '2025-09-25'), rules)).toEqual([7]);
  });

  test('the shared reminder scheduler takes a project deadline', () => {
    const d = deadline('final_report', '2025-06-01', '2025-07-31');
    const startedAt = Date.parse('2025-06-02T00:00:00.000Z');
    const first = nextReminder(d, reminderDaysBefore(d, rules), new Set(), startedAt);
    // 30 days before the instant the deadline passes (1 August 00:00 UTC): 2 July.
    expect(first).toEqual({ deadline: d, daysBefore: 30, at: Date.parse('2025-07-02T00:00:00.000Z') });
    const second = nextReminder(d, reminderDaysBefore(d, rules), new Set([reminderKey(first!)]), startedAt);
    expect(second?.daysBefore).toBe(7);
  });
});

describe('timers drive the machine', () => {
  const input = {
    applicationId: 'app-timers',
    callId: rules2023.callId,
    rulesVersion: rules2023.version,
    rules: projectRules(rules2023),
    preProject: preProject(),
    preProjectVersion: 1,
    admittedGrantCents: 4_000_000,
    admittedSubsidyCents: 0,
    disbursedCents: 4_000_000,
    disbursedOn: '2024-06-01',
  };

  /** What the workflow will do: after each step, work out the deadline; when it passes, raise its event. */
  function step(
    snapshot: ProjectSnapshot,
    event: ProjectEvent,
    current: ProjectDeadline | null,
    today: string,
  ): [ProjectSnapshot, ProjectDeadline | null] {
    const from = projectStateOf(snapshot);
    const next = transition(projectMachine, snapshot, event)[0];
    return [next, projectDeadlineAfter(from, projectStateOf(next), current, next.context, rules, today)];
  }

  test('nobody reports: realisation ends, the report deadline passes, the observations period ends', () => {
    let snapshot = initialTransition(projectMachine, input)[0];
    let d = projectDeadlineAfter('in_progress', 'in_progress', null, snapshot.context, rules, '2024-06-01');
    const seen: string[] = [];
    while (d) {
      seen.push(`${d.kind} ${d.dueOn}`);
      [snapshot, d] = step(snapshot, eventOnExpiry(d), d, addDays(d.dueOn, 1));
    }
    expect(seen).toEqual(['realisation_end 2025-06-01', 'final_report 2025-07-31', 'observations 2025-08-11']);
    expect(projectStateOf(snapshot)).toBe('revocation_intended');
    expect(snapshot.context.intention).toMatchObject({ cause: 'missing_report', periodEndedOn: '2025-08-11' });
    expect(snapshot.context.intention?.reasons).toEqual(['the final report, due by 2025-07-31, was not received']);
  });

  test.each<[ProjectDeadline['kind'], ProjectEvent]>([
    ['realisation_end', { type: 'END_REALISATION', endedOn: '2025-06-01' }],
    ['final_report', { type: 'EXPIRE_REPORT_DEADLINE', dueOn: '2025-06-01' }],
    ['observations', { type: 'END_OBSERVATION_PERIOD', endedOn: '2025-06-01' }],
  ])('a passed %s deadline raises %o', (kind, event) => {
    expect(eventOnExpiry(deadline(kind, '2025-01-01', '2025-06-01'))).toEqual(event);
  });
});
