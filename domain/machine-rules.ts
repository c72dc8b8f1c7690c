import type { CallRules } from './rules';

/**
 * The part of the rules an application's workflow and machine read, in integer units: what the workflow carries
 * (the rest of the pinned rules file is loaded outside the workflow when needed).
 */
export interface MachineRules {
  minimumAccompanimentMinutes: number;
  maxGrantShareBps: number;
  interestSubsidy: CallRules['interestSubsidy'];
  /** The criteria's codes, labels and maxima, the quorum and the minimum score (their guidance stays in the file). */
  commission: {
    quorum: number;
    minimumScoreBps: number;
    criteria: { code: string; label: string; maxScore: number }[];
  };
  deadlines: CallRules['deadlines'];
  reminders: CallRules['reminders'];
  /** Absent in workflows started before the funded project had a lifecycle: they get the programme's defaults. */
  postAward?: PostAwardRules;
}

/**
 * After funding (DOMAIN.md, "rendicontazione"): the realisation period, the final report, the observations period of
 * law 241/1990 and the one extension. The schema (domain/rules.ts) validates it; workflow code reads this type.
 */
export interface PostAwardRules {
  /** The project is carried out within this many months of the disbursement. */
  realisationMonths: number;
  /** The final report is due this many days after the realisation period ends. */
  finalReportDays: number;
  /** Reminders to the company this many days before each of the project's deadlines. */
  reminders: { daysBefore: number[] };
  /** Days the company has to send observations on an intended reduction or revocation (law 241/1990). */
  observationDays: number;
  /** The realisation period can be extended once, by at most this many months (0: never). */
  maxExtensionMonths: number;
}

/**
 * The programme's post-award rules (DOMAIN.md), stated once: rules files written before the project's lifecycle
 * existed have no `postAward` section and get exactly these.
 */
export const POST_AWARD_DEFAULTS: Readonly<PostAwardRules> = Object.freeze({
  realisationMonths: 12,
  finalReportDays: 60,
  reminders: Object.freeze({ daysBefore: Object.freeze([30, 7]) as number[] }),
  observationDays: 10,
  maxExtensionMonths: 6,
});

/** The part of the rules the project's machine reads. */
export interface ProjectRules {
  maxGrantShareBps: number;
  postAward: PostAwardRules;
}

/** The project's rules from what an application's workflow carries (defaults where it carried none). */
export const projectRulesOf = (rules: Pick<MachineRules, 'maxGrantShareBps' | 'postAward'>): ProjectRules => ({
  maxGrantShareBps: rules.maxGrantShareBps,
  postAward: rules.postAward ?? {
    ...POST_AWARD_DEFAULTS,
    reminders: { daysBefore: [...POST_AWARD_DEFAULTS.reminders.daysBefore] },
  },
});

/** No zod here: the workflow computes this for runs of the first generation, which carried the whole file. */
export function machineRules(rules: CallRules): MachineRules {
  return {
    minimumAccompanimentMinutes: Math.round(rules.accompaniment.minimumHours * 60),
    maxGrantShareBps: rules.grant.maxShareBps,
    interestSubsidy: rules.interestSubsidy,
    commission: {
      quorum: rules.commission.quorum,
      minimumScoreBps: rules.commission.minimumScoreBps,
      criteria: rules.commission.criteria.map(({ code, label, maxScore }) => ({ code, label, maxScore })),
    },
    deadlines: rules.deadlines,
    reminders: rules.reminders,
    postAward: rules.postAward,
  };
}
