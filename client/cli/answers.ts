import type { ApplicationSummary } from '../service/register';

/** What the API answers, as the CLI reads it (client/api/schemas.ts is the definition). */
export interface Registration {
  applicationId: string;
  eligible: boolean;
  reasons: { code: string; field: string; message: string }[];
  sizeClass: 'micro' | 'small' | null;
  state: string;
}

export interface ApplicationList {
  items: ApplicationSummary[];
  next: string | null;
}
