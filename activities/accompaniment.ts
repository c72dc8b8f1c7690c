import { verifyHours, type HoursVerdict } from '../domain/hours';
import type { SessionInput } from '../machines/events';
import type { Db } from '../db/connect';
import { consultantSessionsElsewhere, insertSession, sessionsOf } from '../db/repositories/sessions';

const ROME = 'Europe/Rome';
const MAX_COUNTED_MINUTES_PER_DAY = 8 * 60;

/** Calendar date and HH:MM in Italian time: sessions are logged in local time. */
function romeNow(now: Date) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: ROME, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return { today: `${parts.year}-${parts.month}-${parts.day}`, nowTime: `${parts.hour}:${parts.minute}` };
}

export function accompanimentActivities(deps: { db: Db; now?: () => Date }) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    async recordSession(input: { applicationId: string; session: SessionInput & { consultant: string } }): Promise<{ sessionId: string }> {
      const s = input.session;
      const sessionId = await insertSession(db, {
        application_id: input.applicationId,
        consultant: s.consultant,
        session_date: s.date,
        starts_at: s.start,
        ends_at: s.end,
        topic: s.topic,
      });
      return { sessionId };
    },

    /** Recomputes verified hours from what Postgres holds; pure of side effects, so retries are free. */
    async verifyAccompanimentHours(input: { applicationId: string; assignedAt: string | null }): Promise<HoursVerdict> {
      const own = await sessionsOf(db, input.applicationId);
      const elsewhere = await consultantSessionsElsewhere(
        db,
        input.applicationId,
        [...new Set(own.map((s) => s.consultant))],
        [...new Set(own.map((s) => s.date))],
      );
      const clock = romeNow(now());
      const assignedOn = input.assignedAt ? romeNow(new Date(input.assignedAt)).today : null;
      return verifyHours(own, elsewhere, { ...clock, assignedOn }, { maxCountedMinutesPerDay: MAX_COUNTED_MINUTES_PER_DAY });
    },
  };
}
