import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed search attributes: what staff filter on in the Temporal UI. No personal data goes here. */
export const SA = {
  state: defineSearchAttributeKey('ApplicationState', SearchAttributeType.KEYWORD),
  themes: defineSearchAttributeKey('ApplicationThemes', SearchAttributeType.KEYWORD_LIST),
  body: defineSearchAttributeKey('ImplementingBody', SearchAttributeType.KEYWORD),
  call: defineSearchAttributeKey('CallId', SearchAttributeType.KEYWORD),
  /** Grant plus interest subsidy the pre-project asks, in euro cents. */
  requestedCents: defineSearchAttributeKey('RequestedCents', SearchAttributeType.INT),
  admittedCents: defineSearchAttributeKey('AdmittedCents', SearchAttributeType.INT),
  /** When the running deadline falls due; empty when none runs. */
  deadline: defineSearchAttributeKey('DeadlineAt', SearchAttributeType.DATETIME),
  /** A funded project's state (its own workflow): in_progress, final_report_due, under_verification... */
  projectState: defineSearchAttributeKey('ProjectState', SearchAttributeType.KEYWORD),
} as const;

export const ALL_SEARCH_ATTRIBUTES = Object.values(SA);
