/**
 * ApplicationFailure types that activities raise for a mistake in what a person sent (an unreadable upload, an
 * unknown implementing body, a wrong confirmation code). Never retried; the workflow reports them to the sender
 * as an invalid command and the application carries on unchanged.
 */
export const INPUT_ERROR = {
  document: 'InvalidDocument',
  assignment: 'InvalidAssignment',
  confirmation: 'InvalidConfirmation',
} as const;

export const INPUT_ERROR_TYPES: readonly string[] = Object.values(INPUT_ERROR);
