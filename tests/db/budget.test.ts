import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../db/connect';
import {
  adjust,
  budgetOverview,
  budgetPlace,
  consume,
  ensureCallBudget,
  ledgerBalance,
  openCallBudget,
  release,
  reserve,
  type BudgetErrorCode,
  type ReserveOutcome,
} from '../../db/repositories/budget';
import { backends, openTestDb } from '../support/database';

describe.each(backends)('call budget ledger against %s', (backend) => {
  let db: Db;

  beforeAll(async () => {
    db = await openTestDb(backend);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  /** A call of its own per test, so the shared PostgreSQL database never mixes runs. */
  async function newCall(totalCents: number): Promise<string> {
    const callId = `test-budget-${randomUUID()}`;
    await ensureCallBudget(db, callId, totalCents);
    return callId;
  }

  /** Minimal applications rows (the reservations' foreign key), unique ids and VAT numbers. */
  async function applications(callId: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => `test.budget.${randomUUID()}`);
    await db
      .insertInto('applications')
      .values(
        ids.map((id) => ({
          id,
          call_id: callId,
          rules_version: 1,
          vat_number: `vat-${randomUUID()}`,
          legal_name: 'Test srl',
          representative_email: 'legale@example.org',
          form: JSON.stringify({}),
          state: 'admitted',
          last_seq: 0,
          facts: JSON.stringify({}),
        })),
      )
      .execute();
    return ids;
  }

  const ledgerRows = (callId: string) =>
    db.selectFrom('budget_ledger').selectAll().where('call_id', '=', callId).orderBy('id').execute();

  async function expectBalanced(callId: string) {
    const overview = await budgetOverview(db, callId);
    expect(await ledgerBalance(db, callId)).toBe(overview!.committedCents);
    const held = [...overview!.reserved, ...overview!.consumed].reduce((sum, r) => sum + r.amountCents, 0);
    expect(held).toBe(overview!.committedCents);
    return overview!;
  }

  test('reserves within the budget, and the overview shows numbers, not strings', async () => {
    const callId = await newCall(100_000);
    const [a, b] = await applications(callId, 2);
    await expect(reserve(db, { applicationId: a!, callId, amountCents: 60_000 })).resolves.toEqual({
      status: 'reserved',
    });
    await expect(reserve(db, { applicationId: b!, callId, amountCents: 40_000 })).resolves.toEqual({
      status: 'reserved',
    });
    const overview = await expectBalanced(callId);
    expect(overview).toMatchObject({ totalCents: 100_000, committedCents: 100_000, availableCents: 0, waiting: [] });
    expect(overview.reserved.map((r) => [r.applicationId, r.amountCents])).toEqual([
      [a, 60_000],
      [b, 40_000],
    ]);
  });

  test('the database itself refuses over-commitment', async () => {
    const callId = await newCall(50_000);
    const [a, b] = await applications(callId, 2);
    await reserve(db, { applicationId: a!, callId, amountCents: 30_000 });
    // Too much: the conditional UPDATE touches no row, so the application waits.
    await expect(reserve(db, { applicationId: b!, callId, amountCents: 30_000 })).resolves.toEqual({
      status: 'waiting',
      position: 1,
    });
    // And a writer that bypasses the repository is stopped by the CHECK constraint.
    await expect(
      sql`update call_budgets set committed_cents = committed_cents + 30000 where call_id = ${callId}`.execute(db),
    ).rejects.toThrow(/call_budgets_committed_within_total/);
    await expect(
      sql`update call_budgets set total_cents = 10000 where call_id = ${callId}`.execute(db),
    ).rejects.toThrow(/call_budgets_committed_within_total/);
    await expect(ensureCallBudget(db, callId, 10_000)).rejects.toThrow(/already committed/);
    // The ledger is append-only.
    await expect(sql`delete from budget_ledger where call_id = ${callId}`.execute(db)).rejects.toThrow(/append-only/);
    expect((await expectBalanced(callId)).committedCents).toBe(30_000);
  });

  test('strict FIFO: a small application waits behind a waiting one; a release promotes while it fits', async () => {
    const callId = await newCall(100_000);
    const [a, b, c, d, e] = await applications(callId, 5);
    expect(await reserve(db, { applicationId: a!, callId, amountCents: 70_000 })).toEqual({ status: 'reserved' });
    expect(await reserve(db, { applicationId: b!, callId, amountCents: 50_000 })).toEqual({
      status: 'waiting',
      position: 1,
    });
    // 10,000 would fit, but b is waiting: no overtaking.
    expect(await reserve(db, { applicationId: c!, callId, amountCents: 10_000 })).toEqual({
      status: 'waiting',
      position: 2,
    });
    expect(await reserve(db, { applicationId: d!, callId, amountCents: 40_000 })).toEqual({
      status: 'waiting',
      position: 3,
    });
    expect(await reserve(db, { applicationId: e!, callId, amountCents: 5_000 })).toEqual({
      status: 'waiting',
      position: 4,
    });

    // a lapses: 100,000 free; b (50k) and c (10k) fit, d (40k) fits exactly, e (5k) does not.
    expect(await release(db, { applicationId: a!, reason: 'lapsed' })).toEqual({ released: true, promoted: [b, c, d] });
    const overview = await expectBalanced(callId);
    expect(overview.committedCents).toBe(100_000);
    expect(overview.waiting).toEqual([expect.objectContaining({ applicationId: e, position: 1, amountCents: 5_000 })]);
    const released = await db
      .selectFrom('budget_reservations')
      .select(['status', 'release_reason'])
      .where('application_id', '=', a!)
      .executeTakeFirstOrThrow();
    expect(released).toEqual({ status: 'released', release_reason: 'lapsed' });
  });

  test('promotion stops at the first waiting entry that does not fit', async () => {
    const callId = await newCall(100_000);
    const [a, b, c] = await applications(callId, 3);
    await reserve(db, { applicationId: a!, callId, amountCents: 60_000 });
    await reserve(db, { applicationId: b!, callId, amountCents: 80_000 });
    await reserve(db, { applicationId: c!, callId, amountCents: 10_000 });
    // 40,000 free: c would fit, but b is ahead and does not.
    expect(await adjust(db, { applicationId: a!, finalAmountCents: 50_000 })).toEqual({ adjusted: true, promoted: [] });
    expect((await expectBalanced(callId)).waiting.map((w) => [w.applicationId, w.position])).toEqual([
      [b, 1],
      [c, 2],
    ]);
    // Down to 20,000: 80,000 free, b fits exactly, c then does not.
    expect(await adjust(db, { applicationId: a!, finalAmountCents: 20_000 })).toEqual({
      adjusted: true,
      promoted: [b],
    });
    const overview = await expectBalanced(callId);
    expect(overview.committedCents).toBe(100_000);
    expect(overview.waiting.map((w) => [w.applicationId, w.position])).toEqual([[c, 1]]);
    const kinds = (await ledgerRows(callId)).map((m) => [m.kind, Number(m.amount_cents)]);
    expect(kinds).toEqual([
      ['reserve', 60_000],
      ['adjust', -10_000],
      ['adjust', -30_000],
      ['reserve', 80_000],
    ]);
    await expect(adjust(db, { applicationId: a!, finalAmountCents: 30_000 })).rejects.toThrow(/exceeds the reserved/);
  });

  test('retries are idempotent: one reservation, one ledger row per movement, the same outcome', async () => {
    const callId = await newCall(100_000);
    const [a, b, c] = await applications(callId, 3);
    expect(await reserve(db, { applicationId: a!, callId, amountCents: 90_000 })).toEqual({ status: 'reserved' });
    expect(await reserve(db, { applicationId: a!, callId, amountCents: 90_000 })).toEqual({ status: 'reserved' });
    expect(await reserve(db, { applicationId: b!, callId, amountCents: 20_000 })).toEqual({
      status: 'waiting',
      position: 1,
    });
    expect(await reserve(db, { applicationId: b!, callId, amountCents: 20_000 })).toEqual({
      status: 'waiting',
      position: 1,
    });
    expect(await ledgerRows(callId)).toHaveLength(1);

    expect(await adjust(db, { applicationId: a!, finalAmountCents: 80_000 })).toEqual({
      adjusted: true,
      promoted: [b],
    });
    expect(await adjust(db, { applicationId: a!, finalAmountCents: 80_000 })).toEqual({
      adjusted: true,
      promoted: [b],
    });
    expect(await reserve(db, { applicationId: b!, callId, amountCents: 20_000 })).toEqual({ status: 'reserved' });
    expect(await ledgerRows(callId)).toHaveLength(3);

    await reserve(db, { applicationId: c!, callId, amountCents: 50_000 });
    expect(await release(db, { applicationId: a!, reason: 'withdrawn' })).toEqual({ released: true, promoted: [c] });
    expect(await release(db, { applicationId: a!, reason: 'withdrawn' })).toEqual({ released: true, promoted: [c] });
    expect(await ledgerRows(callId)).toHaveLength(5);

    await consume(db, b!);
    await consume(db, b!);
    expect(await release(db, { applicationId: b!, reason: 'lapsed' })).toEqual({ released: false, promoted: [] });
    await expect(reserve(db, { applicationId: a!, callId, amountCents: 90_000 })).rejects.toThrow(/was released/);
    const overview = await expectBalanced(callId);
    expect(overview.consumed.map((r) => r.applicationId)).toEqual([b]);
    expect(overview.reserved.map((r) => r.applicationId)).toEqual([c]);
    expect(overview.committedCents).toBe(70_000);
  });

  test('releasing a waiting entry drops it from the queue and lets the next ones through', async () => {
    const callId = await newCall(100_000);
    const [a, b, c, d] = await applications(callId, 4);
    await reserve(db, { applicationId: a!, callId, amountCents: 70_000 });
    await reserve(db, { applicationId: b!, callId, amountCents: 50_000 });
    await reserve(db, { applicationId: c!, callId, amountCents: 20_000 });
    await reserve(db, { applicationId: d!, callId, amountCents: 20_000 });
    // b renounces while waiting: no money moves, c now heads the queue and fits.
    expect(await release(db, { applicationId: b!, reason: 'withdrawn' })).toEqual({ released: true, promoted: [c] });
    const overview = await expectBalanced(callId);
    expect(overview.waiting.map((w) => [w.applicationId, w.position])).toEqual([[d, 1]]);
    expect(await reserve(db, { applicationId: d!, callId, amountCents: 20_000 })).toEqual({
      status: 'waiting',
      position: 1,
    });
    expect((await ledgerRows(callId)).map((m) => m.kind)).toEqual(['reserve', 'reserve']);
    // Raising the budget promotes too.
    expect(await ensureCallBudget(db, callId, 110_000)).toEqual({
      totalCents: 110_000,
      committedCents: 110_000,
      promoted: [d],
    });
    await expectBalanced(callId);
  });

  const refusedWith = (code: BudgetErrorCode) => expect.objectContaining({ name: 'BudgetError', code });

  test('openCallBudget opens a ledger once and leaves it alone; refusals carry their codes', async () => {
    const callId = `test-budget-${randomUUID()}`;
    // The rules' budget opens the ledger on the first reservation; a later rules file does not change it.
    await openCallBudget(db, callId, 10_000);
    await openCallBudget(db, callId, 999_999);
    expect((await budgetOverview(db, callId))?.totalCents).toBe(10_000);
    const [a, b] = await applications(callId, 2);
    await expect(reserve(db, { applicationId: a!, callId: `${callId}-none`, amountCents: 1 })).rejects.toEqual(
      refusedWith('UNKNOWN_CALL'),
    );
    await expect(reserve(db, { applicationId: a!, callId, amountCents: 0 })).rejects.toEqual(
      refusedWith('INVALID_AMOUNT'),
    );
    await expect(consume(db, b!)).rejects.toEqual(refusedWith('UNKNOWN_RESERVATION'));
    await reserve(db, { applicationId: a!, callId, amountCents: 10_000 });
    await expect(reserve(db, { applicationId: a!, callId: await newCall(10_000), amountCents: 1 })).rejects.toEqual(
      refusedWith('OTHER_CALL'),
    );
    await consume(db, a!);
    await expect(adjust(db, { applicationId: a!, finalAmountCents: 5_000 })).rejects.toEqual(
      refusedWith('NOT_RESERVED'),
    );
    expect(await release(db, { applicationId: a!, reason: 'lapsed' })).toEqual({ released: false, promoted: [] });
    expect((await expectBalanced(callId)).consumed.map((r) => r.applicationId)).toEqual([a]);
  });

  test('ensureCallBudget for `budget set`: a raise promotes FIFO; a cut below the committed is refused', async () => {
    const fresh = `test-budget-${randomUUID()}`;
    expect(await ensureCallBudget(db, fresh, 5_000)).toEqual({ totalCents: 5_000, committedCents: 0, promoted: [] });

    const callId = await newCall(100_000);
    const [a, b, c, d] = await applications(callId, 4);
    await reserve(db, { applicationId: a!, callId, amountCents: 60_000 });
    await reserve(db, { applicationId: b!, callId, amountCents: 50_000 });
    await reserve(db, { applicationId: c!, callId, amountCents: 30_000 });
    await reserve(db, { applicationId: d!, callId, amountCents: 10_000 });
    expect(await ensureCallBudget(db, callId, 100_000)).toEqual({
      totalCents: 100_000,
      committedCents: 60_000,
      promoted: [],
    });
    // 80,000 free: b, then c fit exactly; d waits although 10,000 is small (nothing is left).
    expect(await ensureCallBudget(db, callId, 140_000)).toEqual({
      totalCents: 140_000,
      committedCents: 140_000,
      promoted: [b, c],
    });
    const promoted = await db
      .selectFrom('budget_reservations')
      .select(['application_id', 'promoted_by'])
      .where('application_id', 'in', [b!, c!])
      .orderBy('queue_position')
      .execute();
    expect(promoted.map((r) => r.promoted_by)).toEqual([`budget:${callId}:140000`, `budget:${callId}:140000`]);
    expect((await expectBalanced(callId)).waiting.map((w) => [w.applicationId, w.position])).toEqual([[d, 1]]);

    await expect(ensureCallBudget(db, callId, 139_999)).rejects.toEqual(refusedWith('BUDGET_BELOW_COMMITTED'));
    expect((await budgetOverview(db, callId))?.totalCents).toBe(140_000);
    // c lets d through; then the budget may come down to what is committed, and a cut promotes nobody.
    expect(await release(db, { applicationId: c!, reason: 'withdrawn' })).toEqual({ released: true, promoted: [d] });
    expect(await ensureCallBudget(db, callId, 120_000)).toEqual({
      totalCents: 120_000,
      committedCents: 120_000,
      promoted: [],
    });
    await expect(ensureCallBudget(db, callId, -1)).rejects.toEqual(refusedWith('INVALID_AMOUNT'));
    await expectBalanced(callId);
  });

  test('budgetPlace says where an application stands: reserved, or waiting at a position, or nowhere', async () => {
    const callId = await newCall(100_000);
    const [a, b, c, d] = await applications(callId, 4);
    expect(await budgetPlace(db, a!)).toBeNull();
    await reserve(db, { applicationId: a!, callId, amountCents: 80_000 });
    await reserve(db, { applicationId: b!, callId, amountCents: 50_000 });
    await reserve(db, { applicationId: c!, callId, amountCents: 30_000 });
    await reserve(db, { applicationId: d!, callId, amountCents: 30_000 });
    expect(await Promise.all([a, b, c, d].map((id) => budgetPlace(db, id!)))).toEqual([
      { status: 'reserved', position: null },
      { status: 'waiting', position: 1 },
      { status: 'waiting', position: 2 },
      { status: 'waiting', position: 3 },
    ]);
    // b gives up waiting: c and d move up a place, neither fits yet.
    await release(db, { applicationId: b!, reason: 'withdrawn' });
    expect(await Promise.all([b, c, d].map((id) => budgetPlace(db, id!)))).toEqual([
      null,
      { status: 'waiting', position: 1 },
      { status: 'waiting', position: 2 },
    ]);
    // a is funded for less: c comes through; a's money is spent, not a place in the queue.
    await adjust(db, { applicationId: a!, finalAmountCents: 50_000 });
    await consume(db, a!);
    expect(await Promise.all([a, c, d].map((id) => budgetPlace(db, id!)))).toEqual([
      null,
      { status: 'reserved', position: null },
      { status: 'waiting', position: 1 },
    ]);
  });

  test('100 concurrent reservations: exactly those that fit are reserved, the rest wait in arrival order', async () => {
    const total = 1_000_000;
    const amount = 25_000;
    const fit = total / amount;
    const callId = await newCall(total);
    const ids = await applications(callId, 100);

    const started = Date.now();
    const outcomes = await Promise.all(
      ids.map((applicationId) => reserve(db, { applicationId, callId, amountCents: amount })),
    );
    const elapsed = Date.now() - started;
    const outcomeOf = new Map<string, ReserveOutcome>(ids.map((id, i) => [id, outcomes[i]!]));

    // Arrival order: the order in which the requests got the call's lock, i.e. the identity queue_position.
    const arrival = await db
      .selectFrom('budget_reservations')
      .select(['application_id', 'status'])
      .where('call_id', '=', callId)
      .orderBy('queue_position')
      .execute();
    expect(arrival).toHaveLength(100);
    expect(arrival.slice(0, fit).every((r) => r.status === 'reserved')).toBe(true);
    expect(arrival.slice(fit).every((r) => r.status === 'waiting')).toBe(true);
    arrival.forEach((r, i) =>
      expect(outcomeOf.get(r.application_id)).toEqual(
        i < fit ? { status: 'reserved' } : { status: 'waiting', position: i - fit + 1 },
      ),
    );

    const overview = await expectBalanced(callId);
    expect(overview.reserved).toHaveLength(fit);
    expect(overview.waiting.map((w) => w.position)).toEqual(Array.from({ length: 100 - fit }, (_, i) => i + 1));
    expect(overview.committedCents).toBe(fit * amount);
    expect(overview.availableCents).toBe(0);
    const movements = await ledgerRows(callId);
    expect(movements).toHaveLength(fit);
    const ledgerSum = movements.reduce((sum, m) => sum + Number(m.amount_cents), 0);
    expect(ledgerSum).toBe(overview.committedCents);

    // Two releases at once promote each waiting entry once: the heads of the queue, in order.
    const [r1, r2] = await Promise.all([
      release(db, { applicationId: arrival[0]!.application_id, reason: 'lapsed' }),
      release(db, { applicationId: arrival[1]!.application_id, reason: 'lapsed' }),
    ]);
    expect([...r1.promoted, ...r2.promoted].sort()).toEqual(
      [arrival[fit]!.application_id, arrival[fit + 1]!.application_id].sort(),
    );
    expect((await expectBalanced(callId)).committedCents).toBe(fit * amount);

    console.info(
      `${backend}: 100 concurrent reserve() in ${elapsed} ms: ${overview.reserved.length} reserved, ` +
        `${overview.waiting.length} waiting (positions 1..${overview.waiting.length}), committed ` +
        `${overview.committedCents} cents = ${movements.length} ledger movements summing ${ledgerSum}`,
    );
  });
});
