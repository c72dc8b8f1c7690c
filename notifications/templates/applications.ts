import type { Locale } from '../../domain/format';
import type { ApplicationState } from '../../machines/application.machine';
import { consultantWords, hoursWords } from './common';
import { stateTemplate, type TransitionPayload } from './transition';

const who = (p: TransitionPayload, locale: Locale) => consultantWords(locale, p.consultantName, p.bodyName);
const body = (p: TransitionPayload, locale: Locale) =>
  p.bodyName ?? (locale === 'it' ? 'il soggetto attuatore' : 'the implementing body');

export const APPLICATION_TEMPLATES = {
  'application.submitted': stateTemplate('submitted', {
    it: (p) => ({
      state: 'domanda ricevuta',
      paragraphs: [
        `abbiamo ricevuto la domanda ${p.applicationId} di ${p.companyName} al bando ${p.callId} di ` +
          "InnoSocialMetro. Ora ne verifichiamo l'ammissibilità; riceverà un messaggio a ogni cambio di stato.",
      ],
    }),
    en: (p) => ({
      state: 'application received',
      paragraphs: [
        `We have received application ${p.applicationId} of ${p.companyName} to the InnoSocialMetro call ` +
          `${p.callId}. Its eligibility is now being checked; you will receive a message at every change of state.`,
      ],
    }),
  }),
  'application.accompaniment': stateTemplate('accompaniment', {
    it: (p) => ({
      state: 'percorso di accompagnamento avviato',
      paragraphs: [
        `per la domanda ${p.applicationId} di ${p.companyName} è stato avviato il percorso di accompagnamento ` +
          `con ${who(p, 'it')}: almeno ${hoursWords(p.minimumHours, 'it')} in cui si definisce il progetto di ` +
          "innovazione e se ne valuta l'impatto sociale (pre-progetto).",
        ...(p.audience === 'company'
          ? ["Per ogni sessione registrata riceverà un'e-mail per confermarla: contano solo le sessioni confermate."]
          : []),
      ],
    }),
    en: (p) => ({
      state: 'accompaniment started',
      paragraphs: [
        `The accompaniment of application ${p.applicationId} of ${p.companyName} with ${who(p, 'en')} has ` +
          `started: at least ${hoursWords(p.minimumHours, 'en')} in which the innovation project is defined and ` +
          'its social impact assessed (the pre-project).',
        ...(p.audience === 'company'
          ? ['You will receive an e-mail to confirm each logged session: only confirmed sessions count.']
          : []),
      ],
    }),
  }),
  'application.pre_project': stateTemplate('pre_project', {
    it: (p) =>
      p.from === 'commission'
        ? {
            state: 'richiesta di integrazioni',
            paragraphs: [
              `la Commissione di Valutazione ha chiesto integrazioni al pre-progetto della domanda ` +
                `${p.applicationId} di ${p.companyName}. Il pre-progetto torna in lavorazione con ${body(p, 'it')} ` +
                'e va ripresentato entro la scadenza indicata.',
            ],
          }
        : {
            state: 'pre-progetto in preparazione',
            paragraphs: [
              `il percorso di accompagnamento della domanda ${p.applicationId} di ${p.companyName} è concluso: ` +
                `il pre-progetto è in preparazione con ${body(p, 'it')}, che lo presenterà alla Commissione di ` +
                'Valutazione.',
            ],
          },
    en: (p) =>
      p.from === 'commission'
        ? {
            state: 'integration requested',
            paragraphs: [
              `The evaluation commission has requested integrations to the pre-project of application ` +
                `${p.applicationId} of ${p.companyName}. The pre-project goes back to ${body(p, 'en')} and must ` +
                'be resubmitted by the deadline below.',
            ],
          }
        : {
            state: 'pre-project in preparation',
            paragraphs: [
              `The accompaniment of application ${p.applicationId} of ${p.companyName} is complete: the ` +
                `pre-project is being prepared with ${body(p, 'en')}, which will submit it to the evaluation ` +
                'commission.',
            ],
          },
  }),
  'application.commission': stateTemplate('commission', {
    it: (p) => ({
      state: "all'esame della Commissione di Valutazione",
      paragraphs: [
        `il pre-progetto della domanda ${p.applicationId} di ${p.companyName} è stato trasmesso alla ` +
          "Commissione di Valutazione, che lo esamina e decide sull'ammissione all'agevolazione.",
        ...(p.audience === 'commission'
          ? ['Prima di valutarlo dichiari se ha un conflitto di interessi; la decisione è attesa entro la scadenza.']
          : []),
      ],
    }),
    en: (p) => ({
      state: 'under review by the evaluation commission',
      paragraphs: [
        `The pre-project of application ${p.applicationId} of ${p.companyName} has been forwarded to the ` +
          'evaluation commission, which reviews it and decides on admission to the financial support.',
        ...(p.audience === 'commission'
          ? [
              'Before evaluating it, declare whether you have a conflict of interest; a decision is due by the ' +
                'deadline.',
            ]
          : []),
      ],
    }),
  }),
  'application.admitted': stateTemplate('admitted', {
    it: (p) => ({
      state: "ammessa all'agevolazione",
      paragraphs: [
        `la Commissione di Valutazione ha validato il pre-progetto: la domanda ${p.applicationId} di ` +
          `${p.companyName} è ammessa all'agevolazione del bando ${p.callId}.`,
        ...(p.reserveListPosition === null
          ? []
          : [
              `Le risorse del bando sono al momento tutte impegnate: la domanda è in lista d'attesa, al posto ` +
                `${p.reserveListPosition}. Riceverà un messaggio quando le risorse saranno disponibili.`,
            ]),
      ],
      amountLabel: 'Agevolazione concessa',
    }),
    en: (p) => ({
      state: 'admitted to financial support',
      paragraphs: [
        `The evaluation commission has validated the pre-project: application ${p.applicationId} of ` +
          `${p.companyName} is admitted to the financial support of call ${p.callId}.`,
        ...(p.reserveListPosition === null
          ? []
          : [
              `The call's money is all committed for now: the application waits on the reserve list, in place ` +
                `${p.reserveListPosition}. You will receive a message when the money is available.`,
            ]),
      ],
      amountLabel: 'Support granted',
    }),
  }),
  'application.rejected': stateTemplate('rejected', {
    it: (p) => ({
      state: 'non ammessa',
      paragraphs: [
        p.from === 'submitted'
          ? `la domanda ${p.applicationId} di ${p.companyName} non è ammissibile al bando ${p.callId}: ` +
            "l'impresa non ne soddisfa i requisiti."
          : `la Commissione di Valutazione non ha ammesso la domanda ${p.applicationId} di ${p.companyName} ` +
            `all'agevolazione del bando ${p.callId}.`,
      ],
    }),
    en: (p) => ({
      state: 'rejected',
      paragraphs: [
        p.from === 'submitted'
          ? `Application ${p.applicationId} of ${p.companyName} is not eligible for call ${p.callId}: the ` +
            'company does not meet its requirements.'
          : `The evaluation commission has not admitted application ${p.applicationId} of ${p.companyName} ` +
            `to the financial support of call ${p.callId}.`,
      ],
    }),
  }),
  'application.funded': stateTemplate('funded', {
    it: (p) => ({
      state: 'agevolazione erogata',
      paragraphs: [`l'agevolazione della domanda ${p.applicationId} di ${p.companyName} è stata erogata.`],
      amountLabel: 'Importo erogato',
    }),
    en: (p) => ({
      state: 'funded, financial support disbursed',
      paragraphs: [`The financial support of application ${p.applicationId} of ${p.companyName} has been disbursed.`],
      amountLabel: 'Amount disbursed',
    }),
  }),
  'application.withdrawn': stateTemplate('withdrawn', {
    it: (p) =>
      p.actorRole === 'company'
        ? {
            state: 'rinuncia registrata, domanda ritirata',
            paragraphs: [
              `abbiamo registrato la rinuncia di ${p.companyName}: la domanda ${p.applicationId} è ritirata e ` +
                'il procedimento è chiuso.',
            ],
          }
        : {
            state: p.actorRole === 'operator' ? 'domanda ritirata da un operatore' : 'domanda ritirata',
            paragraphs: [
              `la domanda ${p.applicationId} di ${p.companyName} è stata ritirata` +
                `${p.actorRole === 'operator' ? ' da un operatore del programma' : ''}: il procedimento è chiuso.`,
            ],
          },
    en: (p) =>
      p.actorRole === 'company'
        ? {
            state: 'withdrawal recorded, application withdrawn',
            paragraphs: [
              `The withdrawal of ${p.companyName} has been recorded: application ${p.applicationId} is ` +
                'withdrawn and the procedure is closed.',
            ],
          }
        : {
            state: p.actorRole === 'operator' ? 'application withdrawn by an operator' : 'application withdrawn',
            paragraphs: [
              `Application ${p.applicationId} of ${p.companyName} has been withdrawn` +
                `${p.actorRole === 'operator' ? ' by an operator of the programme' : ''}: the procedure is closed.`,
            ],
          },
  }),
  'application.lapsed': stateTemplate('lapsed', {
    it: (p) => ({
      state: 'domanda decaduta',
      paragraphs: [
        `una scadenza del procedimento non è stata rispettata: la domanda ${p.applicationId} di ` +
          `${p.companyName} è decaduta e il procedimento è chiuso.`,
      ],
    }),
    en: (p) => ({
      state: 'application lapsed',
      paragraphs: [
        `A deadline of the procedure was missed: application ${p.applicationId} of ${p.companyName} has lapsed ` +
          'and the procedure is closed.',
      ],
    }),
  }),
} satisfies Record<`application.${ApplicationState}`, unknown>;
