import type { Locale } from '../../domain/format';
import type { Theme } from '../../domain/themes';
import type { DocumentKind } from '../../machines/events';
import type { ProjectState } from '../../machines/project.machine';

/** Codes people read on the pages, in both languages. */

export const THEME_LABELS: Record<Locale, Record<Theme, string>> = {
  it: {
    employment: 'Occupazione e inclusione lavorativa',
    environment: 'Ambiente e transizione verde',
    urban_regeneration: 'Rigenerazione urbana',
    sustainable_tourism: 'Turismo sostenibile e patrimonio',
    community_wellbeing: 'Benessere delle comunità',
  },
  en: {
    employment: 'Employment and inclusion at work',
    environment: 'Environment and green transition',
    urban_regeneration: 'Urban regeneration',
    sustainable_tourism: 'Sustainable tourism and heritage',
    community_wellbeing: 'Community well-being',
  },
};

export const COST_LABELS: Record<Locale, Record<string, string>> = {
  it: {
    equipment: 'Attrezzature',
    services: 'Servizi',
    personnel: 'Personale',
    works: 'Opere',
    intangible: 'Beni immateriali',
    other: 'Altro',
  },
  en: {
    equipment: 'Equipment',
    services: 'Services',
    personnel: 'Personnel',
    works: 'Works',
    intangible: 'Intangible assets',
    other: 'Other',
  },
};

export const DOCUMENT_LABELS: Record<Locale, Record<DocumentKind, string>> = {
  it: {
    pre_project: 'Pre-progetto',
    attachment: 'Allegato',
    integration: 'Integrazione',
    funding: 'Erogazione',
    indicator_evidence: 'Documentazione degli indicatori',
    invoice: 'Fattura',
    payment_proof: 'Quietanza di pagamento',
    interim_report: 'Relazione intermedia',
    observations: 'Osservazioni',
    other: 'Altro documento',
  },
  en: {
    pre_project: 'Pre-project',
    attachment: 'Attachment',
    integration: 'Integration',
    funding: 'Disbursement',
    indicator_evidence: 'Evidence for the indicators',
    invoice: 'Invoice',
    payment_proof: 'Proof of payment',
    interim_report: 'Interim report',
    observations: 'Observations',
    other: 'Other document',
  },
};

/** A funded project's state (and, on the impact page, its status: a settled project counts under its outcome). */
export const PROJECT_STATE_LABELS: Record<Locale, Record<ProjectState, string>> = {
  it: {
    in_progress: 'in realizzazione',
    final_report_due: 'relazione finale da inviare',
    under_verification: 'relazione finale in verifica',
    reduction_intended: 'riduzione comunicata, in attesa di osservazioni',
    revocation_intended: 'revoca comunicata, in attesa di osservazioni',
    closed: 'chiuso',
    reduced: 'ridotto',
    revoked: 'revocato',
    withdrawn: 'rinuncia',
    settled: 'chiuso, somme dovute restituite',
  },
  en: {
    in_progress: 'in progress',
    final_report_due: 'final report due',
    under_verification: 'final report under verification',
    reduction_intended: 'reduction intended, waiting for observations',
    revocation_intended: 'revocation intended, waiting for observations',
    closed: 'closed',
    reduced: 'reduced',
    revoked: 'revoked',
    withdrawn: 'withdrawn',
    settled: 'closed, everything owed repaid',
  },
};

export const RECOMMENDATION_LABELS: Record<Locale, Record<'approve' | 'reject' | 'request_integration', string>> = {
  it: { approve: 'Approvare', reject: 'Respingere', request_integration: 'Chiedere integrazioni' },
  en: { approve: 'Approve', reject: 'Reject', request_integration: 'Request integration' },
};

export const SIZE_LABELS: Record<Locale, Record<string, string>> = {
  it: { micro: 'micro impresa', small: 'piccola impresa' },
  en: { micro: 'micro enterprise', small: 'small enterprise' },
};

export const label = (table: Record<string, string>, code: string | null | undefined) =>
  code ? (table[code] ?? code) : '—';
