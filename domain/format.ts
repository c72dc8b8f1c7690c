/**
 * Money and dates as people read them, in the two languages the programme writes in; plus the plain machine
 * format of an amount (CSV). Imported by workflow code: no Node built-ins, and the Intl formatters are built on
 * first use, not at import.
 */

export const LOCALES = ['it', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export const isLocale = (value: unknown): value is Locale => (LOCALES as readonly unknown[]).includes(value);

// The programme's office is in Turin: a deadline at 23:30 UTC is already the next day there.
const ROME = 'Europe/Rome';
const formatters = new Map<string, Intl.DateTimeFormat>();
const formatter = (key: string, make: () => Intl.DateTimeFormat) => {
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = make()));
  return f;
};

/** A calendar date in Turin time: 24/03/2027 (it), 24 March 2027 (en). */
export function formatDate(date: Date, locale: Locale): string {
  return formatter(`date:${locale}`, () =>
    locale === 'it'
      ? new Intl.DateTimeFormat('it-IT', { timeZone: ROME, day: '2-digit', month: '2-digit', year: 'numeric' })
      : new Intl.DateTimeFormat('en-GB', { timeZone: ROME, day: 'numeric', month: 'long', year: 'numeric' }),
  ).format(date);
}

/** A date and a time of day in Turin time: 24/03/2027, 10:00 (it), 24 March 2027, 10:00 (en). */
export function formatDateTime(date: Date, locale: Locale): string {
  const time = formatter(
    'time',
    () => new Intl.DateTimeFormat('en-GB', { timeZone: ROME, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  ).format(date);
  return `${formatDate(date, locale)}, ${time}`;
}

/** A calendar day written YYYY-MM-DD (a session's date), the way `formatDate` writes dates. */
export function formatDay(day: string, locale: Locale): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new RangeError(`a calendar day must be written YYYY-MM-DD, got "${day}"`);
  // Noon UTC falls on the same calendar day in Turin, summer or winter.
  return formatDate(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12)), locale);
}

const wholeCents = (cents: number) => {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`an amount in cents must be a whole number, got ${cents}`);
};

/** Integer euro cents as 'EUR 40.000,00' (it) or 'EUR 40,000.00' (en); no floating point involved. */
export function formatEuro(cents: number, locale: Locale): string {
  wholeCents(cents);
  const [group, decimal] = locale === 'it' ? ['.', ','] : [',', '.'];
  const abs = Math.abs(cents);
  const euros = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `EUR ${cents < 0 ? '-' : ''}${euros}${decimal}${String(abs % 100).padStart(2, '0')}`;
}

/** Integer euro cents as a plain decimal for machines (CSV): 4000050 -> '40000.50', no grouping, no currency. */
export function centsToDecimal(cents: number): string {
  wholeCents(cents);
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * An amount in euro typed by a person (a CLI option, a CSV cell) as integer cents: 40000, 40000.5, 40000.50,
 * 40000,50, and with thousands grouped the Italian (40.000,50) or the English way (40,000.50), as spreadsheets
 * write them. Anything else (signs, a third decimal, mixed grouping) is refused with a `RangeError` saying what
 * is expected: never a guess.
 */
export function parseEuro(text: string): number {
  const t = text.trim();
  const m =
    /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(t) ??
    // Grouped or not, at most 12 digits of euro (as the plain form): the cents stay exact, safe integers.
    /^(\d{1,3}(?:\.\d{3}){1,3})(?:,(\d{1,2}))?$/.exec(t) ??
    /^(\d{1,3}(?:,\d{3}){1,3})(?:\.(\d{1,2}))?$/.exec(t);
  if (!m) throw new RangeError(`"${text}" is not an amount in euro such as 40000, 40000.50, 40000,50 or 40.000,50`);
  return Number(m[1]!.replace(/[.,]/g, '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
