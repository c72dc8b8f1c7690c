import { formatEuro, type Locale } from '../../domain/format';
import { eligibleCostOf, supportOf, type PreProject } from '../../domain/pre-project';
import type { MachineRules } from '../../domain/machine-rules';
import { html, type Html } from './html';
import { words } from './layout';
import { COST_LABELS, label, THEME_LABELS } from './labels';

/** The pre-project as people read it: indicators as baseline → target, cost lines, grant and subsidy in euro. */

export const number = (n: number, locale: Locale) =>
  new Intl.NumberFormat(locale === 'it' ? 'it-IT' : 'en-GB', { maximumFractionDigits: 4 }).format(n);

const percent = (part: number, whole: number, locale: Locale) =>
  whole > 0
    ? `${new Intl.NumberFormat(locale === 'it' ? 'it-IT' : 'en-GB', { maximumFractionDigits: 1 }).format((part * 100) / whole)}%`
    : '—';

export function preProjectView(pp: PreProject, rules: MachineRules, locale: Locale): Html {
  const t = words(locale);
  const eligible = eligibleCostOf(pp);
  const support = supportOf(pp, rules);
  return html`<h3>${pp.title}</h3>
    <p>${pp.summary}</p>
    <p><strong>${t('Temi', 'Themes')}:</strong> ${pp.themes.map((th) => label(THEME_LABELS[locale], th)).join(', ')}</p>
    <table>
      <caption>
        ${t('Indicatori di impatto', 'Impact indicators')}
      </caption>
      <thead>
        <tr>
          <th scope="col">${t('Indicatore', 'Indicator')}</th>
          <th scope="col">${t('Tema', 'Theme')}</th>
          <th scope="col" class="num">${t('Valore di partenza', 'Baseline')}</th>
          <th scope="col"><span class="visually-hidden">→</span></th>
          <th scope="col" class="num">${t('Obiettivo', 'Target')}</th>
          <th scope="col">${t('Unità', 'Unit')}</th>
          <th scope="col">${t('Metodo di misura', 'Measurement method')}</th>
        </tr>
      </thead>
      <tbody>
        ${pp.indicators.map(
          (i) =>
            html`<tr>
              <td>${i.name}</td>
              <td>${label(THEME_LABELS[locale], i.theme)}</td>
              <td class="num">${number(i.baseline, locale)}</td>
              <td aria-hidden="true">→</td>
              <td class="num">${number(i.target, locale)}</td>
              <td>${i.unit}</td>
              <td>${i.measurementMethod}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <table>
      <caption>
        ${t('Voci di costo ammissibili', 'Eligible cost lines')}
      </caption>
      <thead>
        <tr>
          <th scope="col">${t('Descrizione', 'Description')}</th>
          <th scope="col">${t('Categoria', 'Category')}</th>
          <th scope="col" class="num">${t('Importo', 'Amount')}</th>
        </tr>
      </thead>
      <tbody>
        ${pp.costLines.map(
          (c) =>
            html`<tr>
              <td>${c.description}</td>
              <td>${label(COST_LABELS[locale], c.category)}</td>
              <td class="num">${formatEuro(c.amountCents, locale)}</td>
            </tr>`,
        )}
        <tr>
          <th scope="row" colspan="2">${t('Costo ammissibile totale', 'Total eligible cost')}</th>
          <td class="num"><strong>${formatEuro(eligible, locale)}</strong></td>
        </tr>
      </tbody>
    </table>
    <dl class="facts">
      <dt>${t('Contributo a fondo perduto', 'Grant')}</dt>
      <dd>
        ${formatEuro(pp.grantCents, locale)} (${percent(pp.grantCents, eligible, locale)}
        ${t('del costo ammissibile', 'of the eligible cost')}; ${t('massimo', 'at most')}
        ${rules.maxGrantShareBps / 100}%)
      </dd>
      <dt>${t('Contributo in conto interessi', 'Interest subsidy')}</dt>
      <dd>
        ${
          pp.loan
            ? html`${formatEuro(support.subsidyCents, locale)} ${t('su un finanziamento di', 'on a loan of')}
              ${formatEuro(pp.loan.amountCents, locale)}, ${number(pp.loan.annualRateBps / 100, locale)}%
              ${t('annuo', 'a year')}, ${pp.loan.months} ${t('mesi', 'months')}`
            : t('non richiesto', 'not requested')
        }
      </dd>
      <dt>${t('Agevolazione totale richiesta', 'Total support requested')}</dt>
      <dd>${formatEuro(support.totalCents, locale)}</dd>
    </dl>`;
}

/** What changed between two versions, field by field: a plain list of "field: before → after". */
export function preProjectDiff(before: PreProject, after: PreProject, locale: Locale): [string, string, string][] {
  const t = words(locale);
  const rows: [string, string, string][] = [];
  const cmp = (name: string, a: string, b: string) => {
    if (a !== b) rows.push([name, a, b]);
  };
  const themes = (p: PreProject) => p.themes.map((th) => label(THEME_LABELS[locale], th)).join(', ');
  const loan = (p: PreProject) =>
    p.loan ? `${formatEuro(p.loan.amountCents, locale)}, ${p.loan.annualRateBps / 100}%, ${p.loan.months}` : '—';
  cmp(t('Titolo', 'Title'), before.title, after.title);
  cmp(t('Sintesi', 'Summary'), before.summary, after.summary);
  cmp(t('Temi', 'Themes'), themes(before), themes(after));
  cmp(t('Contributo', 'Grant'), formatEuro(before.grantCents, locale), formatEuro(after.grantCents, locale));
  cmp(t('Finanziamento', 'Loan'), loan(before), loan(after));
  const indicator = (i: PreProject['indicators'][number] | undefined) =>
    i
      ? `${i.name}: ${number(i.baseline, locale)} → ${number(i.target, locale)} ${i.unit} (${i.measurementMethod})`
      : '—';
  for (let k = 0; k < Math.max(before.indicators.length, after.indicators.length); k++) {
    cmp(`${t('Indicatore', 'Indicator')} ${k + 1}`, indicator(before.indicators[k]), indicator(after.indicators[k]));
  }
  const cost = (c: PreProject['costLines'][number] | undefined) =>
    c ? `${c.description} (${label(COST_LABELS[locale], c.category)}): ${formatEuro(c.amountCents, locale)}` : '—';
  for (let k = 0; k < Math.max(before.costLines.length, after.costLines.length); k++) {
    cmp(`${t('Voce di costo', 'Cost line')} ${k + 1}`, cost(before.costLines[k]), cost(after.costLines[k]));
  }
  return rows;
}
