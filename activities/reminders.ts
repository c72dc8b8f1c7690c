import type { Deadline } from '../machines/deadlines';
import { enqueue } from '../notifications/outbox';
import { recipientsOfReminder } from '../notifications/recipients';
import type { ActivityDeps } from './effects/context';
import { peopleOf } from './effects/people';

export function reminderActivities(deps: ActivityDeps) {
  return {
    /**
     * Reminds whoever must act that a deadline approaches (or, with daysBefore 0, tells the operators it was missed
     * and escalated). One message per recipient, keyed by the deadline and the distance: a retry adds nothing.
     */
    async queueReminder(input: { applicationId: string; deadline: Deadline; daysBefore: number; state: string }) {
      return deps.db.transaction().execute(async (trx) => {
        const app = await trx
          .selectFrom('applications')
          .select(['call_id', 'consultant_id'])
          .where('id', '=', input.applicationId)
          .executeTakeFirstOrThrow();
        const people = await peopleOf({ trx, applicationId: input.applicationId, deps }, app.consultant_id);
        const recipients = recipientsOfReminder(input.deadline.kind, input.daysBefore, people);
        const { kind, dueAt } = input.deadline;
        for (const r of recipients) {
          const payload = {
            applicationId: input.applicationId,
            callId: app.call_id,
            audience: r.audience,
            recipientName: r.name,
            deadline: input.deadline,
            daysBefore: input.daysBefore,
            state: input.state,
          };
          await enqueue(trx, {
            ...(input.daysBefore === 0
              ? { template: 'deadline.escalation' as const, payload: { ...payload, daysBefore: 0 as const } }
              : { template: 'deadline.reminder' as const, payload }),
            idempotencyKey: `${input.applicationId}:reminder:${kind}:${dueAt}:${input.daysBefore}:${r.audience}:${r.address}`,
            applicationId: input.applicationId,
            recipient: r,
          } as never);
        }
        if (input.daysBefore === 0) {
          // Escalated instead of lapsing: the deadline stops running in the register as it does in the workflow,
          // so the next step of the same state does not bring the missed deadline back.
          await trx
            .updateTable('applications')
            .set({ deadline_kind: null, deadline_at: null })
            .where('id', '=', input.applicationId)
            .where('deadline_kind', '=', kind)
            .where('deadline_at', '=', new Date(dueAt))
            .execute();
        }
        return recipients.length;
      });
    },
  };
}
