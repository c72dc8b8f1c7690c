/**
 * Italian partita IVA: 11 digits, the last one a Luhn-style check digit over the first ten.
 * Returns null when valid, otherwise a sentence saying what is wrong.
 */
export function vatNumberProblem(vat: string): string | null {
  if (!/^\d{11}$/.test(vat)) return 'must be exactly 11 digits';
  const digits = [...vat].map(Number);
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const d = digits[i]!;
    if (i % 2 === 0) sum += d;
    else sum += d * 2 > 9 ? d * 2 - 9 : d * 2;
  }
  const expected = (10 - (sum % 10)) % 10;
  return digits[10] === expected ? null : `check digit is ${digits[10]}, expected ${expected}`;
}

/** Appends the check digit to ten digits: used by tests and fixtures to build valid numbers. */
export function withVatCheckDigit(first10: string): string {
  for (let d = 0; d <= 9; d++) {
    if (vatNumberProblem(first10 + d) === null) return first10 + d;
  }
  throw new Error(`cannot complete ${first10}`);
}
