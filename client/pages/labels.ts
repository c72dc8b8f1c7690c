import type { Locale } from '../../domain/format';
import type { Theme } from '../../domain/themes';
import type { DocumentKind } from '../../machines/events';

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
