/**
 * ApplicationFailure types that activities raise for a mistake in what a person sent (an unreadable upload, an
 * unknown consultant, a wrong confirmation code). Never retried; the workflow reports them to the sender as an
 * invalid command, with the offending fields as data (`details[0]`: { path, message }[]), and nothing changes.
 */
export const INPUT_ERROR = {
  document: 'InvalidDocument',
  assignment: 'InvalidAssignment',
  confirmation: 'InvalidConfirmation',
  session: 'InvalidSession',
  funding: 'InvalidFunding',
  /** Well formed, but it collides with what is recorded (a session already logged, or already answered): a 409. */
  conflict: 'ConflictingCommand',
} as const;

export const INPUT_ERROR_TYPES: readonly string[] = Object.values(INPUT_ERROR);
