import type { MachineRules } from './machine-rules';
import { interestSubsidy, loanProblem, totalSupportCents, type Loan } from './subsidy';
import type { Theme } from './themes';

/** The pre-project as the machine reads it (machines/events.ts holds its schema, used at the door). */
export interface PreProject {
  title: string;
  summary: string;
  themes: Theme[];
  indicators: {
    name: string;
    theme: Theme;
    unit: string;
    baseline: number;
    target: number;
    measurementMethod: string;
  }[];
  costLines: { description: string; category: string; amountCents: number }[];
  grantCents: number;
  loan?: Loan | undefined;
}

/** Eligible cost is the sum of the cost lines: never a separate figure that could disagree with them. */
export const eligibleCostOf = (p: Pick<PreProject, 'costLines'>) =>
  p.costLines.reduce((sum, line) => sum + line.amountCents, 0);

/** Grant as a share of eligible cost, in integer arithmetic (basis points) so no float decides money. */
export const grantWithinShare = (grantCents: number, eligibleCostCents: number, maxShareBps: number) =>
  grantCents * 10_000 <= eligibleCostCents * maxShareBps;

/** What the company would receive: the grant plus the present value of the interest subsidy on its loan. */
export function supportOf(p: PreProject, rules: Pick<MachineRules, 'interestSubsidy'>) {
  const subsidy = p.loan ? interestSubsidy(p.loan, rules.interestSubsidy) : null;
  const subsidyCents = subsidy?.ok ? subsidy.subsidyCents : 0;
  return { subsidyCents, totalCents: totalSupportCents(p.grantCents, subsidyCents) };
}

/** Why the pre-project cannot be accepted under these rules and this de minimis room; empty when it can. */
export function preProjectProblems(
  p: PreProject,
  rules: Pick<MachineRules, 'interestSubsidy' | 'maxGrantShareBps'>,
  deMinimisRoomCents = Number.MAX_SAFE_INTEGER,
): string[] {
  const problems: string[] = [];
  const support = supportOf(p, rules).totalCents;
  if (support > deMinimisRoomCents) {
    problems.push(
      `the support requested (${support} cents, grant plus interest subsidy) exceeds the de minimis room left ` +
        `to the company (${deMinimisRoomCents} cents)`,
    );
  }
  const loan = p.loan && loanProblem(p.loan, rules.interestSubsidy.maxLoanMonths);
  if (loan) problems.push(`loan.${loan.field}: ${loan.message}`);
  if (p.themes.length === 0) problems.push('the pre-project must name at least one impact theme');
  if (p.grantCents === 0 && !p.loan) problems.push('the pre-project must request a grant, a loan subsidy or both');
  const eligibleCostCents = eligibleCostOf(p);
  for (const [i, indicator] of p.indicators.entries()) {
    if (!p.themes.includes(indicator.theme)) {
      problems.push(
        `indicator ${i + 1} (${indicator.name}) measures ${indicator.theme}, which is not among the pre-project's themes`,
      );
    }
  }
  if (!grantWithinShare(p.grantCents, eligibleCostCents, rules.maxGrantShareBps)) {
    const max = Math.floor((eligibleCostCents * rules.maxGrantShareBps) / 10_000);
    problems.push(
      `grant of ${p.grantCents} cents exceeds ${rules.maxGrantShareBps / 100}% of eligible cost (${max} cents at most)`,
    );
  }
  return problems;
}
