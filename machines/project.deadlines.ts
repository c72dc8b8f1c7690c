import type { PostAwardRules } from '../domain/machine-rules';
import type { ProjectContext, ProjectState } from './project.machine';
import type { ProjectSystemEvent } from './project.events';

/**
 * The funded project's deadlines (DOMAIN.md, "After funding"), as calendar dates `YYYY-MM-DD`. Pure: no clock, the
 * caller says what today is. Timers live in the project's workflow; this only says what is due and when.
 *
 * Counting follows the Italian civil code (art. 2963): a term in days does not count the day it starts from (so it
 * ends on start + N); a term in months ends on the same day of the month, or on the month's last day when that day
 * does not exist (31 January + 1 month = 28 or 29 February).
 */

export type ProjectDeadlineKind = 'realisation_end' | 'final_report' | 'observations';

export interface ProjectDeadline {
  kind: ProjectDeadlineKind;
  /** The day the term started from: its length decides which reminders make sense. */
  startsOn: string;
  /** The last day on which the company is in time. */
  dueOn: string;
  /** The instant the deadline has passed: the end of `dueOn` (see `deadlinePassesAt`). */
  dueAt: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function utcMs(date: string): number {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== date) throw new RangeError(`no such day: ${date}`);
  return ms;
}

const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function addDays(date: string, days: number): string {
  return dateOf(utcMs(date) + days * DAY_MS);
}

export function addMonths(date: string, months: number): string {
  const start = new Date(utcMs(date));
  const monthIndex = start.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(start.getUTCFullYear(), monthIndex + 1, 0)).getUTCDate();
  return dateOf(Date.UTC(start.getUTCFullYear(), monthIndex, Math.min(start.getUTCDate(), lastDay)));
}

/** Whole days from one date to another (negative when `to` is earlier). */
export const daysBetween = (from: string, to: string) => Math.round((utcMs(to) - utcMs(from)) / DAY_MS);

/**
 * The deadline has passed once its last day is over, taken in UTC: in Italy that day ends one or two hours earlier,
 * a margin left to the company rather than computing summer time in workflow code.
 */
export const deadlinePassesAt = (dueOn: string) => `${addDays(dueOn, 1)}T00:00:00.000Z`;

/** The realisation period: months from the disbursement, plus the extension if one was granted. */
export const realisationEndsOn = (disbursedOn: string, rules: PostAwardRules, extensionMonths = 0) =>
  addMonths(disbursedOn, rules.realisationMonths + extensionMonths);

export const finalReportDueOn = (realisationEnd: string, rules: PostAwardRules) =>
  addDays(realisationEnd, rules.finalReportDays);

/** The company's observations on an intended reduction or revocation are due this many days after the notice. */
export const observationsDueOn = (notifiedOn: string, rules: PostAwardRules) =>
  addDays(notifiedOn, rules.observationDays);

const deadline = (kind: ProjectDeadlineKind, startsOn: string, dueOn: string): ProjectDeadline => ({
  kind,
  startsOn,
  dueOn,
  dueAt: deadlinePassesAt(dueOn),
});

/**
 * Which deadline runs after a transition: the same object when nothing changed (the workflow compares identities to
 * know whether to restart its timer), a new one when a term starts, null when nothing is due from the company.
 * - in progress: the realisation period's end, moved by an extension;
 * - final report due: N days after the realisation end; back from a dropped revocation, a full N days from the day
 *   it was dropped (the company was told its report was late or its project in doubt, and then it was not);
 * - reduction or revocation intended: the observations period from the notice (today), and nothing once it has ended;
 * - under verification and after a decision: nothing (the operators' side has no deadline in the rules).
 * A revocation dropped back into `in_progress` keeps the realisation end; if that passed meanwhile, the timer fires
 * at once and the final report's N days count from that end.
 */
export function projectDeadlineAfter(
  from: ProjectState,
  to: ProjectState,
  current: ProjectDeadline | null,
  context: Pick<ProjectContext, 'disbursedOn' | 'extension' | 'intention'>,
  rules: PostAwardRules,
  today: string,
): ProjectDeadline | null {
  const realisationEnd = () => realisationEndsOn(context.disbursedOn, rules, context.extension?.months ?? 0);
  switch (to) {
    case 'in_progress': {
      const dueOn = realisationEnd();
      return current?.kind === 'realisation_end' && current.dueOn === dueOn
        ? current
        : deadline('realisation_end', context.disbursedOn, dueOn);
    }
    case 'final_report_due': {
      if (from === to) return current;
      if (from === 'in_progress') {
        const end = realisationEnd();
        return deadline('final_report', end, finalReportDueOn(end, rules));
      }
      return deadline('final_report', today, addDays(today, rules.finalReportDays));
    }
    case 'reduction_intended':
    case 'revocation_intended':
      if (from === to) return context.intention?.periodEndedOn ? null : current;
      return deadline('observations', today, observationsDueOn(today, rules));
    default:
      return null;
  }
}

/**
 * The rules' reminder distances that fit inside this deadline: a reminder 30 days before a 10-day observations period
 * would arrive with the notice itself.
 */
export const reminderDaysBefore = (d: ProjectDeadline, rules: PostAwardRules): number[] =>
  rules.reminders.daysBefore.filter((days) => days < daysBetween(d.startsOn, d.dueOn));

/** The system event the workflow raises when a deadline passes. */
export function eventOnExpiry(d: ProjectDeadline): ProjectSystemEvent {
  switch (d.kind) {
    case 'realisation_end':
      return { type: 'END_REALISATION', endedOn: d.dueOn };
    case 'final_report':
      return { type: 'EXPIRE_REPORT_DEADLINE', dueOn: d.dueOn };
    case 'observations':
      return { type: 'END_OBSERVATION_PERIOD', endedOn: d.dueOn };
  }
}
