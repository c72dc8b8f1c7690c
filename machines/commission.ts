import type { CallRules } from '../domain/rules';

export type Recommendation = 'approve' | 'reject' | 'request_integration';

export interface Evaluation {
  member: string;
  version: number;
  scores: Record<string, number>;
  total: number;
  recommendation: Recommendation;
  motivation: string;
}

export type CommissionRules = CallRules['commission'];

export interface Tally {
  counted: Evaluation[];
  votes: Record<Recommendation, number>;
  averageTotal: number;
  maxTotal: number;
  decision: Recommendation | null;
  motivation: string;
}

/** Why these scores cannot be accepted under the rules' criteria, or null. */
export function scoreProblems(scores: Record<string, number>, rules: CommissionRules): string | null {
  const codes = rules.criteria.map((c) => c.code);
  const missing = codes.filter((c) => !(c in scores));
  const unknown = Object.keys(scores).filter((c) => !codes.includes(c));
  const over = rules.criteria
    .filter((c) => (scores[c.code] ?? 0) > c.maxScore)
    .map((c) => `${c.code} above ${c.maxScore}`);
  const problems = [
    ...(missing.length ? [`missing scores for ${missing.join(', ')}`] : []),
    ...(unknown.length ? [`unknown criteria ${unknown.join(', ')}`] : []),
    ...over,
  ];
  return problems.length ? problems.join('; ') : null;
}

/**
 * The commission's decision on one pre-project version, once a quorum of members without a conflict of interest
 * has evaluated it: the majority recommendation (a tie asks for integration); an approval stands only when the
 * average score reaches the rules' minimum share of the maximum, otherwise the pre-project is rejected.
 */
export function tally(evaluations: readonly Evaluation[], version: number, rules: CommissionRules): Tally {
  const counted = evaluations.filter((e) => e.version === version);
  const votes: Record<Recommendation, number> = { approve: 0, reject: 0, request_integration: 0 };
  for (const e of counted) votes[e.recommendation] += 1;
  const maxTotal = rules.criteria.reduce((sum, c) => sum + c.maxScore, 0);
  const averageTotal = counted.length ? counted.reduce((sum, e) => sum + e.total, 0) / counted.length : 0;
  const summary = `${counted.length} evaluations (approve ${votes.approve}, reject ${votes.reject}, integration ${votes.request_integration}), average score ${averageTotal.toFixed(1)} of ${maxTotal}`;
  if (counted.length < rules.quorum)
    return { counted, votes, averageTotal, maxTotal, decision: null, motivation: summary };
  const ranked = (Object.entries(votes) as [Recommendation, number][]).sort((a, b) => b[1] - a[1]);
  const [top, second] = ranked;
  let decision: Recommendation = top![1] === second![1] ? 'request_integration' : top![0];
  let motivation = `decided by the commission's quorum: ${summary}`;
  if (decision === 'approve' && averageTotal * 10_000 < maxTotal * rules.minimumScoreBps) {
    decision = 'reject';
    motivation += `; below the minimum score of ${(maxTotal * rules.minimumScoreBps) / 10_000}`;
  }
  return { counted, votes, averageTotal, maxTotal, decision, motivation };
}
