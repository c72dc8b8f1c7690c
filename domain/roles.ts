/**
 * Who acts in the programme (DOMAIN.md, "People"). People with an account (the user roles) sign in with a token
 * or an e-mailed link; the company acts through the link or code it receives by e-mail; `system` is the workflow
 * itself (eligibility, verified hours, the budget ledger, deadlines).
 */
export const ROLES = ['operator', 'consultant', 'commission', 'auditor', 'company', 'system'] as const;
export type Role = (typeof ROLES)[number];

export const USER_ROLES = ['operator', 'consultant', 'commission', 'auditor'] as const satisfies readonly Role[];
export type UserRole = (typeof USER_ROLES)[number];

/** Roles that read everything and write nothing, or write as the managing body: they see every application. */
export const STAFF_WHO_SEE_ALL: readonly UserRole[] = ['operator', 'auditor'];
