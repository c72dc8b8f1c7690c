import { z } from 'zod';
import { ThemeSchema } from './themes';

const cents = z.number().int().nonnegative();
const days = z.number().int().positive();

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
  })
  .strict();

export type CallRules = z.infer<typeof CallRulesSchema>;
