/** Money and dates for people; no Node built-ins (workflow code imports it). */
export type Locale = 'it' | 'en';

/** Integer euro cents as 'EUR 40.000,00' (it) or 'EUR 40,000.00' (en); no floating point involved. */
export function formatEuro(cents: number, locale: Locale): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`an amount in cents must be a whole number, got ${cents}`);
  const [group, decimal] = locale === 'it' ? ['.', ','] : [',', '.'];
  const abs = Math.abs(cents);
  const euros = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `EUR ${cents < 0 ? '-' : ''}${euros}${decimal}${String(abs % 100).padStart(2, '0')}`;
}

/** Integer cents as a plain decimal ('40000.50'), for files machines read (CSV). */
export function centsToDecimal(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * An amount in euro as people write it, in cents: 40000, 40000.50, 40000,50, 40.000,50 (Italian grouping) or
 * 40,000.50 (English). Null when it is none of these: never a guess.
 */
export function parseEuro(text: string): number | null {
  const t = text.trim().replace(/^EUR\s*/i, '');
  const plain = /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(t);
  const italian = /^(\d{1,3}(?:\.\d{3})+)(?:,(\d{1,2}))?$/.exec(t);
  const english = /^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$/.exec(t);
  const m = plain ?? italian ?? english;
  if (!m) return null;
  const euros = Number(m[1]!.replace(/[.,]/g, ''));
  const cents = Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(euros * 100 + cents) ? euros * 100 + cents : null;
}
