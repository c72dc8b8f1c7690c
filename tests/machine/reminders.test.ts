import type { Deadline } from '../../machines/deadlines';
import { nextReminder, reminderKey } from '../../machines/reminders';

const DAY = 86_400_000;
const start = Date.parse('2027-01-01T00:00:00.000Z');
const deadline: Deadline = { kind: 'commission_decision', dueAt: new Date(start + 60 * DAY).toISOString() };

describe('nextReminder', () => {
  test('reminders come furthest first, each once, and none after the last', () => {
    const sent = new Set<string>();
    const first = nextReminder(deadline, [3, 14], sent, start)!;
    expect([first.daysBefore, first.at]).toEqual([14, start + 46 * DAY]);
    sent.add(reminderKey(first));
    const second = nextReminder(deadline, [3, 14], sent, start)!;
    expect([second.daysBefore, second.at]).toEqual([3, start + 57 * DAY]);
    sent.add(reminderKey(second));
    expect(nextReminder(deadline, [3, 14], sent, start)).toBeNull();
  });

  test('a deadline shorter than a reminder distance sends only the nearest overdue one, at once', () => {
    const short: Deadline = { kind: 'integration_answer', dueAt: new Date(start + 10 * DAY).toISOString() };
    const r = nextReminder(short, [30, 14, 3], new Set(), start)!;
    expect([r.daysBefore, r.at < start]).toEqual([14, true]);
    expect(nextReminder(short, [30, 14, 3], new Set([reminderKey(r)]), start)?.daysBefore).toBe(3);
  });

  test('no deadline, no reminder; a new deadline has reminders of its own', () => {
    expect(nextReminder(null, [3], new Set(), start)).toBeNull();
    const sentForOld = new Set([reminderKey({ deadline, daysBefore: 3 })]);
    const renewed: Deadline = { ...deadline, dueAt: new Date(start + 90 * DAY).toISOString() };
    expect(nextReminder(renewed, [3], sentForOld, start)?.daysBefore).toBe(3);
  });
});
