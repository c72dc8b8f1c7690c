import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRulesFile } from '../../config/calls';
import { CallRulesSchema, POST_AWARD_DEFAULTS, projectRules } from '../../domain/rules';
import { projectRoot } from '../support/fixtures';

const file2023 = path.join(projectRoot, 'config', 'calls', 'innosocialmetro-2023.v1.json');
const raw2023 = () => JSON.parse(readFileSync(file2023, 'utf8')) as Record<string, unknown>;

describe('post-award rules', () => {
  test('the 2023 rules file, written before the section existed, gets the programme defaults', () => {
    expect(raw2023().postAward).toBeUndefined();
    expect(parseRulesFile(file2023).postAward).toEqual({
      realisationMonths: 12,
      finalReportDays: 60,
      reminders: { daysBefore: [30, 7] },
      observationDays: 10,
      maxExtensionMonths: 6,
    });
  });

  test('a file with its own post-award values keeps them', () => {
    const own = {
      realisationMonths: 18,
      finalReportDays: 90,
      reminders: { daysBefore: [45, 15, 3] },
      observationDays: 15,
      maxExtensionMonths: 3,
    };
    expect(CallRulesSchema.parse({ ...raw2023(), postAward: own }).postAward).toEqual(own);
  });

  test('the section is strict: a misspelt or missing field is refused, not defaulted', () => {
    const defaults = { ...POST_AWARD_DEFAULTS, reminders: { daysBefore: [30, 7] } };
    const misspelt = CallRulesSchema.safeParse({ ...raw2023(), postAward: { ...defaults, observationsDays: 10 } });
    expect(misspelt.success).toBe(false);
    const { finalReportDays: _, ...missing } = defaults;
    expect(CallRulesSchema.safeParse({ ...raw2023(), postAward: missing }).success).toBe(false);
    expect(CallRulesSchema.safeParse({ ...raw2023(), postAward: { ...defaults, realisationMonths: 0 } }).success).toBe(
      false,
    );
  });

  test('each parse gets its own copy of the defaults', () => {
    const a = CallRulesSchema.parse(raw2023());
    a.postAward.reminders.daysBefore.push(1);
    expect(CallRulesSchema.parse(raw2023()).postAward.reminders.daysBefore).toEqual([30, 7]);
    expect(POST_AWARD_DEFAULTS.reminders.daysBefore).toEqual([30, 7]);
  });

  test('rules pinned before the section existed still give the project its defaults', () => {
    const { postAward: _, ...pinnedBefore } = parseRulesFile(file2023);
    expect(projectRules(pinnedBefore)).toEqual({
      maxGrantShareBps: 5000,
      postAward: parseRulesFile(file2023).postAward,
    });
  });
});
