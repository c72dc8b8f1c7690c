/**
 * Financial support of a call: the grant limit and the interest subsidy (contributo in conto interessi).
 *
 * Pure and deterministic: no Node built-ins, no Intl, no clock, so it can run inside Temporal's workflow sandbox.
 * Money is integer euro cents everywhere, rates are integer basis points a year (450 = 4.50%).
 *
 * Errors, one design throughout:
 * - a business refusal (a loan the call does not subsidise) is a value: `interestSubsidy` returns
 *   `{ ok: false, field, message }` and never throws, so a workflow can branch on it;
 * - a broken precondition of a plain arithmetic helper (`amortizationSchedule`, `grantLimitCents`,
 *   `totalSupportCents` called with non-integer or negative money) is a programming error and throws a RangeError.
 *   Callers check the loan with `loanProblem` first; `interestSubsidy` does so itself.
 */

/** Above this a loan is refused: keeps `balance × rate × 2` within exact integer arithmetic (2^53). EUR 1 billion. */
export const MAX_LOAN_AMOUNT_CENTS = 100_000_000_000;
/** Above this a loan rate is refused as implausible (100% a year). */
export const MAX_LOAN_RATE_BPS = 10_000;

export interface Loan {
  amountCents: number;
  /** Nominal annual rate in basis points; the monthly rate is annual / 12. */
  annualRateBps: number;
  months: number;
}

export interface Instalment {
  /** 1-based month after disbursement (month 0). */
  month: number;
  paymentCents: number;
  interestCents: number;
  principalCents: number;
  /** Outstanding principal after this instalment. */
  balanceCents: number;
}

export interface InterestSubsidyParams {
  /** Discount rate (annual bps, monthly = /12) for the present value at disbursement. */
  referenceRateBps: number;
  /** The subsidised reduction of the loan's rate is at most this many bps. */
  maxRateReductionBps: number;
  maxSubsidyCents: number;
  maxLoanMonths: number;
}

export type LoanField = keyof Loan;

export interface LoanProblem {
  field: LoanField;
  message: string;
}

export interface InterestSubsidyGranted {
  ok: true;
  subsidyCents: number;
  reducedRateBps: number;
  /** Total interest of the schedule at the loan's rate. */
  interestFullCents: number;
  /** Total interest of the schedule at the reduced rate. */
  interestReducedCents: number;
  /** Present value at disbursement of the interest saved, before the cap. */
  presentValueCents: number;
  capped: 'none' | 'max_subsidy';
  explanation: string[];
}

export type InterestSubsidyRefused = { ok: false } & LoanProblem;

export type InterestSubsidyResult = InterestSubsidyGranted | InterestSubsidyRefused;

const MONTHS_PER_YEAR = 12;
const BPS = 10_000;
/** Monthly rate = bps / (10 000 × 12). */
const MONTHLY_DENOMINATOR = BPS * MONTHS_PER_YEAR;

/**
 * Why the loan cannot be amortised (or subsidised, when `maxLoanMonths` is given), naming the field; null if fine.
 */
export function loanProblem(loan: Loan, maxLoanMonths?: number): LoanProblem | null {
  const { amountCents, annualRateBps, months } = loan;
  if (!Number.isInteger(amountCents))
    return { field: 'amountCents', message: `amountCents must be an integer number of cents, got ${amountCents}` };
  if (amountCents <= 0)
    return { field: 'amountCents', message: `amountCents must be greater than 0, got ${amountCents}` };
  if (amountCents > MAX_LOAN_AMOUNT_CENTS)
    return {
      field: 'amountCents',
      message: `amountCents must be at most ${MAX_LOAN_AMOUNT_CENTS} (${euro(MAX_LOAN_AMOUNT_CENTS)}), got ${amountCents}`,
    };
  if (!Number.isInteger(annualRateBps) || annualRateBps < 0 || annualRateBps > MAX_LOAN_RATE_BPS)
    return {
      field: 'annualRateBps',
      message: `annualRateBps must be an integer from 0 to ${MAX_LOAN_RATE_BPS}, got ${annualRateBps}`,
    };
  if (!Number.isInteger(months) || months < 1)
    return { field: 'months', message: `months must be a positive integer, got ${months}` };
  if (maxLoanMonths !== undefined && months > maxLoanMonths)
    return { field: 'months', message: `months must be at most ${maxLoanMonths} for this call, got ${months}` };
  return null;
}

/**
 * Exact integer rounding, half-up, of `balance × bps / 120 000` (one month's interest): every operand stays an
 * integer below 2^53 (guaranteed by MAX_LOAN_AMOUNT_CENTS and MAX_LOAN_RATE_BPS), so no floating-point error.
 */
function monthlyInterestCents(balanceCents: number, annualRateBps: number): number {
  return Math.floor((2 * balanceCents * annualRateBps + MONTHLY_DENOMINATOR) / (2 * MONTHLY_DENOMINATOR));
}

/**
 * French (constant-instalment) amortisation with monthly periods, monthly rate i = annualRateBps / 120 000.
 *
 * Rounding, documented:
 * - the constant payment is the annuity A·i / (1 − (1 + i)^−n), computed in floating point and rounded half-up to
 *   the cent once (Math.round; a float a hair away from .5 may round either way, at most 1 cent, absorbed below);
 * - each month's interest is round-half-up(balance × i) to the cent, in exact integer arithmetic;
 * - principal = payment − interest, never more than the balance still owed (only tiny loans ever reach this, where
 *   the rounded payment exceeds the exact one and the balance runs out early: the remaining instalments are 0);
 * - the last instalment repays the whole remaining balance (payment = interest + balance), so the principal sums
 *   exactly to the amount and the final balance is 0; it differs from the constant payment by a few cents.
 * A 0% loan is repaid in equal slices floor(A / n), the remainder in the last instalment.
 *
 * Throws a RangeError if `loanProblem(loan)` reports one (a programming error: check first).
 */
export function amortizationSchedule(loan: Loan): Instalment[] {
  const problem = loanProblem(loan);
  if (problem) throw new RangeError(problem.message);
  const { amountCents, annualRateBps, months } = loan;
  let payment: number;
  if (annualRateBps === 0) {
    payment = Math.floor(amountCents / months);
  } else {
    const i = annualRateBps / MONTHLY_DENOMINATOR;
    payment = Math.round((amountCents * i) / (1 - Math.pow(1 + i, -months)));
  }
  const schedule: Instalment[] = [];
  let balance = amountCents;
  for (let month = 1; month <= months; month++) {
    const interestCents = monthlyInterestCents(balance, annualRateBps);
    const principalCents = month === months ? balance : Math.min(Math.max(payment - interestCents, 0), balance);
    balance -= principalCents;
    schedule.push({
      month,
      paymentCents: interestCents + principalCents,
      interestCents,
      principalCents,
      balanceCents: balance,
    });
  }
  return schedule;
}

/**
 * The interest subsidy of a loan: the present value at disbursement (month 0) of the interest saved month by month,
 * i.e. interest of the schedule at the loan's rate minus interest of the schedule at the reduced rate
 * max(0, loan rate − maxRateReductionBps), each month k discounted by (1 + r)^k with r = referenceRateBps / 120 000.
 * The present value is summed in floating point and rounded half-up to the cent once, at the end, then kept within
 * [0, undiscounted saving]: without cent rounding the saving is positive every month (the balance at a higher rate is
 * higher at every month), but on loans of a few euros the rounded payments can make the saving of a late month −1 cent,
 * and discounting such a flow could give a present value above the total saved (or below 0). Then it is capped at
 * maxSubsidyCents.
 *
 * Refuses (never throws) a loan with amount ≤ 0, longer than maxLoanMonths, or otherwise malformed.
 */
export function interestSubsidy(loan: Loan, params: InterestSubsidyParams): InterestSubsidyResult {
  const problem = loanProblem(loan, params.maxLoanMonths);
  if (problem) return { ok: false, ...problem };
  const reducedRateBps = Math.max(0, loan.annualRateBps - params.maxRateReductionBps);
  const full = amortizationSchedule(loan);
  const reduced = amortizationSchedule({ ...loan, annualRateBps: reducedRateBps });
  const r = params.referenceRateBps / MONTHLY_DENOMINATOR;
  let interestFullCents = 0;
  let interestReducedCents = 0;
  let presentValue = 0;
  for (let k = 0; k < full.length; k++) {
    const f = full[k]!.interestCents;
    const g = reduced[k]!.interestCents;
    interestFullCents += f;
    interestReducedCents += g;
    presentValue += (f - g) / Math.pow(1 + r, k + 1);
  }
  const savedCents = interestFullCents - interestReducedCents;
  const roundedPresentValue = Math.round(presentValue);
  const presentValueCents = Math.max(0, Math.min(roundedPresentValue, savedCents));
  const capped = presentValueCents > params.maxSubsidyCents ? 'max_subsidy' : 'none';
  const subsidyCents = Math.min(presentValueCents, params.maxSubsidyCents);
  const explanation = [
    `Loan of ${euro(loan.amountCents)} over ${loan.months} months at ${percent(loan.annualRateBps)} a year, French amortisation ` +
      `(constant instalment ${euro(full[0]!.paymentCents)}): interest ${euro(interestFullCents)}.`,
    `Reduced rate ${percent(reducedRateBps)} (the loan's rate less at most ${percent(params.maxRateReductionBps).slice(0, -1)} percentage points): interest ${euro(interestReducedCents)}.`,
    `Interest saved ${euro(savedCents)}; its present value at disbursement, discounted monthly at the reference rate ` +
      `${percent(params.referenceRateBps)} a year, is ${euro(presentValueCents)}.`,
    ...(presentValueCents === roundedPresentValue
      ? []
      : [
          `The discounted figure ${euro(roundedPresentValue)} is a cent-rounding artefact of a very small loan: kept within 0 and the saving.`,
        ]),
    capped === 'max_subsidy'
      ? `Capped at the call's maximum subsidy of ${euro(params.maxSubsidyCents)}: subsidy ${euro(subsidyCents)}.`
      : `Within the call's maximum subsidy of ${euro(params.maxSubsidyCents)}: subsidy ${euro(subsidyCents)}.`,
  ];
  return {
    ok: true,
    subsidyCents,
    reducedRateBps,
    interestFullCents,
    interestReducedCents,
    presentValueCents,
    capped,
    explanation,
  };
}

function assertCents(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer number of cents, got ${value}`);
}

/**
 * The most a grant can be: floor(eligibleCost × maxShareBps / 10 000), rounded down to the cent.
 * Exact for any safe integer: the cost is split into whole 10 000s and a remainder so no product overflows.
 */
export function grantLimitCents(eligibleCostCents: number, maxShareBps: number): number {
  assertCents('eligibleCostCents', eligibleCostCents);
  if (!Number.isInteger(maxShareBps) || maxShareBps < 0 || maxShareBps > BPS)
    throw new RangeError(`maxShareBps must be an integer from 0 to ${BPS}, got ${maxShareBps}`);
  const whole = Math.floor(eligibleCostCents / BPS);
  const rest = eligibleCostCents % BPS;
  return whole * maxShareBps + Math.floor((rest * maxShareBps) / BPS);
}

/** Grant plus interest subsidy: the support one application receives, in cents. */
export function totalSupportCents(grantCents: number, subsidyCents: number): number {
  assertCents('grantCents', grantCents);
  assertCents('subsidyCents', subsidyCents);
  return grantCents + subsidyCents;
}

/** "EUR 12,345.67" without Intl (not available in the workflow sandbox). */
export function euro(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}EUR ${units}.${String(abs % 100).padStart(2, '0')}`;
}

/** 450 bps -> "4.50%". */
export function percent(bps: number): string {
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, '0')}%`;
}
