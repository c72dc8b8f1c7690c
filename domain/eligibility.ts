import type { ApplicationForm } from './application';
import { formatEuro } from './format';
import type { CallRules } from './rules';
import { vatNumberProblem } from './vat';

export interface Comune {
  istatCode: string;
  name: string;
}

export interface IneligibilityReason {
  code: 'vat_number_invalid' | 'not_sme' | 'outside_territory' | 'de_minimis_exhausted' | 'theme_not_in_call';
  field: string;
  message: string;
}

const euro = (cents: number) => formatEuro(cents, 'it');

/**
 * Every reason the company cannot take part in the call, not just the first: the company is told all at once.
 * SME size per Recommendation 2003/361/EC: headcount AND (turnover OR balance-sheet total) under the thresholds.
 */
export function ineligibilityReasons(
  form: ApplicationForm,
  rules: CallRules,
  comuni: readonly Comune[],
): IneligibilityReason[] {
  const reasons: IneligibilityReason[] = [];
  const vat = vatNumberProblem(form.company.vatNumber);
  if (vat) reasons.push({ code: 'vat_number_invalid', field: 'company.vatNumber', message: `VAT number ${vat}` });

  const { headcount, turnoverCents, balanceSheetCents } = form.company;
  const small = rules.sme.small;
  const financialOk = Math.min(turnoverCents, balanceSheetCents) <= small.maxTurnoverOrBalanceCents;
  if (headcount > small.maxHeadcount || !financialOk) {
    reasons.push({
      code: 'not_sme',
      field: headcount > small.maxHeadcount ? 'company.headcount' : 'company.turnoverCents',
      message:
        `not a micro or small enterprise: ${headcount} staff (limit ${small.maxHeadcount}), ` +
        `turnover ${euro(turnoverCents)} and balance sheet ${euro(balanceSheetCents)} ` +
        `(at least one must be at most ${euro(small.maxTurnoverOrBalanceCents)})`,
    });
  }

  const site = form.company.operatingSite.comune;
  if (!comuni.some((c) => c.istatCode === site || c.name === site)) {
    reasons.push({
      code: 'outside_territory',
      field: 'company.operatingSite.comune',
      message: `operating site "${site}" is not one of the comuni of the ${rules.territory.name}`,
    });
  }

  if (form.deMinimisReceivedCents >= rules.deMinimis.ceilingCents) {
    reasons.push({
      code: 'de_minimis_exhausted',
      field: 'deMinimisReceivedCents',
      message:
        `de minimis aid already received (${euro(form.deMinimisReceivedCents)}) ` +
        `leaves no room under the ceiling of ${euro(rules.deMinimis.ceilingCents)}`,
    });
  }

  for (const theme of form.themes) {
    if (!rules.themes.includes(theme)) {
      reasons.push({ code: 'theme_not_in_call', field: 'themes', message: `theme ${theme} is not open in this call` });
    }
  }
  return reasons;
}

/**
 * The company's size class under Recommendation 2003/361/EC: micro or small when its headcount and its turnover or
 * balance-sheet total (the lower of the two) fit that class's limits; null when it is neither (not eligible).
 */
export function sizeClassOf(form: ApplicationForm, rules: CallRules): 'micro' | 'small' | null {
  const { headcount, turnoverCents, balanceSheetCents } = form.company;
  const fits = (limits: CallRules['sme']['micro']) =>
    headcount <= limits.maxHeadcount && Math.min(turnoverCents, balanceSheetCents) <= limits.maxTurnoverOrBalanceCents;
  return fits(rules.sme.micro) ? 'micro' : fits(rules.sme.small) ? 'small' : null;
}
