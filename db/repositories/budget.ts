import { sql, type Transaction } from 'kysely';
import type { BudgetReservationStatus, Database } from '../schema';
import type { Executor } from './applications';

/**
 * The call budget ledger.
 *
 * - Over-commitment is refused by the database: money is committed only by one conditional UPDATE
 *   (`committed_cents + amount <= total_cents`, affected rows checked), and the CHECK constraint
 *   `call_budgets_committed_within_total` backs it against any other writer.
 * - Every writer first locks the call's `call_budgets` row (SELECT ... FOR UPDATE), so the requests of one call are
 *   serialised: FIFO order (the identity `queue_position`) is the order in which they got the lock, and two concurrent
 *   releases cannot promote the same waiting entry twice.
 * - Every movement of committed money is one append-only `budget_ledger` row whose idempotency key is unique, so for
 *   each call the sum of the movements equals `committed_cents`.
 */

export type BudgetErrorCode =
  | 'UNKNOWN_CALL'
  | 'INVALID_AMOUNT'
  | 'UNKNOWN_RESERVATION'
  | 'NOT_RESERVED'
  | 'ALREADY_RELEASED'
  | 'OTHER_CALL'
  | 'BUDGET_BELOW_COMMITTED';

/** A request the ledger cannot honour however often it is retried. */
export class BudgetError extends Error {
  override readonly name = 'BudgetError';
  constructor(
    readonly code: BudgetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ReserveRequest {
  applicationId: string;
  callId: string;
  amountCents: number;
}
export type ReserveOutcome = { status: 'reserved' } | { status: 'waiting'; position: number };
export interface ReleaseRequest {
  applicationId: string;
  /** Why the money goes back (withdrawn, lapsed, rejected...); stored with the reservation. */
  reason: string;
}
export interface ReleaseOutcome {
  released: boolean;
  /** Applications moved from the waiting list to reserved by this release, in FIFO order. */
  promoted: string[];
}
export interface AdjustRequest {
  applicationId: string;
  finalAmountCents: number;
}
export interface AdjustOutcome {
  adjusted: boolean;
  promoted: string[];
}
export interface CallBudgetState {
  totalCents: number;
  committedCents: number;
  promoted: string[];
}
export interface BudgetEntry {
  applicationId: string;
  amountCents: number;
  reservedAt: Date | null;
}
export interface WaitingEntry {
  applicationId: string;
  amountCents: number;
  /** 1 = next in line. */
  position: number;
  requestedAt: Date;
}
export interface BudgetOverview {
  callId: string;
  totalCents: number;
  committedCents: number;
  availableCents: number;
  reserved: BudgetEntry[];
  /** Funded: the money stays committed. */
  consumed: BudgetEntry[];
  waiting: WaitingEntry[];
}

type Trx = Transaction<Database>;

/** INT8 arrives as a string from both pg and PGlite; budgets are far below 2^53, and we check. */
function cents(value: string | number | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`amount ${String(value)} is not a safe integer number of cents`);
  return n;
}

function requireCents(value: number, what: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min)
    throw new BudgetError('INVALID_AMOUNT', `${what} must be an integer number of cents >= ${min}, got ${value}`);
}

/** Uses the transaction it is given, or opens one on the Kysely root. */
function inTransaction<T>(db: Executor, work: (trx: Trx) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Trx) : db.transaction().execute(work);
}

const reserveKey = (applicationId: string) => `reserve:${applicationId}`;
const releaseKey = (applicationId: string) => `release:${applicationId}`;
const adjustKey = (applicationId: string, finalAmountCents: number) => `adjust:${applicationId}:${finalAmountCents}`;

/** Locks the call's budget row for the rest of the transaction: the requests of one call go one at a time. */
async function lockCall(trx: Trx, callId: string): Promise<{ totalCents: number; committedCents: number }> {
  const row = await trx
    .selectFrom('call_budgets')
    .select(['total_cents', 'committed_cents'])
    .where('call_id', '=', callId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new BudgetError('UNKNOWN_CALL', `no budget for call ${callId}`);
  return { totalCents: cents(row.total_cents), committedCents: cents(row.committed_cents) };
}

/** The only way money gets committed: one conditional UPDATE; the database decides whether it fits. */
async function tryCommit(trx: Trx, callId: string, amountCents: number): Promise<boolean> {
  const result = await trx
    .updateTable('call_budgets')
    .set({ committed_cents: sql<string>`committed_cents + ${amountCents}` })
    .where('call_id', '=', callId)
    .where(sql<boolean>`committed_cents + ${amountCents} <= total_cents`)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

async function uncommit(trx: Trx, callId: string, amountCents: number): Promise<void> {
  await trx
    .updateTable('call_budgets')
    .set({ committed_cents: sql<string>`committed_cents - ${amountCents}` })
    .where('call_id', '=', callId)
    .execute();
}

/** One movement; a second one with the same key violates the unique index and rolls the whole transaction back. */
async function record(
  trx: Trx,
  movement: {
    callId: string;
    applicationId: string;
    kind: 'reserve' | 'release' | 'adjust' | 'repay';
    amountCents: number;
    key: string;
  },
) {
  await trx
    .insertInto('budget_ledger')
    .values({
      call_id: movement.callId,
      application_id: movement.applicationId,
      kind: movement.kind,
      amount_cents: movement.amountCents,
      idempotency_key: movement.key,
    })
    .execute();
}

async function waitingPosition(trx: Executor, callId: string, queuePosition: string): Promise<number> {
  const row = await trx
    .selectFrom('budget_reservations')
    .select((eb) => eb.fn.countAll<string>().as('ahead'))
    .where('call_id', '=', callId)
    .where('status', '=', 'waiting')
    .where('queue_position', '<=', queuePosition)
    .executeTakeFirstOrThrow();
  return cents(row.ahead);
}

async function promotedBy(trx: Trx, cause: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('budget_reservations')
    .select('application_id')
    .where('promoted_by', '=', cause)
    .orderBy('queue_position')
    .execute();
  return rows.map((r) => r.application_id);
}

/** Reserves waiting entries in FIFO order while the head fits; stops at the first that does not (no overtaking). */
async function promote(trx: Trx, callId: string, cause: string): Promise<string[]> {
  await lockCall(trx, callId);
  const promoted: string[] = [];
  for (;;) {
    const head = await trx
      .selectFrom('budget_reservations')
      .select(['application_id', 'amount_cents'])
      .where('call_id', '=', callId)
      .where('status', '=', 'waiting')
      .orderBy('queue_position')
      .limit(1)
      .forUpdate()
      .executeTakeFirst();
    if (!head) break;
    const amountCents = cents(head.amount_cents);
    if (!(await tryCommit(trx, callId, amountCents))) break;
    await trx
      .updateTable('budget_reservations')
      .set({ status: 'reserved', reserved_at: sql<string>`now()`, promoted_by: cause })
      .where('application_id', '=', head.application_id)
      .where('status', '=', 'waiting')
      .execute();
    await record(trx, {
      callId,
      applicationId: head.application_id,
      kind: 'reserve',
      amountCents,
      key: reserveKey(head.application_id),
    });
    promoted.push(head.application_id);
  }
  return promoted;
}

async function lockedReservation(trx: Trx, applicationId: string) {
  const found = await trx
    .selectFrom('budget_reservations')
    .select('call_id')
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  if (!found) return undefined;
  // Call row first, then the reservation: the same lock order as reserve and promote, so no deadlock.
  await lockCall(trx, found.call_id);
  return trx
    .selectFrom('budget_reservations')
    .select(['call_id', 'amount_cents', 'status', 'queue_position'])
    .where('application_id', '=', applicationId)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** Opens the call's ledger with the budget of its rules the first time; a budget already there is left alone. */
export async function openCallBudget(db: Executor, callId: string, totalCents: number): Promise<void> {
  requireCents(totalCents, 'a call budget', 0);
  await db
    .insertInto('call_budgets')
    .values({ call_id: callId, total_cents: totalCents })
    .onConflict((oc) => oc.column('call_id').doNothing())
    .execute();
}

/**
 * Creates the call's budget, or sets its total when it changed. A total below what is already committed is refused
 * (the CHECK constraint would refuse it too); a raised total promotes waiting entries that now fit.
 */
export async function ensureCallBudget(db: Executor, callId: string, totalCents: number): Promise<CallBudgetState> {
  requireCents(totalCents, 'a call budget', 0);
  return inTransaction(db, async (trx) => {
    await trx
      .insertInto('call_budgets')
      .values({ call_id: callId, total_cents: totalCents })
      .onConflict((oc) => oc.column('call_id').doNothing())
      .execute();
    const current = await lockCall(trx, callId);
    if (current.totalCents === totalCents) return { ...current, promoted: [] };
    if (totalCents < current.committedCents) {
      throw new BudgetError(
        'BUDGET_BELOW_COMMITTED',
        `call ${callId}: ${current.committedCents} cents are already committed, the budget cannot become ${totalCents}`,
      );
    }
    await trx.updateTable('call_budgets').set({ total_cents: totalCents }).where('call_id', '=', callId).execute();
    const promoted =
      totalCents > current.totalCents ? await promote(trx, callId, `budget:${callId}:${totalCents}`) : [];
    const after = await lockCall(trx, callId);
    return { ...after, promoted };
  });
}

/**
 * Reserves the amount when it fits and nobody is waiting in the call; otherwise the application joins the waiting
 * list. Idempotent per application: a retry finds the reservation and reports it, writing nothing.
 */
export async function reserve(db: Executor, request: ReserveRequest): Promise<ReserveOutcome> {
  const { applicationId, callId, amountCents } = request;
  requireCents(amountCents, 'a reservation', 1);
  return inTransaction(db, async (trx) => {
    await lockCall(trx, callId);
    const existing = await trx
      .selectFrom('budget_reservations')
      .select(['call_id', 'status', 'queue_position'])
      .where('application_id', '=', applicationId)
      .executeTakeFirst();
    if (existing) {
      if (existing.call_id !== callId)
        throw new BudgetError(
          'OTHER_CALL',
          `application ${applicationId} already holds a reservation in call ${existing.call_id}`,
        );
      if (existing.status === 'waiting')
        return { status: 'waiting', position: await waitingPosition(trx, callId, existing.queue_position) };
      if (existing.status === 'released')
        throw new BudgetError('ALREADY_RELEASED', `the reservation of application ${applicationId} was released`);
      return { status: 'reserved' };
    }

    const someoneWaiting = await trx
      .selectFrom('budget_reservations')
      .select('application_id')
      .where('call_id', '=', callId)
      .where('status', '=', 'waiting')
      .limit(1)
      .executeTakeFirst();
    if (!someoneWaiting && (await tryCommit(trx, callId, amountCents))) {
      await trx
        .insertInto('budget_reservations')
        .values({
          application_id: applicationId,
          call_id: callId,
          amount_cents: amountCents,
          status: 'reserved',
          reserved_at: sql<string>`now()`,
        })
        .execute();
      await record(trx, { callId, applicationId, kind: 'reserve', amountCents, key: reserveKey(applicationId) });
      return { status: 'reserved' };
    }

    const waiting = await trx
      .insertInto('budget_reservations')
      .values({ application_id: applicationId, call_id: callId, amount_cents: amountCents, status: 'waiting' })
      .returning('queue_position')
      .executeTakeFirstOrThrow();
    return { status: 'waiting', position: await waitingPosition(trx, callId, waiting.queue_position) };
  });
}

/**
 * Frees a reserved amount, or drops a waiting entry, then promotes the waiting list. A retry reports the same
 * outcome (the promotions are found by their cause). A funded (consumed) reservation is not released.
 */
export async function release(db: Executor, request: ReleaseRequest): Promise<ReleaseOutcome> {
  const { applicationId, reason } = request;
  return inTransaction(db, async (trx) => {
    const r = await lockedReservation(trx, applicationId);
    if (!r) return { released: false, promoted: [] };
    const key = releaseKey(applicationId);
    if (r.status === 'released') return { released: true, promoted: await promotedBy(trx, key) };
    if (r.status === 'consumed') return { released: false, promoted: [] };
    if (r.status === 'reserved') {
      const amountCents = cents(r.amount_cents);
      await uncommit(trx, r.call_id, amountCents);
      await record(trx, { callId: r.call_id, applicationId, kind: 'release', amountCents: -amountCents, key });
    }
    await trx
      .updateTable('budget_reservations')
      .set({ status: 'released', released_at: sql<string>`now()`, release_reason: reason })
      .where('application_id', '=', applicationId)
      .execute();
    return { released: true, promoted: await promote(trx, r.call_id, key) };
  });
}

/**
 * Lowers a reserved amount to the final one and frees the difference, promoting the waiting list. Raising is
 * refused: it would overtake the queue. A retry of the same adjustment reports the same outcome.
 */
export async function adjust(db: Executor, request: AdjustRequest): Promise<AdjustOutcome> {
  const { applicationId, finalAmountCents } = request;
  requireCents(finalAmountCents, 'a final amount', 1);
  return inTransaction(db, async (trx) => {
    const r = await lockedReservation(trx, applicationId);
    if (!r) throw new BudgetError('UNKNOWN_RESERVATION', `application ${applicationId} has no budget reservation`);
    const key = adjustKey(applicationId, finalAmountCents);
    const done = await trx
      .selectFrom('budget_ledger')
      .select('id')
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (done) return { adjusted: true, promoted: await promotedBy(trx, key) };
    if (r.status !== 'reserved')
      throw new BudgetError(
        'NOT_RESERVED',
        `the reservation of application ${applicationId} is ${r.status}, not reserved`,
      );
    const current = cents(r.amount_cents);
    if (finalAmountCents > current) {
      throw new BudgetError(
        'INVALID_AMOUNT',
        `application ${applicationId}: the final amount ${finalAmountCents} exceeds the reserved ${current}`,
      );
    }
    if (finalAmountCents === current) return { adjusted: false, promoted: [] };
    const freed = current - finalAmountCents;
    await uncommit(trx, r.call_id, freed);
    await trx
      .updateTable('budget_reservations')
      .set({ amount_cents: finalAmountCents })
      .where('application_id', '=', applicationId)
      .execute();
    await record(trx, { callId: r.call_id, applicationId, kind: 'adjust', amountCents: -freed, key });
    return { adjusted: true, promoted: await promote(trx, r.call_id, key) };
  });
}

/** Reserved -> consumed: the application is funded and its money stays committed. Idempotent. */
export async function consume(db: Executor, applicationId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const updated = await trx
      .updateTable('budget_reservations')
      .set({ status: 'consumed' })
      .where('application_id', '=', applicationId)
      .where('status', '=', 'reserved')
      .executeTakeFirst();
    if (updated.numUpdatedRows === 1n) return;
    const r = await trx
      .selectFrom('budget_reservations')
      .select('status')
      .where('application_id', '=', applicationId)
      .executeTakeFirst();
    if (!r) throw new BudgetError('UNKNOWN_RESERVATION', `application ${applicationId} has no budget reservation`);
    if (r.status !== 'consumed')
      throw new BudgetError(
        'NOT_RESERVED',
        `the reservation of application ${applicationId} is ${r.status}, not reserved`,
      );
  });
}

/** One consistent snapshot of a call's budget (repeatable read when it opens its own transaction). */
export async function budgetOverview(db: Executor, callId: string): Promise<BudgetOverview | undefined> {
  const read = async (trx: Executor): Promise<BudgetOverview | undefined> => {
    const call = await trx
      .selectFrom('call_budgets')
      .select(['total_cents', 'committed_cents'])
      .where('call_id', '=', callId)
      .executeTakeFirst();
    if (!call) return undefined;
    const rows = await trx
      .selectFrom('budget_reservations')
      .select(['application_id', 'amount_cents', 'status', 'requested_at', 'reserved_at'])
      .where('call_id', '=', callId)
      .where('status', 'in', ['reserved', 'consumed', 'waiting'] satisfies BudgetReservationStatus[])
      .orderBy('queue_position')
      .execute();
    const entry = (r: (typeof rows)[number]): BudgetEntry => ({
      applicationId: r.application_id,
      amountCents: cents(r.amount_cents),
      reservedAt: r.reserved_at,
    });
    const totalCents = cents(call.total_cents);
    const committedCents = cents(call.committed_cents);
    return {
      callId,
      totalCents,
      committedCents,
      availableCents: totalCents - committedCents,
      reserved: rows.filter((r) => r.status === 'reserved').map(entry),
      consumed: rows.filter((r) => r.status === 'consumed').map(entry),
      waiting: rows
        .filter((r) => r.status === 'waiting')
        .map((r, i) => ({
          applicationId: r.application_id,
          amountCents: cents(r.amount_cents),
          position: i + 1,
          requestedAt: r.requested_at,
        })),
    };
  };
  return db.isTransaction ? read(db) : db.transaction().setIsolationLevel('repeatable read').execute(read);
}

/** Sum of a call's ledger movements: always equal to its committed_cents. */
export async function ledgerBalance(db: Executor, callId: string): Promise<number> {
  const row = await db
    .selectFrom('budget_ledger')
    .select(sql<string>`coalesce(sum(amount_cents), 0)`.as('balance'))
    .where('call_id', '=', callId)
    .executeTakeFirstOrThrow();
  return cents(row.balance);
}

/** Where an application stands in its call's ledger: reserved, or waiting at a position (1 = next); null if absent. */
export async function budgetPlace(
  db: Executor,
  applicationId: string,
): Promise<{ status: 'reserved' | 'waiting'; position: number | null } | null> {
  const row = await db
    .selectFrom('budget_reservations')
    .select(['call_id', 'status', 'queue_position'])
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  if (!row || (row.status !== 'reserved' && row.status !== 'waiting')) return null;
  if (row.status === 'reserved') return { status: 'reserved', position: null };
  return { status: 'waiting', position: await waitingPosition(db, row.call_id, row.queue_position) };
}

/**
 * Money a funded project repays (a reduction, revocation or withdrawal after funding) goes back to its call: the
 * committed amount shrinks by it, one `repay` movement records it, and the reserve list is promoted as far as it now
 * fits. Idempotent by `key`: a retry reports the same promotions.
 */
export async function returnToCall(
  db: Executor,
  movement: { callId: string; applicationId: string; amountCents: number; key: string },
): Promise<string[]> {
  requireCents(movement.amountCents, 'a repayment', 1);
  return inTransaction(db, async (trx) => {
    await lockCall(trx, movement.callId);
    const done = await trx
      .selectFrom('budget_ledger')
      .select('id')
      .where('idempotency_key', '=', movement.key)
      .executeTakeFirst();
    if (done) return promotedBy(trx, movement.key);
    await uncommit(trx, movement.callId, movement.amountCents);
    await record(trx, { ...movement, kind: 'repay', amountCents: -movement.amountCents });
    return promote(trx, movement.callId, movement.key);
  });
}
