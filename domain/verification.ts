import { euro, grantLimitCents, percent } from './subsidy';

/**
 * What a verified final report justifies, and what must come back (DOMAIN.md, "After funding").
 *
 * Pure and deterministic (it runs in the workflow sandbox too). Money is integer euro cents; every division rounds
 * down, so the company is never owed a cent the accepted costs do not cover and the call never claims back a cent
 * more than the rule says:
 * - grant justified = min(admitted grant, floor(accepted cost × grant share bps / 10 000));
 * - interest subsidy justified = min(admitted subsidy, floor(admitted subsidy × accepted cost / planned cost)): the
 *   subsidy shrinks with the same accepted share of the project as the grant's base. The ratio is applied exactly
 *   (one product, one division, in BigInt), not through a share rounded to basis points first, so there is a single
 *   rounding; the share in bps below is only for people to read;
 * - justified total = grant + subsidy justified; to recover = max(0, disbursed − justified total).
 * Nothing more is ever paid at verification: the support was disbursed up front, so a justified total above what
 * was disbursed closes the project as it is.
 *
 * A broken precondition (money that is not a non-negative integer, no cost lines) is a programming error and throws
 * a RangeError, as in subsidy.ts; a business outcome (a reduction) is a value.
 */

const BPS = 10_000;

export interface CostLineVerdict {
  /** The amount of the line in the pre-project the commission admitted. */
  plannedCents: number;
  /** What the operator accepted of what the company reported spending on it. */
  acceptedCents: number;
}

export interface VerificationInput {
  admittedGrantCents: number;
  admittedSubsidyCents: number;
  disbursedCents: number;
  lines: readonly CostLineVerdict[];
  /** The rules' maximum grant share of the cost (grant.maxShareBps). */
  grantShareBps: number;
}

export interface VerificationOutcome {
  plannedCostCents: number;
  acceptedCostCents: number;
  /** floor(accepted / planned × 10 000), for people to read; capped at 100%. Money uses the exact ratio. */
  acceptedShareBps: number;
  justifiedGrantCents: number;
  justifiedSubsidyCents: number;
  justifiedCents: number;
  disbursedCents: number;
  recoveryCents: number;
  explanation: string[];
}

function assertCents(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer number of cents, got ${value}`);
}

/** floor(a × b / c) for non-negative safe integers, exact however large the product. */
export function mulDivFloor(a: number, b: number, c: number): number {
  if (c <= 0) throw new RangeError(`divisor must be positive, got ${c}`);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

export function verifiedSupport(input: VerificationInput): VerificationOutcome {
  const { admittedGrantCents, admittedSubsidyCents, disbursedCents, lines, grantShareBps } = input;
  assertCents('admittedGrantCents', admittedGrantCents);
  assertCents('admittedSubsidyCents', admittedSubsidyCents);
  assertCents('disbursedCents', disbursedCents);
  if (lines.length === 0) throw new RangeError('at least one cost line is needed to verify a report');
  lines.forEach((l, i) => {
    assertCents(`lines[${i}].plannedCents`, l.plannedCents);
    assertCents(`lines[${i}].acceptedCents`, l.acceptedCents);
  });
  const plannedCostCents = lines.reduce((sum, l) => sum + l.plannedCents, 0);
  const acceptedCostCents = lines.reduce((sum, l) => sum + l.acceptedCents, 0);
  if (plannedCostCents === 0) throw new RangeError('the planned cost must be positive');
  assertCents('plannedCostCents', plannedCostCents);
  assertCents('acceptedCostCents', acceptedCostCents);

  const grantByShare = grantLimitCents(acceptedCostCents, grantShareBps);
  const justifiedGrantCents = Math.min(admittedGrantCents, grantByShare);
  const subsidyByShare = mulDivFloor(admittedSubsidyCents, acceptedCostCents, plannedCostCents);
  const justifiedSubsidyCents = Math.min(admittedSubsidyCents, subsidyByShare);
  const justifiedCents = justifiedGrantCents + justifiedSubsidyCents;
  const recoveryCents = Math.max(0, disbursedCents - justifiedCents);
  const acceptedShareBps = Math.min(BPS, mulDivFloor(acceptedCostCents, BPS, plannedCostCents));

  const explanation = [
    `Accepted costs ${euro(acceptedCostCents)} of the ${euro(plannedCostCents)} planned ` +
      `(${percent(acceptedShareBps)}).`,
    grantByShare < admittedGrantCents
      ? `Grant justified: ${percent(grantShareBps)} of the accepted costs, ` +
        `${euro(justifiedGrantCents)} of the ${euro(admittedGrantCents)} admitted.`
      : `Grant justified: the ${euro(admittedGrantCents)} admitted ` +
        `(${percent(grantShareBps)} of the accepted costs would be ${euro(grantByShare)}).`,
    ...(admittedSubsidyCents > 0
      ? [
          `Interest subsidy justified: ${euro(justifiedSubsidyCents)} of the ${euro(admittedSubsidyCents)} admitted, ` +
            'scaled by the accepted share of the costs.',
        ]
      : []),
    `Justified ${euro(justifiedCents)} against ${euro(disbursedCents)} disbursed: ` +
      (recoveryCents > 0 ? `${euro(recoveryCents)} to recover.` : 'nothing to recover.'),
  ];
  return {
    plannedCostCents,
    acceptedCostCents,
    acceptedShareBps,
    justifiedGrantCents,
    justifiedSubsidyCents,
    justifiedCents,
    disbursedCents,
    recoveryCents,
    explanation,
  };
}

/** A revocation or a withdrawal justifies nothing: everything disbursed comes back. */
export function fullRecoveryCents(disbursedCents: number): number {
  assertCents('disbursedCents', disbursedCents);
  return disbursedCents;
}
