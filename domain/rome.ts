/** The programme runs on Italian time: calendar days and clock times are Rome's. No Node built-ins. */
const ROME = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** The calendar date (YYYY-MM-DD) and the time (HH:MM) in Rome at `at`. */
export function romeClock(at: Date): { today: string; nowTime: string } {
  const p = Object.fromEntries(ROME.formatToParts(at).map((part) => [part.type, part.value]));
  return { today: `${p.year}-${p.month}-${p.day}`, nowTime: `${p.hour}:${p.minute}` };
}

export const romeToday = (at: Date) => romeClock(at).today;
