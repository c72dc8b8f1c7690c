import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { budgetOverview, ledgerBalance } from '../../db/repositories/budget';
import { outboxFor } from '../../db/repositories/notifications';
import { render } from '../../notifications/templates';
import type { CallRules } from '../../domain/rules';
import { eventually } from '../support/eventually';
import { dayFromToday, rules2023 } from '../support/fixtures';
import { admitted, eightHours, inAccompaniment, registered, send } from '../support/journeys';
import { PEOPLE } from '../support/people';
import { startTestSystem, type TestSystem } from '../support/system';

let sys: TestSystem;

// Room for one grant of EUR 40,000 and a half: the second admission must wait for money.
const BUDGET = 6_000_000;
const OPERATOR = 'operatore@finpiemonte.example.org';
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30, budgetCents: BUDGET, env: { OPERATOR_EMAILS: OPERATOR } });
});
afterAll(async () => {
  await sys?.stop();
});

/** The messages `template` queued for the application, rendered as their recipients will read them. */
const mailed = async (id: string, template: string) =>
  (await outboxFor(sys.db, id))
    .filter((m) => m.template === template)
    .map((m) => ({ to: m.recipient, text: render(m.template, m.locale, m.payload).text }));

const reservations = (id: string) =>
  sys.db
    .selectFrom('budget_reservations')
    .select(['status', 'amount_cents'])
    .where('application_id', '=', id)
    .execute();

/** A later version of this test's call, as an operator would publish it. */
const publishRules = (version: number, change: Partial<CallRules>) =>
  writeFileSync(
    path.join(sys.config.CALLS_DIR, `${sys.callId}.v${version}.json`),
    JSON.stringify({ ...rules2023, budgetCents: BUDGET, ...change, callId: sys.callId, version }),
  );

describe('the call budget', () => {
  test('an admission beyond the budget waits in the reserve list and is promoted when money is freed', async () => {
    const first = await admitted(sys);
    expect(await sys.view(first)).toMatchObject({
      state: 'admitted',
      facts: { budget: 'reserved', budgetPosition: null },
      deadline: { kind: 'funding' },
    });
    expect(await reservations(first)).toEqual([{ status: 'reserved', amount_cents: expect.anything() }]);

    const second = await admitted(sys);
    const waiting = await sys.view(second);
    // The funding clock does not run while the money is not there.
    expect(waiting).toMatchObject({
      state: 'admitted',
      facts: { budget: 'waiting', budgetPosition: 1 },
      deadline: null,
    });
    expect(await budgetOverview(sys.db, sys.callId)).toMatchObject({
      totalCents: BUDGET,
      committedCents: 4_000_000,
      availableCents: 2_000_000,
      waiting: [expect.objectContaining({ applicationId: second, position: 1 })],
    });
    // The company learns it is admitted and where it waits; nobody is told money is reserved yet.
    const admission = await mailed(second, 'application.admitted');
    expect(admission.find((m) => m.to !== OPERATOR)?.text).toMatch(/reserve list, in place 1\b|al posto 1\b/);
    expect(await mailed(second, 'budget.reserved')).toEqual([]);
    await expect(
      send(sys, second, { type: 'RECORD_FUNDING', amountCents: 4_000_000, disbursedOn: dayFromToday(0) }),
    ).rejects.toMatchObject({
      code: 'event_refused',
      message: expect.stringMatching(/waits in the reserve list at position 1/),
    });

    await send(sys, first, { type: 'WITHDRAW', reason: 'the company renounces' }, PEOPLE.company);
    expect(await reservations(first)).toEqual([expect.objectContaining({ status: 'released' })]);
    // The withdrawal's step released the money and promoted the next in line in the ledger, in one transaction;
    // the workflow was then told to check the ledger, and recorded its new place.
    const promoted = await eventually(
      () => sys.view(second),
      (v) => v.facts?.budget === 'reserved',
    );
    expect(promoted).toMatchObject({
      facts: { budget: 'reserved', budgetPosition: null },
      deadline: { kind: 'funding' },
    });
    expect(promoted.timeline.at(-1)).toMatchObject({ event: 'RECORD_BUDGET', role: 'system', to: 'admitted' });
    // The promotion tells the company its support is secured and the operators they can now disburse it.
    const reserved = await mailed(second, 'budget.reserved');
    expect(reserved.map((m) => m.to === OPERATOR)).toEqual([false, true]);
    expect(reserved[1]!.text).toMatch(/disbursement can be recorded|registrare l'erogazione/);

    // A smaller disbursement than admitted frees the difference.
    await send(sys, second, { type: 'RECORD_FUNDING', amountCents: 3_500_000, disbursedOn: dayFromToday(0) });
    expect(await budgetOverview(sys.db, sys.callId)).toMatchObject({
      totalCents: BUDGET,
      committedCents: 3_500_000,
      availableCents: 2_500_000,
      waiting: [],
    });
    expect(await ledgerBalance(sys.db, sys.callId)).toBe(3_500_000);
    expect(await sys.view(second)).toMatchObject({ state: 'funded', fundedCents: 3_500_000 });
  });

  test('a funding above the admitted amount is refused and reserves nothing more', async () => {
    const before = await ledgerBalance(sys.db, sys.callId);
    const id = await admitted(sys, { eligibleCostCents: 4_000_000, grantCents: 2_000_000 });
    expect(await sys.view(id)).toMatchObject({ admittedCents: 2_000_000, facts: { budget: 'reserved' } });
    await expect(
      send(sys, id, { type: 'RECORD_FUNDING', amountCents: 2_000_001, disbursedOn: dayFromToday(0) }),
    ).rejects.toMatchObject({ code: 'event_refused' });
    // Nor is a disbursement dated after today (the system's clock runs 30 days ahead): nothing is recorded.
    await expect(
      send(sys, id, { type: 'RECORD_FUNDING', amountCents: 2_000_000, disbursedOn: dayFromToday(40) }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      details: [{ path: 'disbursedOn', message: expect.stringMatching(/is in the future/) }],
    });
    expect(await sys.view(id)).toMatchObject({ state: 'admitted' });
    expect(await ledgerBalance(sys.db, sys.callId)).toBe(before + 2_000_000);
  });
});

describe('rules pinned per application', () => {
  test('an application keeps the rules version it was submitted under, in the register and in its steps', async () => {
    const before = await inAccompaniment(sys);
    publishRules(2, { accompaniment: { minimumHours: 12 } });
    const after = await inAccompaniment(sys);
    expect(await sys.view(before)).toMatchObject({ rulesVersion: 1, facts: { requiredHours: 8 } });
    expect(await sys.view(after)).toMatchObject({ rulesVersion: 2, facts: { requiredHours: 12 } });

    // The same eight hours complete the first accompaniment and not the second.
    await eightHours(sys, before);
    await eightHours(sys, after);
    expect(await send(sys, before, { type: 'COMPLETE_ACCOMPANIMENT' })).toMatchObject({ state: 'pre_project' });
    await expect(send(sys, after, { type: 'COMPLETE_ACCOMPANIMENT' })).rejects.toMatchObject({
      code: 'event_refused',
      message: expect.stringContaining('the rules require at least 12 h'),
    });
  });

  test('a rules file with a bad field is refused naming the file and the field', async () => {
    publishRules(3, { grant: { ...rules2023.grant, maxShareBps: 12_000 } });
    await expect(registered(sys)).rejects.toMatchObject({
      code: 'invalid_input',
      details: [{ path: 'callId', message: expect.stringMatching(/\.v3\.json: grant\.maxShareBps: Too big/) }],
    });
    const pinned = await sys.db
      .selectFrom('applications')
      .select('rules_version')
      .where('call_id', '=', sys.callId)
      .execute();
    expect(pinned.map((r) => r.rules_version)).not.toContain(3);
  });
});
