import { randomUUID } from 'node:crypto';
import type { ApplicationCommand } from '../../machines/events';
import { actorFor } from './actors';
import { dayFromToday, preProject, session } from './fixtures';
import { confirmationCode, type TestSystem } from './system';

type Sys = Pick<TestSystem, 'service' | 'db' | 'form'>;
const operator = { actor: 'op.rossi', role: 'operator' as const };

async function untilEligible(sys: Sys, id: string) {
  for (let i = 0; i < 100 && (await sys.service.view(id)).facts.eligibility === 'pending'; i++)
    await new Promise((r) => setTimeout(r, 50));
}

const steps = async (sys: Sys, id: string, events: ApplicationCommand[]) => {
  for (const e of events) await sys.service.send(id, e, actorFor(e));
};

/** A registered, eligible application in its accompaniment with the given body and a consultant of its own. */
export async function inAccompaniment(sys: Sys, body = 'i3p'): Promise<string> {
  const { applicationId: id } = await sys.service.apply(sys.form(), operator);
  await untilEligible(sys, id);
  await steps(sys, id, [
    {
      type: 'ASSIGN_BODY',
      implementingBody: body,
      consultant: { name: 'Anna', email: `anna.${randomUUID().slice(0, 8)}@${body}.example.org` },
    },
  ]);
  return id;
}

/** An application whose pre-project waits for the commission's evaluation. */
export async function inCommission(sys: Sys, body = 'i3p'): Promise<string> {
  const id = await inAccompaniment(sys, body);
  const day = dayFromToday(1);
  await steps(sys, id, [{ type: 'LOG_SESSION', session: session(day, '09:00', '17:00') }]);
  await steps(sys, id, [
    { type: 'CONFIRM_SESSION', date: day, start: '09:00', code: await confirmationCode(sys.db, id, day, '09:00') },
    { type: 'COMPLETE_ACCOMPANIMENT' },
    { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() },
    { type: 'FORWARD_TO_COMMISSION' },
  ]);
  return id;
}
