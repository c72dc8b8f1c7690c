import type { FastifyInstance } from 'fastify';
import { formatEuro, type Locale } from '../../domain/format';
import { PROJECT_STATUSES, type ImpactGroup, type ImpactReport, type IndicatorFigure } from '../../domain/impact';
import { percent } from '../../domain/subsidy';
import { THEMES, type Theme } from '../../domain/themes';
import { UserError } from '../errors';
import { impactCharts } from './charts';
import { html, SafeHtml, type Html } from './html';
import { notice, select, words, type FieldErrors } from './layout';
import { requireUser, runRoute, send, statusOf, type PageRequest, type PagesDeps } from './context';
import { PROJECT_STATE_LABELS, THEME_LABELS } from './labels';
import { number } from './pre-project-view';
import { explain } from './refusals';

/*
 * The programme's impact for the staff who answer for it (operators and auditors): per theme and per call, the funded
 * projects, their indicators and the money. Every figure comes from the API's own impact route (the same function the
 * CLI's `innosocial impact` reads, client/service/projects.ts programmeImpact): the page formats, it never computes.
 */

type Query = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** A percentage in basis points as the page's language writes it: 75,00% (it), 75.00% (en). */
export const percentIn = (bps: number, locale: Locale) =>
  locale === 'it' ? percent(bps).replace('.', ',') : percent(bps);

/** How far one indicator got, in words: capped beyond the target, nothing on the wrong side, not yet measured. */
export function achievementInWords(i: IndicatorFigure, locale: Locale): string {
  const t = words(locale);
  if (i.measured === null || i.achievementBps === null) return t('non ancora misurato', 'not measured yet');
  const pct = percentIn(i.achievementBps, locale);
  const measured = number(i.measured, locale);
  if (i.target === i.baseline)
    return i.reached
      ? t('obiettivo uguale al valore di partenza: raggiunto', 'target equals baseline: reached')
      : t('obiettivo uguale al valore di partenza: non raggiunto', 'target equals baseline: not reached');
  if (i.beyondTarget)
    return t(
      `${pct}, limitato al 100%: il valore misurato ${measured} va oltre l’obiettivo`,
      `${pct}, capped at 100%: the measured ${measured} is beyond the target`,
    );
  if (i.wrongSide)
    return t(
      `${pct}: il valore misurato ${measured} si è allontanato dall’obiettivo, oltre il valore di partenza`,
      `${pct}: the measured ${measured} moved away from the target, past the baseline`,
    );
  if (i.reached) return t(`${pct}: obiettivo raggiunto`, `${pct}: target reached`);
  return t(`${pct} del percorso dal valore di partenza all’obiettivo`, `${pct} of the way from baseline to target`);
}

/** Which way is progress, in words, where it is not the usual "higher". */
const directionInWords = (i: IndicatorFigure, locale: Locale) =>
  i.target < i.baseline ? words(locale)('minore è meglio', 'lower is better') : '';

const themeName = (theme: Theme | null, locale: Locale) =>
  theme ? THEME_LABELS[locale][theme] : words(locale)('tutti i temi', 'all themes');
const callName = (callId: string | null, locale: Locale) => callId ?? words(locale)('tutti i bandi', 'all calls');

function statusesInWords(g: ImpactGroup, locale: Locale): string {
  const parts = PROJECT_STATUSES.filter((s) => g.statuses[s] > 0).map(
    (s) => `${g.statuses[s]} ${PROJECT_STATE_LABELS[locale][s]}`,
  );
  return parts.join(', ') || '—';
}

/** The figures every group row shows, in order, formatted. */
function groupCells(g: ImpactGroup, locale: Locale): string[] {
  const t = words(locale);
  return [
    String(g.projects),
    `${g.indicatorsMeasured} ${t('di', 'of')} ${g.indicators.length}`,
    String(g.indicatorsReached),
    g.averageAchievementBps === null
      ? t('nessuna misura', 'nothing measured')
      : percentIn(g.averageAchievementBps, locale),
    formatEuro(g.grantedCents, locale),
    formatEuro(g.disbursedCents, locale),
    formatEuro(g.recoveredCents, locale),
  ];
}

function groupHead(locale: Locale): Html {
  const t = words(locale);
  const cols = [
    t('Progetti', 'Projects'),
    t('Indicatori misurati', 'Indicators measured'),
    t('Obiettivi raggiunti', 'Targets reached'),
    t('Raggiungimento medio', 'Average achievement'),
    t('Concesso', 'Granted'),
    t('Erogato', 'Disbursed'),
    t('Recuperato', 'Recovered'),
  ];
  return html`${cols.map((c) => html`<th scope="col" class="num">${c}</th>`)}`;
}

const numCells = (cells: readonly string[]) => cells.map((c) => html`<td class="num">${c}</td>`);

/** A chart under its heading, then the table of the same figures (what a screen reader and a printout read). */
function chartWithTable(id: string, title: string, svg: string, table: Html): Html {
  // The chart module escapes every text from data itself (tests/unit/charts.test.ts): its SVG is markup.
  return html`<div class="chart-pair" role="group" aria-labelledby="${id}">
    <h3 id="${id}">${title}</h3>
    <figure class="chart">${new SafeHtml(svg)}</figure>
    ${table}
  </div>`;
}

function charts(report: ImpactReport, locale: Locale): Html {
  const t = words(locale);
  const svg = impactCharts(report, {
    locale,
    themeLabel: (theme) => THEME_LABELS[locale][theme],
    statusLabel: (status) => PROJECT_STATE_LABELS[locale][status],
  });
  const titles = {
    achievement: t('Raggiungimento degli obiettivi per tema', 'Achievement per theme'),
    money: t('Risorse per tema', 'Money per theme'),
    statuses: t('Progetti per stato', 'Projects by status'),
  };
  const caption = (title: string) =>
    html`<caption>
      ${title}: ${t('le cifre del grafico', "the chart's figures")}
    </caption>`;
  const achievement = html`<table id="t-achievement" class="figures">
    ${caption(titles.achievement)}
    <thead>
      <tr>
        <th scope="col">${t('Tema', 'Theme')}</th>
        <th scope="col" class="num">${t('Indicatori misurati', 'Indicators measured')}</th>
        <th scope="col" class="num">${t('Obiettivi raggiunti', 'Targets reached')}</th>
        <th scope="col" class="num">${t('Raggiungimento medio', 'Average achievement')}</th>
      </tr>
    </thead>
    <tbody>
      ${report.byTheme.map((g) => {
        const cells = groupCells(g, locale);
        return html`<tr>
          <th scope="row">${themeName(g.theme, locale)}</th>
          ${numCells([cells[1]!, cells[2]!, cells[3]!])}
        </tr>`;
      })}
    </tbody>
  </table>`;
  const money = html`<table id="t-money" class="figures">
    ${caption(titles.money)}
    <thead>
      <tr>
        <th scope="col">${t('Tema', 'Theme')}</th>
        <th scope="col" class="num">${t('Progetti', 'Projects')}</th>
        <th scope="col" class="num">${t('Concesso', 'Granted')}</th>
        <th scope="col" class="num">${t('Erogato', 'Disbursed')}</th>
        <th scope="col" class="num">${t('Recuperato', 'Recovered')}</th>
      </tr>
    </thead>
    <tbody>
      ${report.byTheme.map((g) => {
        const cells = groupCells(g, locale);
        return html`<tr>
          <th scope="row">${themeName(g.theme, locale)}</th>
          ${numCells([cells[0]!, cells[4]!, cells[5]!, cells[6]!])}
        </tr>`;
      })}
    </tbody>
  </table>`;
  const statuses = html`<table id="t-statuses" class="figures">
    ${caption(titles.statuses)}
    <thead>
      <tr>
        <th scope="col">${t('Stato', 'Status')}</th>
        <th scope="col" class="num">${t('Progetti', 'Projects')}</th>
      </tr>
    </thead>
    <tbody>
      ${PROJECT_STATUSES.filter((s) => report.total.statuses[s] > 0).map(
        (s) =>
          html`<tr>
            <th scope="row">${PROJECT_STATE_LABELS[locale][s]}</th>
            <td class="num">${report.total.statuses[s]}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
  return html`<section class="card" aria-labelledby="h-charts">
    <h2 id="h-charts">${t('In sintesi, per tema', 'At a glance, per theme')}</h2>
    <p class="hint">
      ${t(
        'Un progetto con più temi conta sotto ciascuno, con tutte le sue risorse: ' +
          'le righe per tema si sovrappongono e non si sommano al totale.',
        'A project with several themes counts under each, with all its money: ' +
          'theme rows overlap and do not add up to the total.',
      )}
    </p>
    ${chartWithTable('h-chart-achievement', titles.achievement, svg.achievement, achievement)}
    ${chartWithTable('h-chart-money', titles.money, svg.money, money)}
    ${chartWithTable('h-chart-statuses', titles.statuses, svg.statuses, statuses)}
  </section>`;
}

function totals(report: ImpactReport, locale: Locale): Html {
  const t = words(locale);
  const g = report.total;
  const cells = groupCells(g, locale);
  return html`<section class="card" aria-labelledby="h-total">
    <h2 id="h-total">${t('Totale', 'Total')}</h2>
    <dl class="facts" id="total">
      <dt>${t('Progetti finanziati', 'Funded projects')}</dt>
      <dd>${cells[0]} (${statusesInWords(g, locale)})</dd>
      <dt>${t('Indicatori misurati', 'Indicators measured')}</dt>
      <dd>${cells[1]}</dd>
      <dt>${t('Obiettivi raggiunti', 'Targets reached')}</dt>
      <dd>${cells[2]}</dd>
      <dt>${t('Raggiungimento medio', 'Average achievement')}</dt>
      <dd>${cells[3]}</dd>
      <dt>${t('Agevolazioni concesse', 'Support granted')}</dt>
      <dd>${cells[4]}</dd>
      <dt>${t('Erogato', 'Disbursed')}</dt>
      <dd>${cells[5]}</dd>
      <dt>${t('Recuperato (restituito)', 'Recovered (repaid)')}</dt>
      <dd>${cells[6]}</dd>
    </dl>
  </section>`;
}

function perCall(report: ImpactReport, locale: Locale): Html {
  const t = words(locale);
  return html`<section class="card" aria-labelledby="h-calls">
    <h2 id="h-calls">${t('Per bando', 'Per call')}</h2>
    <table id="t-calls" class="figures">
      <thead>
        <tr>
          <th scope="col">${t('Bando', 'Call')}</th>
          ${groupHead(locale)}
        </tr>
      </thead>
      <tbody>
        ${report.byCall.map(
          (g) =>
            html`<tr>
              <th scope="row" class="nowrap">${callName(g.callId, locale)}</th>
              ${numCells(groupCells(g, locale))}
            </tr>`,
        )}
      </tbody>
    </table>
    ${report.byCall.map((call) => {
      // One table per call, its themes as rows: a call column repeated on every row would not fit the page.
      const id = `t-call-${call.callId}-themes`.replace(/[^A-Za-z0-9-]/g, '-');
      return html`<table id="${id}" class="figures">
        <caption>
          ${t('Bando', 'Call')} ${callName(call.callId, locale)}: ${t('per tema', 'per theme')}
        </caption>
        <thead>
          <tr>
            <th scope="col">${t('Tema', 'Theme')}</th>
            ${groupHead(locale)}
          </tr>
        </thead>
        <tbody>
          ${report.byCallAndTheme
            .filter((g) => g.callId === call.callId)
            .map(
              (g) =>
                html`<tr>
                  <th scope="row">${themeName(g.theme, locale)}</th>
                  ${numCells(groupCells(g, locale))}
                </tr>`,
            )}
        </tbody>
      </table>`;
    })}
  </section>`;
}

function perTheme(report: ImpactReport, locale: Locale): Html {
  const t = words(locale);
  return html`<section class="card" aria-labelledby="h-themes">
    <h2 id="h-themes">
      ${t('Per tema: i progetti e i loro indicatori', 'Per theme: the projects and their indicators')}
    </h2>
    ${report.byTheme.map((g) => {
      const id = `theme-${g.theme}`;
      const cells = groupCells(g, locale);
      return html`<h3 id="h-${id}">${themeName(g.theme, locale)}</h3>
        <p>
          ${t('Progetti', 'Projects')}: ${cells[0]} (${statusesInWords(g, locale)}) · ${t('concesso', 'granted')}
          ${cells[4]} · ${t('erogato', 'disbursed')} ${cells[5]} · ${t('recuperato', 'recovered')} ${cells[6]}
        </p>
        <table id="t-${id}" class="figures" aria-labelledby="h-${id}">
          <thead>
            <tr>
              <th scope="col">${t('Bando', 'Call')}</th>
              <th scope="col">${t('Indicatore', 'Indicator')}</th>
              <th scope="col">${t('Unità', 'Unit')}</th>
              <th scope="col" class="num">${t('Partenza', 'Baseline')}</th>
              <th scope="col" class="num">${t('Obiettivo', 'Target')}</th>
              <th scope="col" class="num">${t('Misurato', 'Measured')}</th>
              <th scope="col">${t('Raggiungimento', 'Achievement')}</th>
            </tr>
          </thead>
          <tbody>
            ${g.indicators.map((i) => {
              const direction = directionInWords(i, locale);
              return html`<tr>
                <td class="nowrap">${i.callId}</td>
                <td>${i.name}</td>
                <td>${i.unit}</td>
                <td class="num">${number(i.baseline, locale)}</td>
                <td class="num">
                  ${number(i.target, locale)}${direction ? html`<br /><small>${direction}</small>` : ''}
                </td>
                <td class="num">${i.measured === null ? '—' : number(i.measured, locale)}</td>
                <td>${achievementInWords(i, locale)}</td>
              </tr>`;
            })}
          </tbody>
        </table>`;
    })}
  </section>`;
}

function filters(p: PageRequest, calls: readonly string[], query: Query, errors: FieldErrors): Html {
  const t = words(p.locale);
  const call = text(query.call);
  const theme = text(query.theme);
  const open = new URLSearchParams({
    ...(call ? { call } : {}),
    ...(theme ? { theme } : {}),
  });
  const csv = (format: string) => `/impact?${new URLSearchParams([['format', format], ...open]).toString()}`;
  return html`<section class="card" aria-labelledby="h-filters">
    <h2 id="h-filters">${t('Filtri', 'Filters')}</h2>
    <form method="get" action="/impatto" class="filters">
      <div class="row-grid">
        ${select({
          name: 'call',
          label: t('Bando', 'Call'),
          value: call,
          options: [
            ['', t('Tutti i bandi', 'All calls')],
            ...[...new Set([...calls, ...(call ? [call] : [])])].map((c) => [c, c] as const),
          ],
          errors,
        })}
        ${select({
          name: 'theme',
          label: t('Tema', 'Theme'),
          value: theme,
          options: [
            ['', t('Tutti i temi', 'All themes')],
            ...THEMES.map((th) => [th, THEME_LABELS[p.locale][th]] as const),
          ],
          errors,
        })}
      </div>
      <div class="actions">
        <button type="submit">${t('Applica i filtri', 'Apply the filters')}</button>
        <a href="/impatto">${t('Togli i filtri', 'Clear the filters')}</a>
      </div>
    </form>
    <p>
      ${t(
        'Dati aperti, senza dati personali, con questi filtri:',
        'Open data, with no personal data, with these filters:',
      )}
      <a href="${csv('csv')}" id="open-data-csv">${t('CSV per bando e tema', 'CSV per call and theme')}</a> ·
      <a href="${csv('indicators.csv')}" id="open-data-indicators"
        >${t('CSV degli indicatori', 'CSV of the indicators')}</a
      >
    </p>
  </section>`;
}

export function impactPages(app: FastifyInstance, deps: PagesDeps) {
  app.get('/impatto', async (req, reply) => {
    const p = await requireUser(deps, req, reply, ['operator', 'auditor']);
    if (!p) return reply;
    const t = words(p.locale);
    const query = (req.query ?? {}) as Query;
    const call = text(query.call);
    const theme = text(query.theme);
    const read = (q: Record<string, string>) =>
      runRoute<ImpactReport>(deps, 'GET', '/impact', { user: p.user, req, reply, query: { ...q, format: 'json' } });
    const title = t('Impatto del programma', "The programme's impact");
    const head = html`<p><a href="/area">← ${t('La sua area', 'Your area')}</a></p>
      <h1>${title}</h1>
      <p class="lede">
        ${t(
          'I progetti finanziati, i loro indicatori di impatto e le risorse, per tema e per bando: ' +
            'gli stessi numeri della API (/impact) e della CLI (innosocial impact).',
          'The funded projects, their impact indicators and the money, per theme and per call: ' +
            'the same figures as the API (/impact) and the CLI (innosocial impact).',
        )}
      </p>`;
    const everything = await read({});
    const calls = everything.byCall.map((g) => g.callId!);
    let report: ImpactReport;
    try {
      report = call || theme ? await read({ ...(call ? { call } : {}), ...(theme ? { theme } : {}) }) : everything;
    } catch (err) {
      if (!(err instanceof UserError) || err.code !== 'invalid_input') throw err;
      const explained = explain(err, p.locale);
      const errors: FieldErrors = {};
      for (const [field, messages] of Object.entries(explained.fields))
        errors[field] = messages.map(() =>
          field === 'theme'
            ? t('Scelga uno dei temi dell’elenco.', 'Choose one of the themes listed.')
            : t('Scelga uno dei bandi dell’elenco.', 'Choose one of the calls listed.'),
        );
      return send(
        p,
        statusOf(err),
        title,
        html`${head}
        ${notice('bad', [t('Filtro non valido: nessun dato mostrato.', 'A filter is not valid: no figures shown.')])}
        ${filters(p, calls, query, errors)}`,
      );
    }
    const body = report.total.projects
      ? html`${totals(report, p.locale)}${charts(report, p.locale)}${perCall(report, p.locale)}
        ${perTheme(report, p.locale)}`
      : html`<section class="card">
          <p>${t('Nessun progetto finanziato con questi filtri.', 'No funded project with these filters.')}</p>
        </section>`;
    return send(p, 200, title, html`${head}${filters(p, calls, query, {})}${body}`);
  });
}
