import { z } from 'zod';
import { POST_AWARD_DEFAULTS, type PostAwardRules, type ProjectRules } from './machine-rules';
import { ThemeSchema } from './themes';

const cents = z.number().int().nonnegative();
const days = z.number().int().positive();

/**
 * After funding (DOMAIN.md, "rendicontazione"): the realisation period, the final report, the observations period of
 * law 241/1990 and the one extension. Every time limit the project's machine and workflow read comes from here.
 */
export const PostAwardRulesSchema = z
  .object({
    /** The project is carried out within this many months of the disbursement. */
    realisationMonths: z.number().int().positive().max(60),
    /** The final report is due this many days after the realisation period ends. */
    finalReportDays: days,
    /** Reminders to the company this many days before each of the project's deadlines. */
    reminders: z.object({ daysBefore: z.array(z.number().int().positive()).min(1) }).strict(),
    /** Days the company has to send observations on an intended reduction or revocation (law 241/1990). */
    observationDays: days,
    /** The realisation period can be extended once, by at most this many months (0: never). */
    maxExtensionMonths: z.number().int().min(0).max(24),
  })
  .strict();
// The schema's output is exactly the zod-free type the workflows read (domain/machine-rules.ts).
const _sameShape: PostAwardRules = {} as z.infer<typeof PostAwardRulesSchema>;

// A fresh copy each time: a parsed rules object is the caller's to keep, never a view into the shared default.
const postAwardDefaults = (): PostAwardRules => ({
  ...POST_AWARD_DEFAULTS,
  reminders: { daysBefore: [...POST_AWARD_DEFAULTS.reminders.daysBefore] },
});

/** The `postAward` section of a rules file: absent, it is the programme's defaults. */
export const PostAwardSectionSchema = PostAwardRulesSchema.default(postAwardDefaults);

/**
 * The programme rules of one call, one version. Everything DOMAIN.md calls "configuration" lives here;
 * an application pins the version it was submitted under and never sees a later one.
 */
export const CallRulesSchema = z
  .object({
    callId: z.string().regex(/^[a-z0-9][a-z0-9-]{1,40}$/, 'lowercase letters, digits and dashes'),
    version: z.number().int().positive(),
    title: z.string().min(1),
    opensOn: z.iso.date(),
    budgetCents: cents,
    themes: z.array(ThemeSchema).min(1),
    territory: z
      .object({
        name: z.string().min(1),
        /** CSV of the eligible comuni, relative to the project root (istat_code,name,cadastral_code,population). */
        comuniFile: z.string().regex(/^data\/[A-Za-z0-9._-]+\.csv$/, 'a CSV file under data/'),
      })
      .strict(),
    accompaniment: z.object({ minimumHours: z.number().positive().max(200) }).strict(),
    grant: z.object({ maxShareBps: z.number().int().min(1).max(10_000) }).strict(),
    sme: z
      .object({
        micro: z.object({ maxHeadcount: z.number().int().positive(), maxTurnoverOrBalanceCents: cents }).strict(),
        small: z.object({ maxHeadcount: z.number().int().positive(), maxTurnoverOrBalanceCents: cents }).strict(),
      })
      .strict(),
    deMinimis: z.object({ ceilingCents: cents, fiscalYears: z.number().int().positive() }).strict(),
    interestSubsidy: z
      .object({
        /** Discount rate for the present value of the interest saved. */
        referenceRateBps: z.number().int().min(0).max(5_000),
        /** The subsidy covers at most this many percentage points (in bps) of the loan's rate. */
        maxRateReductionBps: z.number().int().min(0).max(5_000),
        maxSubsidyCents: cents,
        maxLoanMonths: z.number().int().positive().max(360),
      })
      .strict(),
    commission: z
      .object({
        quorum: z.number().int().positive(),
        criteria: z
          .array(
            z
              .object({
                code: z.string().regex(/^[a-z_]+$/),
                label: z.string().min(1),
                maxScore: z.number().int().positive(),
                /** What the members look at when they score it: shown next to the field on their page. */
                guidance: z.string().min(1).optional(),
              })
              .strict(),
          )
          .min(1),
        /** Minimum share of the maximum total score (bps) for an approval to stand. */
        minimumScoreBps: z.number().int().min(0).max(10_000),
      })
      .strict(),
    reminders: z.object({ daysBefore: z.array(z.number().int().positive()).min(1) }).strict(),
    deadlines: z
      .object({
        accompanimentDays: days,
        integrationAnswerDays: days,
        commissionDecisionDays: days,
        fundingDays: days,
        /** Deadlines whose miss alerts the operators instead of ending the application. */
        escalateInsteadOfLapse: z
          .array(z.enum(['accompaniment', 'integration_answer', 'commission_decision', 'funding']))
          .default([]),
      })
      .strict(),
    postAward: PostAwardSectionSchema,
  })
  .strict();

export type CallRules = z.infer<typeof CallRulesSchema>;

/**
 * Rules pinned in a workflow's input before this section existed were never re-parsed: they lack `postAward`
 * whatever the type says, so it goes through the section's schema (and its defaults) again here.
 */
export function projectRules(rules: Pick<CallRules, 'grant'> & { postAward?: unknown }): ProjectRules {
  return { maxGrantShareBps: rules.grant.maxShareBps, postAward: PostAwardSectionSchema.parse(rules.postAward) };
}

export { POST_AWARD_DEFAULTS, type PostAwardRules, type ProjectRules };
