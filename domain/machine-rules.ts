import type { CallRules } from './rules';

/**
 * The part of the rules an application's workflow and machine read, in integer units: what the workflow carries
 * (the rest of the pinned rules file is loaded outside the workflow when needed).
 */
export interface MachineRules {
  minimumAccompanimentMinutes: number;
  maxGrantShareBps: number;
  interestSubsidy: CallRules['interestSubsidy'];
  commission: CallRules['commission'];
  deadlines: CallRules['deadlines'];
  reminders: CallRules['reminders'];
}

/** No zod here: the workflow computes this for runs of the first generation, which carried the whole file. */
export function machineRules(rules: CallRules): MachineRules {
  return {
    minimumAccompanimentMinutes: Math.round(rules.accompaniment.minimumHours * 60),
    maxGrantShareBps: rules.grant.maxShareBps,
    interestSubsidy: rules.interestSubsidy,
    commission: rules.commission,
    deadlines: rules.deadlines,
    reminders: rules.reminders,
  };
}
