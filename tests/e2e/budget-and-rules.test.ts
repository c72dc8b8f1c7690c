import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { budgetOverview, ledgerBalance } from '../../db/repositories/budget';
import type { ApplicationCommand } from '../../machines/events';
import type { CommandMeta } from '../../workflows/messages';
import { dayFromToday, preProject, rules2023, session } from '../support/fixtures';
import { actorFor } from '../support/actors';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

const operator: CommandMeta = { actor: 'op', role: 'operator' };
let sys: TestSystem;

// Room for one grant of EUR 40,000 and a half: the second admission must wait for money.
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30, budgetCents: 6_000_000 });
});
afterAll(async () => {
  await sys?.stop();
});

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let value = await probe();
  for (let i = 0; i < 100 && !ok(value); i++) {
    await new Promise((r) => setTimeout(r, 50));
    value = await probe();
  }
  return value;
}

async function admitted(): Promise<string> {
  const { applicationId: id } = await sys.service.apply(sys.form(), operator);
  await until(
    () => sys.service.view(id),
    (v) => v.facts.eligibility !== 'pending',
  );
  const day = dayFromToday(1);
  const tag = randomUUID().slice(0, 8);
  const steps = async (events: ApplicationCommand[]) => {
    for (const e of events) await sys.service.send(id, e, actorFor(e));
  };
  await steps([
    {
      type: 'ASSIGN_BODY',
      implementingBody: 'redrim',
      consultant: { name: 'Rita', email: `rita.${tag}@redrim.example.org` },
    },
    { type: 'LOG_SESSION', session: session(day, '09:00', '17:00') },
  ]);
  await steps([
    { type: 'CONFIRM_SESSION', date: day, start: '09:00', code: await confirmationCode(sys.db, id, day, '09:00') },
    { type: 'COMPLETE_ACCOMPANIMENT' },
    { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() },
    { type: 'FORWARD_TO_COMMISSION' },
    { type: 'APPROVE', motivation: 'fits the call' },
  ]);
  return id;
}

test('an admission beyond the budget waits in the reserve list and is promoted when money is freed', async () => {
  const first = await admitted();
  const second = await admitted();
  expect(await sys.service.view(first)).toMatchObject({
    state: 'admitted',
    facts: { budget: 'reserved' },
    deadline: { kind: 'funding' },
  });
  const waiting = await sys.service.view(second);
  expect(waiting).toMatchObject({ state: 'admitted', facts: { budget: 'waiting', budgetPosition: 1 }, deadline: null });
  await expect(
    sys.service.send(
      second,
      { type: 'RECORD_FUNDING', amountCents: 4_000_000, disbursedOn: dayFromToday(0) },
      operator,
    ),
  ).rejects.toMatchObject({
    code: 'event_refused',
    message: expect.stringMatching(/waits in the reserve list at position 1/),
  });

  await sys.service.send(first, { type: 'WITHDRAW', reason: 'the company renounces' }, operator);
  // The withdrawal released the money and signalled the next in line, which checked the ledger.
  const promoted = await until(
    () => sys.service.view(second),
    (v) => v.facts.budget === 'reserved',
  );
  expect(promoted).toMatchObject({
    facts: { budget: 'reserved', budgetPosition: null },
    deadline: { kind: 'funding' },
  });
  // A smaller disbursement than admitted frees the difference.
  await sys.service.send(
    second,
    { type: 'RECORD_FUNDING', amountCents: 3_500_000, disbursedOn: dayFromToday(0) },
    operator,
  );

  const overview = await budgetOverview(sys.db, sys.callId);
  expect(overview).toMatchObject({
    totalCents: 6_000_000,
    committedCents: 3_500_000,
    availableCents: 2_500_000,
    waiting: [],
  });
  expect(await ledgerBalance(sys.db, sys.callId)).toBe(3_500_000);
});

test('an application keeps the rules version it was submitted under', async () => {
  const { applicationId: before } = await sys.service.apply(sys.form(), operator);
  writeFileSync(
    path.join(sys.config.CALLS_DIR, `${sys.callId}.v2.json`),
    JSON.stringify({ ...rules2023, callId: sys.callId, version: 2, accompaniment: { minimumHours: 12 } }),
  );
  const { applicationId: after } = await sys.service.apply(sys.form(), operator);
  expect(await sys.service.view(before)).toMatchObject({ rulesVersion: 1, facts: { requiredHours: 8 } });
  expect(await sys.service.view(after)).toMatchObject({ rulesVersion: 2, facts: { requiredHours: 12 } });
});

test('a rules file with a bad field is refused naming the file and the field', async () => {
  writeFileSync(
    path.join(sys.config.CALLS_DIR, `${sys.callId}.v3.json`),
    JSON.stringify({ ...rules2023, callId: sys.callId, version: 3, grant: { maxShareBps: 12_000 } }),
  );
  await expect(sys.service.apply(sys.form(), operator)).rejects.toMatchObject({
    code: 'invalid_input',
    message: expect.stringMatching(/\.v3\.json: grant\.maxShareBps: Too big/),
  });
});
