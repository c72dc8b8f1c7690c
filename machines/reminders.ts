import type { Deadline } from './deadlines';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Any deadline with a kind and an instant: the application's, or a funded project's (project.deadlines.ts). */
export interface DeadlineLike {
  kind: string;
  dueAt: string;
}

export interface Reminder<D extends DeadlineLike = Deadline> {
  deadline: D;
  daysBefore: number;
  at: number;
}

/** Stable identity of one reminder: the same deadline and distance never remind twice. */
export const reminderKey = (r: { deadline: DeadlineLike; daysBefore: number }) =>
  `${r.deadline.kind}:${r.deadline.dueAt}:${r.daysBefore}`;

/**
 * The next reminder still to send for a running deadline, or null. Reminders already due when the deadline
 * started (a deadline shorter than the reminder distance) are skipped, except the nearest one, sent at once.
 */
export function nextReminder<D extends DeadlineLike>(
  deadline: D | null,
  daysBefore: readonly number[],
  sent: ReadonlySet<string>,
  startedAt: number,
): Reminder<D> | null {
  if (!deadline) return null;
  const due = Date.parse(deadline.dueAt);
  const all = [...daysBefore]
    .sort((a, b) => b - a)
    .map((d) => ({ deadline, daysBefore: d, at: due - d * DAY_MS }))
    .filter((r) => r.at < due);
  // Of the reminders whose moment had already passed when the deadline started, only the nearest still makes sense.
  const overdue = all.filter((r) => r.at < startedAt);
  const nearestOverdue = overdue[overdue.length - 1];
  const catchUp = nearestOverdue && !sent.has(reminderKey(nearestOverdue)) ? [nearestOverdue] : [];
  const future = all.filter((r) => r.at >= startedAt && !sent.has(reminderKey(r)));
  return [...catchUp, ...future][0] ?? null;
}
