import { formatDay, formatEuro, type Locale } from '../../domain/format';
import type { ApplicationState } from '../../machines/application.machine';
import type { UserError } from '../errors';
import type { ProjectState } from '../../machines/project.machine';
import { PROJECT_STATE_LABELS } from './labels';
import { addError, words, type FieldErrors } from './layout';

/*
 * What the API says when it refuses (a 409 with the machine's reason, a 400 naming fields, a 403), as plain
 * sentences in the page's language, placed next to the field they concern. The reasons are the same the JSON API
 * gives: the pages only word them for people.
 */

export interface Explained {
  /** Sentences about the form as a whole, shown above it. */
  general: string[];
  fields: FieldErrors;
}

export const STATE_NAMES: Record<Locale, Record<ApplicationState, string>> = {
  it: {
    submitted: 'presentata',
    accompaniment: 'in accompagnamento',
    pre_project: 'pre-progetto in preparazione',
    commission: 'in valutazione dalla commissione',
    admitted: 'ammessa',
    rejected: 'non ammessa',
    funded: 'finanziata',
    withdrawn: 'ritirata (rinuncia)',
    lapsed: 'decaduta',
  },
  en: {
    submitted: 'submitted',
    accompaniment: 'in accompaniment',
    pre_project: 'pre-project being written',
    commission: 'under evaluation by the commission',
    admitted: 'admitted',
    rejected: 'rejected',
    funded: 'funded',
    withdrawn: 'withdrawn',
    lapsed: 'lapsed',
  },
};

const stateName = (locale: Locale, state: string) =>
  STATE_NAMES[locale][state as ApplicationState] ?? state.replace(/_/g, ' ');

/** A field path as the pages name their inputs: the JSON body's path without its envelope. */
export const fieldOf = (path: string) =>
  path.replace(/^(body|path|query)\./, '').replace(/^(preProject|session|document|report|observations)\./, '');

const euroOf = (cents: string, locale: Locale) => formatEuro(Number(cents), locale);

const projectStateName = (locale: Locale, state: string) =>
  PROJECT_STATE_LABELS[locale][state as ProjectState] ?? state.replace(/_/g, ' ');

/** An amount the machine wrote in English (domain/subsidy.ts euro: always two decimals), as the page writes it. */
const machineEuro = (amount: string, locale: Locale) => formatEuro(Number(amount.replace(/\D/g, '')), locale);

/** A day as the page writes it, when the machine wrote it YYYY-MM-DD. */
const dayOf = (day: string, locale: Locale) => (/^\d{4}-\d{2}-\d{2}$/.test(day) ? formatDay(day, locale) : day);

/**
 * One reason of the project's machine (machines/project.machine.ts: finalReportProblems, interimReportProblems), in
 * words, on the field of the report form it concerns. Lines are counted from 1 by the machine, from 0 by the form.
 */
function projectReasonInWords(reason: string, locale: Locale): { field?: string; text: string }[] | null {
  const t = words(locale);
  const row = (n: string) => Number(n) - 1;
  let m: RegExpExecArray | null;
  if ((m = /^indicator (\d+) \((.*)\) is missing: /s.exec(reason))) {
    return [
      {
        field: `indicators.${row(m[1]!)}.measured`,
        text: t(
          'Manca la misura di questo indicatore: valore, data ed evidenza.',
          'This indicator is not measured: give the value, the date and the evidence.',
        ),
      },
    ];
  }
  if (
    (m = /^indicator (\d+) \((.*)\) was measured on (\S+), before the project started \(disbursed on (\S+)\)$/s.exec(
      reason,
    ))
  ) {
    return [
      {
        field: `indicators.${row(m[1]!)}.measuredOn`,
        text: t(
          `La data della misura (${dayOf(m[3]!, locale)}) precede l’avvio del progetto, ` +
            `erogato il ${dayOf(m[4]!, locale)}.`,
          `The date measured (${dayOf(m[3]!, locale)}) is before the project started, ` +
            `disbursed on ${dayOf(m[4]!, locale)}.`,
        ),
      },
    ];
  }
  if ((m = /^cost line (\d+) \((.*)\) reports .* spent without any document/s.exec(reason))) {
    return [
      {
        field: `costLines.${row(m[1]!)}.documents`,
        text: t(
          'Una spesa va documentata: scelga o carichi le fatture di questa voce (o indichi 0 se non ha speso nulla).',
          'Money spent needs its documents: choose or upload the invoices for this line ' +
            '(or give 0 if nothing was spent).',
        ),
      },
    ];
  }
  // The verification's two rules (machines/project.machine.ts verificationProblems), on the line's own fields.
  if ((m = /^cost line (\d+) \((.*)\): (EUR [\d,.]+) accepted of the (EUR [\d,.]+) spent: a cut needs/s.exec(reason))) {
    return [
      {
        field: `costLines.${row(m[1]!)}.reason`,
        text: t(
          `Accetta ${machineEuro(m[3]!, locale)} su ${machineEuro(m[4]!, locale)} spesi: scriva il motivo del taglio.`,
          `You accept ${machineEuro(m[3]!, locale)} of the ${machineEuro(m[4]!, locale)} spent: give the reason ` +
            'for the cut.',
        ),
      },
    ];
  }
  if ((m = /^cost line (\d+) \((.*)\): (EUR [\d,.]+) accepted is more than the (EUR [\d,.]+) reported/s.exec(reason))) {
    return [
      {
        field: `costLines.${row(m[1]!)}.acceptedCents`,
        text: t(
          `Non si può accettare più di quanto speso (${machineEuro(m[4]!, locale)}).`,
          `No more than was spent (${machineEuro(m[4]!, locale)}) can be accepted.`,
        ),
      },
    ];
  }
  if ((m = /^cost line (\d+) \((.*)\) is missing: /s.exec(reason))) {
    return [
      {
        field: `costLines.${row(m[1]!)}.spentCents`,
        text: t(
          'Manca l’importo speso per questa voce (0 se nulla).',
          'The amount spent on this line is missing (0 if nothing).',
        ),
      },
    ];
  }
  if (
    (m =
      /^(indicator|cost line) (\d+) .*(is given \d+ times|is not in the pre-project|in the pre-project: check)/s.exec(
        reason,
      ))
  ) {
    const what = m[1] === 'indicator' ? t('L’indicatore', 'Indicator') : t('La voce di costo', 'Cost line');
    return [
      {
        text: t(
          `${what} ${m[2]} non corrisponde al pre-progetto ammesso: la relazione deve riportare ogni riga una volta, ` +
            'nell’ordine del pre-progetto.',
          `${what} ${m[2]} does not match the admitted pre-project: the report gives each line once, in its order.`,
        ),
      },
    ];
  }
  if ((m = /^the interim report is dated (\S+), before the project started \(disbursed on (\S+)\)$/.exec(reason))) {
    return [
      {
        field: 'asOf',
        text: t(
          `La data della relazione (${dayOf(m[1]!, locale)}) precede l’avvio del progetto, ` +
            `erogato il ${dayOf(m[2]!, locale)}.`,
          `The report's date (${dayOf(m[1]!, locale)}) is before the project started, ` +
            `disbursed on ${dayOf(m[2]!, locale)}.`,
        ),
      },
    ];
  }
  return null;
}

/** One reason of the machine, in words, and the field it concerns when there is one. */
function reasonInWords(reason: string, locale: Locale): { field?: string; text: string }[] {
  const t = words(locale);
  let m: RegExpExecArray | null;
  const project = projectReasonInWords(reason, locale);
  if (project) return project;
  if ((m = /^missing scores for (.+)$/.exec(reason))) {
    return m[1]!.split(', ').map((code) => ({
      field: `scores.${code}`,
      text: t('Manca il punteggio di questo criterio.', 'This criterion has no score.'),
    }));
  }
  if ((m = /^(\w+) above (\d+)$/.exec(reason))) {
    return [
      {
        field: `scores.${m[1]}`,
        text: t(
          `Il punteggio supera il massimo di ${m[2]} punti.`,
          `The score is above the maximum of ${m[2]} points.`,
        ),
      },
    ];
  }
  if ((m = /^unknown criteria (.+)$/.exec(reason))) {
    return [{ text: t(`Criteri sconosciuti: ${m[1]}.`, `Unknown criteria: ${m[1]}.`) }];
  }
  if (/^declare first whether you have a conflict of interest/.test(reason)) {
    return [
      {
        field: 'conflicted',
        text: t(
          'Prima di valutare, dichiari se ha un conflitto di interessi su questa domanda.',
          'Before evaluating, declare whether you have a conflict of interest on this application.',
        ),
      },
    ];
  }
  if (/declared a conflict of interest .*cannot (evaluate|decide)/.test(reason)) {
    return [
      {
        text: t(
          'Ha dichiarato un conflitto di interessi su questa domanda: non può valutarla né deciderla.',
          'You declared a conflict of interest on this application: you can neither evaluate nor decide it.',
        ),
      },
    ];
  }
  if (/^a declared conflict of interest is final/.test(reason)) {
    return [
      {
        field: 'conflicted',
        text: t('Un conflitto di interessi dichiarato è definitivo.', 'A declared conflict of interest is final.'),
      },
    ];
  }
  if ((m = /already evaluated pre-project v(\d+)/.exec(reason))) {
    return [
      {
        text: t(
          `Ha già valutato la versione ${m[1]} del pre-progetto: la sua valutazione e la sua dichiarazione restano.`,
          `You have already evaluated version ${m[1]} of the pre-project: your evaluation and declaration stand.`,
        ),
      },
    ];
  }
  if ((m = /^grant of (\d+) cents exceeds ([\d.]+)% of eligible cost \((\d+) cents at most\)/.exec(reason))) {
    return [
      {
        field: 'grantCents',
        text: t(
          `Il contributo (${euroOf(m[1]!, locale)}) supera il ${m[2]}% del costo ammissibile: al massimo ${euroOf(m[3]!, locale)}.`,
          `The grant (${euroOf(m[1]!, locale)}) is more than ${m[2]}% of the eligible cost: ${euroOf(m[3]!, locale)} at most.`,
        ),
      },
    ];
  }
  if ((m = /^indicator (\d+) \((.*)\) measures (\w+), which is not among the pre-project's themes$/.exec(reason))) {
    return [
      {
        field: `indicators.${Number(m[1]) - 1}.theme`,
        text: t(
          'Il tema di questo indicatore non è tra i temi del pre-progetto: lo aggiunga ai temi o cambi tema.',
          "This indicator's theme is not among the pre-project's themes: add it to the themes or change it.",
        ),
      },
    ];
  }
  if (/must name at least one impact theme/.test(reason)) {
    return [{ field: 'themes', text: t('Scelga almeno un tema di impatto.', 'Choose at least one impact theme.') }];
  }
  if (/must request a grant, a loan subsidy or both/.test(reason)) {
    return [
      {
        field: 'grantCents',
        text: t(
          'Chieda un contributo, un finanziamento agevolato o entrambi.',
          'Ask for a grant, a subsidised loan or both.',
        ),
      },
    ];
  }
  if ((m = /^the support requested \((\d+) cents.*de minimis room left to the company \((\d+) cents\)/.exec(reason))) {
    return [
      {
        field: 'grantCents',
        text: t(
          `L'agevolazione richiesta (${euroOf(m[1]!, locale)}) supera il margine de minimis dell'impresa (${euroOf(m[2]!, locale)}).`,
          `The support requested (${euroOf(m[1]!, locale)}) exceeds the company's de minimis room (${euroOf(m[2]!, locale)}).`,
        ),
      },
    ];
  }
  if (/^a session starting .* is already logged$/.test(reason)) {
    return [
      {
        field: 'start',
        text: t(
          'Una sessione che inizia a quest’ora è già registrata.',
          'A session starting at this time is already logged.',
        ),
      },
    ];
  }
  if ((m = /^loan\.(\w+): (.+)$/.exec(reason))) return [{ field: `loan.${m[1]}`, text: m[2]! }];
  if ((m = /^verified accompaniment hours are (.+?), the rules require at least (.+?)(?: \(|$)/.exec(reason))) {
    return [
      {
        text: t(
          `Le ore verificate sono ${m[1]}: ne servono almeno ${m[2]} confermate dall'impresa.`,
          `The verified hours are ${m[1]}: at least ${m[2]} confirmed by the company are needed.`,
        ),
      },
    ];
  }
  return [{ text: reason }];
}

/** A refusal of the API, worded for the page: general sentences and per-field messages. */
export function explain(err: UserError, locale: Locale): Explained {
  const t = words(locale);
  const out: Explained = { general: [], fields: {} };
  const put = (items: { field?: string; text: string }[]) => {
    for (const item of items) {
      if (item.field) addError(out.fields, item.field, item.text);
      else out.general.push(item.text);
    }
  };
  let m: RegExpExecArray | null;
  switch (err.code) {
    case 'invalid_input': {
      if (!err.details.length) put([{ text: err.message }]);
      for (const d of err.details) {
        const field = fieldOf(d.path);
        const message = /^(a date as YYYY-MM-DD|Invalid ISO date)/.test(d.message)
          ? t('Indichi una data valida.', 'Give a valid date.')
          : /^a time as HH:MM/.test(d.message)
            ? t('Indichi un orario come 09:30.', 'Give a time such as 09:30.')
            : /^end must be after start/.test(d.message)
              ? t("L'ora di fine deve seguire quella di inizio.", 'The end must come after the start.')
              : /is \d+ bytes, the limit is (\d+)/.test(d.message)
                ? t(
                    `Il file supera il limite di ${Math.floor(Number(/the limit is (\d+)/.exec(d.message)![1]) / 1000)} kB.`,
                    `The file is over the limit of ${Math.floor(Number(/the limit is (\d+)/.exec(d.message)![1]) / 1000)} kB.`,
                  )
                : /is not a PDF, ODT, DOCX or signed P7M file/.test(d.message)
                  ? t(
                      'Il file non è un PDF, ODT, DOCX o P7M firmato.',
                      'The file is not a PDF, ODT, DOCX or signed P7M.',
                    )
                  : / is empty$/.test(d.message)
                    ? t('Il file è vuoto.', 'The file is empty.')
                    : /is already logged/.test(d.message)
                      ? t(
                          'Una sessione che inizia a quest’ora è già registrata.',
                          'A session starting at this time is already logged.',
                        )
                      : d.message;
        put([{ field, text: message }]);
      }
      break;
    }
    case 'event_refused': {
      if ((m = /^the application is (\w+), a final state/.exec(err.message))) {
        put([
          {
            text: t(
              `La domanda è ${stateName(locale, m[1]!)}: non si può più modificare.`,
              `The application is ${stateName(locale, m[1]!)}: it can no longer change.`,
            ),
          },
        ]);
      } else if ((m = /^\w+ is not possible while the application is in (\w+)/.exec(err.message))) {
        put([
          {
            text: t(
              `Non è possibile ora: la domanda è ${stateName(locale, m[1]!)}.`,
              `Not possible now: the application is ${stateName(locale, m[1]!)}.`,
            ),
          },
        ]);
      } else if ((m = /^the project is (\w+), a final state/.exec(err.message))) {
        put([
          {
            text: t(
              `Il progetto è ${projectStateName(locale, m[1]!)}: non si può più modificare.`,
              `The project is ${projectStateName(locale, m[1]!)}: it can no longer change.`,
            ),
          },
        ]);
      } else if ((m = /^\w+ is not possible while the project is (\w+)/.exec(err.message))) {
        put([
          {
            text: t(
              `Non è possibile ora: il progetto è nello stato «${projectStateName(locale, m[1]!)}».`,
              `Not possible now: the project's state is “${projectStateName(locale, m[1]!)}”.`,
            ),
          },
        ]);
      } else if ((m = /^\w+ refused (?:in \w+|while the project is \w+): (.*)$/s.exec(err.message))) {
        for (const reason of m[1]!.split('; ')) put(reasonInWords(reason, locale));
      } else {
        put(reasonInWords(err.message, locale));
      }
      break;
    }
    case 'forbidden':
      if (/only the chair/.test(err.message)) {
        put([
          {
            text: t(
              'Solo il presidente della commissione registra la decisione.',
              'Only the chair of the commission records the decision.',
            ),
          },
        ]);
      } else put(reasonInWords(err.message, locale));
      break;
    case 'temporal_unavailable':
    case 'database_unavailable':
      put([
        {
          text: t(
            'Il sistema non risponde in questo momento: riprovi fra qualche minuto.',
            'The system is not answering right now: try again in a few minutes.',
          ),
        },
      ]);
      break;
    case 'rate_limited':
      put([
        {
          text: t('Troppi tentativi: attenda un minuto e riprovi.', 'Too many attempts: wait a minute and try again.'),
        },
      ]);
      break;
    default:
      put([{ text: err.message }]);
  }
  return out;
}

/** Why a logged session does not count (the hours' verification), in the page's language. */
export function discardedInWords(reason: string, locale: Locale): string {
  if (locale === 'en') return reason;
  return reason
    .replace(/: is not yet confirmed by the company$/, ": non ancora confermata dall'impresa")
    .replace(/: is in the future$/, ': è nel futuro')
    .replace(
      /: is before the implementing body was assigned on (\S+)$/,
      ": precede l'assegnazione del soggetto attuatore ($1)",
    )
    .replace(/: overlaps the company's session (.+)$/, ": si sovrappone alla sessione dell'impresa $1")
    .replace(
      /: consultant \S+ was in another company's session (.+)$/,
      ": il consulente era in una sessione di un'altra impresa ($1)",
    )
    .replace(
      /: only (\d+) of (\d+) minutes count, at most (\d+) h a day$/,
      ': contano solo $1 minuti su $2, al massimo $3 ore al giorno',
    );
}
