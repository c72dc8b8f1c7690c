/** One logged session as the verifier sees it. Dates are calendar dates, times HH:MM[:SS], Italian local time. */
export interface LoggedSession {
  id: string;
  applicationId: string;
  consultant: string;
  date: string;
  start: string;
  end: string;
  /** Confirmed by the company with its single-use code; only confirmed sessions count. */
  confirmed: boolean;
  /** The company said it did not take place: it never counts, and can no longer be confirmed. */
  disputed?: boolean;
}

export interface HourRules {
  maxCountedMinutesPerDay: number;
}

export interface HoursVerdict {
  verifiedMinutes: number;
  counted: { sessionId: string; minutes: number }[];
  discarded: { sessionId: string; reason: string }[];
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};
const overlaps = (a: LoggedSession, b: LoggedSession) =>
  a.date === b.date && minutesOf(a.start) < minutesOf(b.end) && minutesOf(b.start) < minutesOf(a.end);
const label = (s: LoggedSession) => `${s.date} ${s.start.slice(0, 5)}-${s.end.slice(0, 5)}`;

/**
 * Which sessions of one application count towards the accompaniment, and why the others do not.
 * `own` are the application's sessions in the order they were logged; `sameConsultantElsewhere` are the
 * sessions its consultants logged on other applications. `today` and `assignedOn` are calendar dates and
 * `nowTime` the local time, all in Italian time.
 */
export function verifyHours(
  own: readonly LoggedSession[],
  sameConsultantElsewhere: readonly LoggedSession[],
  when: { today: string; nowTime: string; assignedOn: string | null },
  rules: HourRules,
): HoursVerdict {
  const verdict: HoursVerdict = { verifiedMinutes: 0, counted: [], discarded: [] };
  const accepted: LoggedSession[] = [];
  const perDay = new Map<string, number>();
  for (const s of own) {
    const discard = (reason: string) => verdict.discarded.push({ sessionId: s.id, reason: `${label(s)}: ${reason}` });
    if (!s.confirmed) {
      discard(s.disputed ? 'was disputed by the company' : 'is not yet confirmed by the company');
      continue;
    }
    if (s.date > when.today || (s.date === when.today && s.end.slice(0, 5) > when.nowTime)) {
      discard('is in the future');
      continue;
    }
    if (when.assignedOn && s.date < when.assignedOn) {
      discard(`is before the implementing body was assigned on ${when.assignedOn}`);
      continue;
    }
    const clash = accepted.find((o) => overlaps(o, s));
    if (clash) {
      discard(`overlaps the company's session ${label(clash)}`);
      continue;
    }
    const busy = sameConsultantElsewhere.find((o) => o.confirmed && o.consultant === s.consultant && overlaps(o, s));
    if (busy) {
      discard(`consultant ${s.consultant} was in another company's session ${label(busy)}`);
      continue;
    }
    accepted.push(s);
    const already = perDay.get(s.date) ?? 0;
    const length = minutesOf(s.end) - minutesOf(s.start);
    const minutes = Math.min(length, Math.max(0, rules.maxCountedMinutesPerDay - already));
    perDay.set(s.date, already + minutes);
    if (minutes < length) {
      verdict.discarded.push({
        sessionId: s.id,
        reason: `${label(s)}: only ${minutes} of ${length} minutes count, at most ${rules.maxCountedMinutesPerDay / 60} h a day`,
      });
    }
    if (minutes > 0) verdict.counted.push({ sessionId: s.id, minutes });
    verdict.verifiedMinutes += minutes;
  }
  return verdict;
}
