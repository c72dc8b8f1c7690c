import type { ApplicationState } from '../machines/application.machine';
import type { DeadlineKind } from '../machines/deadlines';
import type { Addressee } from './outbox';
import type { Audience, Locale } from './templates';

export interface Recipient extends Addressee {
  audience: Audience;
}

/** The people an application's messages can reach. */
export interface Interested {
  /** The legal representative, in the language of the application form. */
  company: { address: string; locale: Locale; name: string | null };
  /** The consultant assigned, once there is one. */
  consultant: { address: string; name: string | null } | null;
  /** Addresses from the configuration: no names, so they are greeted by role. */
  operators: readonly string[];
  commission: readonly string[];
}

// Staff accounts have no language of their own: the programme's staff work in Italian.
const STAFF_LOCALE: Locale = 'it';

/**
 * Who hears of a new state: the company always; the consultant while the accompaniment and its outcome concern
 * them; operators when they must act (record the disbursement) or an application closes early; the commission
 * when a pre-project reaches it. A new state fails to compile until it is given its audience here.
 */
const ON_STATE: Record<ApplicationState, readonly Audience[]> = {
  submitted: ['company'],
  accompaniment: ['company', 'consultant'],
  pre_project: ['company', 'consultant'],
  commission: ['company', 'consultant', 'commission'],
  admitted: ['company', 'consultant', 'operator'],
  rejected: ['company', 'consultant'],
  funded: ['company'],
  withdrawn: ['company', 'consultant', 'operator'],
  lapsed: ['company', 'consultant', 'operator'],
};

/** Who must act before each deadline, and so is reminded of it. */
const BEFORE_DEADLINE: Record<DeadlineKind, readonly Audience[]> = {
  accompaniment: ['company', 'consultant'],
  integration_answer: ['company', 'consultant'],
  commission_decision: ['commission', 'operator'],
  funding: ['operator'],
};

function reach(audiences: readonly Audience[], people: Interested): Recipient[] {
  const staff = (audience: Audience, addresses: readonly string[]) =>
    addresses.map((address) => ({ audience, address, locale: STAFF_LOCALE, name: null }));
  return audiences.flatMap((audience): Recipient[] => {
    switch (audience) {
      case 'company':
        return [{ audience, ...people.company }];
      case 'consultant':
        return people.consultant ? [{ audience, locale: STAFF_LOCALE, ...people.consultant }] : [];
      case 'operator':
        return staff(audience, people.operators);
      case 'commission':
        return staff(audience, people.commission);
    }
  });
}

/** The recipients of `application.<state>`, in a stable order (company, consultant, staff). */
export function recipientsOfState(state: ApplicationState, people: Interested): Recipient[] {
  return reach(ON_STATE[state], people);
}

/**
 * The recipients of a deadline reminder; with `daysBefore` 0 the deadline has passed and the rules escalate it:
 * the operators alone hear of it.
 */
export function recipientsOfReminder(deadline: DeadlineKind, daysBefore: number, people: Interested): Recipient[] {
  return reach(daysBefore === 0 ? ['operator'] : BEFORE_DEADLINE[deadline], people);
}

/** Who hears that a waiting admission's money is reserved: the company, and the operators who disburse it. */
export function recipientsOfReservation(people: Interested): Recipient[] {
  return reach(['company', 'operator'], people);
}
