import { createHash } from 'node:crypto';
import { UserError } from '../../client/errors';
import { auditTrail } from '../../db/repositories/applications';
import { outboxFor } from '../../db/repositories/notifications';
import { viewQuery } from '../../workflows/messages';
import { SA } from '../../workflows/search-attributes';
import { eventually } from '../support/eventually';
import { dayFromToday, pdfBytes, preProject, session } from '../support/fixtures';
import {
  assign,
  attach,
  confirmedSession,
  decide,
  eightHours,
  inAccompaniment,
  inCommission,
  registered,
  send,
} from '../support/journeys';
import { operator, PEOPLE } from '../support/people';
import { startTestSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
});
afterAll(async () => {
  await sys?.stop();
});

const handle = (id: string) => sys.client.workflow.getHandle(id);
const outcome = (id: string) => handle(id).result();
const workflowView = (id: string) => handle(id).query(viewQuery);
const historyLength = async (id: string) => (await handle(id).fetchHistory()).events?.length ?? 0;
const auditCount = async (id: string) => (await auditTrail(sys.db, id)).length;
const refusal = (p: Promise<unknown>) => p.then(() => new Error('the command was accepted')).catch((e: unknown) => e);

test('an application goes from submission to funded, and the register shows every step', async () => {
  const form = sys.form();
  const registration = await sys.service.apply(form, operator);
  expect(registration).toEqual({ applicationId: expect.any(String), eligible: true, reasons: [], sizeClass: 'micro' });
  const id = registration.applicationId;
  // apply returns once the workflow recorded the eligibility: no waiting here.
  expect(await sys.view(id)).toMatchObject({
    state: 'submitted',
    seq: 1,
    companyName: form.company.legalName,
    facts: { eligibility: 'eligible', sizeClass: 'micro' },
  });

  expect(await assign(sys, id)).toEqual({
    applicationId: id,
    state: 'accompaniment',
    seq: 2,
    deadline: { kind: 'accompaniment', dueAt: expect.any(String) },
  });
  await eightHours(sys, id);
  expect((await sys.view(id)).facts).toMatchObject({ verifiedHours: 8, sessionsLogged: 2 });
  await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' }, PEOPLE.consultant);
  await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, PEOPLE.consultant);
  const forwarded = await send(sys, id, { type: 'FORWARD_TO_COMMISSION' });
  expect(forwarded).toMatchObject({ state: 'commission', deadline: { kind: 'commission_decision' } });
  const approved = await decide(sys, id, 'APPROVE', 'Solid impact indicators.');
  expect(approved).toMatchObject({ state: 'admitted', deadline: { kind: 'funding' } });
  expect(await sys.view(id)).toMatchObject({
    state: 'admitted',
    admittedCents: 4_000_000,
    requestedCents: 4_000_000,
    facts: { budget: 'reserved', motivation: 'Solid impact indicators.' },
  });

  // What the Temporal UI shows staff: typed search attributes, kept current, with no personal data.
  const described = await handle(id).describe();
  expect(described.typedSearchAttributes.get(SA.state)).toBe('admitted');
  expect(described.typedSearchAttributes.get(SA.body)).toBe('i3p');
  expect(described.typedSearchAttributes.get(SA.call)).toBe(sys.callId);
  expect(described.typedSearchAttributes.get(SA.requestedCents)).toBe(4_000_000);
  expect(described.typedSearchAttributes.get(SA.admittedCents)).toBe(4_000_000);
  expect(described.typedSearchAttributes.get(SA.deadline)).toEqual(new Date(approved!.deadline!.dueAt));

  const funded = await send(sys, id, { type: 'RECORD_FUNDING', amountCents: 4_000_000, disbursedOn: dayFromToday(0) });
  expect(funded).toMatchObject({ state: 'funded', deadline: null });
  // Final: no deadline runs, and the UI's search attributes say so.
  const closed = (await handle(id).describe()).typedSearchAttributes;
  expect(closed.get(SA.state)).toBe('funded');
  expect(closed.get(SA.deadline)).toBeUndefined();
  // Upserted only when one moved (assigned, completed, pre-project in, forwarded, admitted, funded), each an event;
  // the SDK's own upsert of the patch marker aside.
  const { events } = await handle(id).fetchHistory();
  const upserted = events!
    .map((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}))
    .filter((keys) => keys.length > 0 && !keys.includes('TemporalChangeVersion'));
  expect(upserted).toHaveLength(6);
  await expect(outcome(id)).resolves.toEqual({
    applicationId: id,
    state: 'funded',
    admittedCents: 4_000_000,
    fundedCents: 4_000_000,
  });

  const view = await sys.view(id);
  expect(view).toMatchObject({
    state: 'funded',
    final: true,
    allowedCommands: [],
    fundedCents: 4_000_000,
    closedAt: expect.any(String),
    deadline: null,
    company: { legalName: form.company.legalName, vatNumber: form.company.vatNumber, comune: 'Ivrea' },
    consultant: { bodyId: 'i3p', name: expect.stringMatching(/^Anna /) },
  });
  // The register's timeline is the audit trail: every command and every system event, in order, without a gap.
  expect(view.timeline.map((t) => t.event)).toEqual([
    'SUBMIT',
    'CONFIRM_ELIGIBILITY',
    'ASSIGN_BODY',
    // Each session logged or confirmed is verified again in the same step: the hours are the register's.
    'LOG_SESSION',
    'RECORD_VERIFIED_HOURS',
    'CONFIRM_SESSION',
    'RECORD_VERIFIED_HOURS',
    'LOG_SESSION',
    'RECORD_VERIFIED_HOURS',
    'CONFIRM_SESSION',
    'RECORD_VERIFIED_HOURS',
    'COMPLETE_ACCOMPANIMENT',
    'SUBMIT_PRE_PROJECT',
    'FORWARD_TO_COMMISSION',
    // The admission reserves the grant in the call's ledger, and the ledger's answer is recorded with it.
    'APPROVE',
    'RECORD_BUDGET',
    'RECORD_FUNDING',
  ]);
  expect(view.timeline.map((t) => t.seq)).toEqual(view.timeline.map((_, i) => i));
  expect(view.seq).toBe(view.timeline.length - 1);
  expect(view.timeline.find((t) => t.event === 'APPROVE')).toMatchObject({
    actor: PEOPLE.chair.actor,
    role: 'commission',
    from: 'commission',
    to: 'admitted',
  });
  expect(view.timeline.find((t) => t.event === 'CONFIRM_SESSION')).toMatchObject({ role: 'company' });

  const mail = await outboxFor(sys.db, id);
  const to = (address: RegExp) => mail.filter((m) => address.test(m.recipient)).map((m) => m.template);
  // The company hears of every state; the consultant of the accompaniment and its outcome, in the same transaction.
  // Funding opens the project: both then read what it owes, after the company's "funded".
  expect(to(new RegExp(`^${form.company.legalRepresentative.email.replace('.', '\\.')}$`))).toEqual([
    'application.submitted',
    'application.accompaniment',
    'session.confirmation',
    'session.confirmation',
    'application.pre_project',
    'application.commission',
    'application.admitted',
    'application.funded',
    'project.started',
  ]);
  expect(to(/@i3p\.example\.org$/)).toEqual([
    'application.accompaniment',
    'session.confirmed',
    'session.confirmed',
    'application.pre_project',
    'application.commission',
    'application.admitted',
    'project.started',
  ]);
});

test('a document is stored first, then attached by reference: the register lists it, no bytes travel', async () => {
  const id = await inAccompaniment(sys);
  const bytes = pdfBytes('pre-progetto firmato');
  const before = await historyLength(id);
  const document = await attach(sys, id, 'pre_project', bytes);
  expect(document).toEqual({
    documentId: expect.any(String),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    kind: 'pre_project',
    mediaType: 'application/pdf',
    sizeBytes: bytes.length,
  });
  expect((await sys.view(id)).documents).toEqual([
    expect.objectContaining({
      documentId: document.documentId,
      kind: 'pre_project',
      filename: 'pre_project.pdf',
      sha256: document.sha256,
      attachedAt: expect.any(String),
    }),
  ]);
  expect((await workflowView(id)).context.documents).toEqual([document]);
  // The bytes are in PostgreSQL once, under their digest; the history only grew by the command and its step.
  const blob = await sys.db
    .selectFrom('document_blobs')
    .select('content')
    .where('sha256', '=', document.sha256)
    .executeTakeFirstOrThrow();
  expect(Buffer.from(blob.content)).toEqual(bytes);
  const history = await handle(id).fetchHistory();
  expect(history.events!.length).toBeGreaterThan(before);
  expect(history.events!.slice(before).reduce((n, e) => n + JSON.stringify(e).length, 0)).toBeLessThan(10_000);

  // A reference to an upload that is not this application's is refused, and the workflow goes on.
  const other = await inAccompaniment(sys);
  const err = await refusal(send(sys, other, { type: 'ATTACH_DOCUMENT', document }));
  expect(err).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/upload the file first/) });
  expect((await sys.view(other)).documents).toEqual([]);
  expect(await handle(other).describe()).toMatchObject({ status: { name: 'RUNNING' } });
});

test('an ineligible company is rejected at once, with every reason, before apply returns', async () => {
  const registration = await sys.service.apply(
    sys.form({
      company: { vatNumber: '12345678901', headcount: 120, operatingSite: { comune: 'Milano', address: 'Via Roma 1' } },
    }),
    operator,
  );
  expect(registration).toMatchObject({ eligible: false, sizeClass: null });
  expect(registration.reasons.map((r) => r.code)).toEqual(['vat_number_invalid', 'not_sme', 'outside_territory']);
  expect(registration.reasons.map((r) => r.message).join(' ')).toMatch(/VAT number.*not a micro or small.*Milano/s);
  const id = registration.applicationId;
  expect(await sys.view(id)).toMatchObject({
    state: 'rejected',
    final: true,
    facts: {
      eligibility: 'ineligible',
      ineligibilityReasons: ['vat_number_invalid', 'not_sme', 'outside_territory'],
    },
  });
  await expect(outcome(id)).resolves.toMatchObject({ state: 'rejected' });
  expect((await auditTrail(sys.db, id)).map((r) => r.event_type)).toEqual(['SUBMIT', 'REJECT_INELIGIBLE']);
  expect((await outboxFor(sys.db, id)).map((m) => m.template)).toEqual([
    'application.submitted',
    'application.rejected',
  ]);
});

test('the commission rejects a pre-project', async () => {
  const id = await inCommission(sys);
  expect(await decide(sys, id, 'REJECT', 'Impact not measurable.')).toMatchObject({ state: 'rejected' });
  expect(await sys.view(id)).toMatchObject({
    state: 'rejected',
    final: true,
    facts: { motivation: 'Impact not measurable.', budget: 'none' },
  });
  await expect(outcome(id)).resolves.toMatchObject({ state: 'rejected', admittedCents: null });
});

test('an integration request sends the pre-project back, and a new version goes forward', async () => {
  const id = await inCommission(sys);
  const back = await decide(sys, id, 'REQUEST_INTEGRATION', 'Add a baseline for the jobs indicator.');
  expect(back).toMatchObject({ state: 'pre_project', deadline: { kind: 'integration_answer' } });
  expect((await sys.view(id)).facts).toMatchObject({ integrationRequests: 1, preProjectVersion: 1 });
  // The version the commission sent back cannot simply go forward again.
  expect(await refusal(send(sys, id, { type: 'FORWARD_TO_COMMISSION' }))).toMatchObject({ code: 'event_refused' });
  await send(
    sys,
    id,
    { type: 'SUBMIT_PRE_PROJECT', preProject: preProject({ summary: 'Now with a baseline of 3 jobs.' }) },
    PEOPLE.consultant,
  );
  expect(await send(sys, id, { type: 'FORWARD_TO_COMMISSION' })).toMatchObject({
    state: 'commission',
    deadline: { kind: 'commission_decision' },
  });
  expect((await sys.view(id)).facts).toMatchObject({ preProjectVersion: 2, forwardedVersion: 2 });
  expect(await decide(sys, id, 'APPROVE', 'Complete now.')).toMatchObject({ state: 'admitted' });
});

test('the company withdraws during the accompaniment', async () => {
  const id = await inAccompaniment(sys);
  const v = await send(sys, id, { type: 'WITHDRAW', reason: 'The company renounces.' }, PEOPLE.company);
  expect(v).toMatchObject({ state: 'withdrawn', deadline: null });
  expect(await sys.view(id)).toMatchObject({
    state: 'withdrawn',
    final: true,
    closedAt: expect.any(String),
    facts: { closingReason: 'The company renounces.' },
  });
  await expect(outcome(id)).resolves.toMatchObject({ state: 'withdrawn' });
  expect(await refusal(send(sys, id, { type: 'WITHDRAW', reason: 'again' }))).toMatchObject({
    code: 'event_refused',
    message: expect.stringMatching(/withdrawn, a final state/),
  });
});

test('an assignment recorded after its accompaniment deadline had passed lapses the application', async () => {
  // Submitted and assigned 130 days ago: the 120 days of the accompaniment are over when the step is recorded.
  const long = dayFromToday(-130);
  const id = await registered(sys, sys.form({ submittedOn: long }));
  const assigned = await assign(sys, id, 'i3p', long);
  expect(Date.parse(assigned!.deadline!.dueAt)).toBeLessThan(Date.now());
  const lapsed = await eventually(
    () => sys.view(id),
    (v) => v.final,
  );
  expect(lapsed).toMatchObject({
    state: 'lapsed',
    deadline: null,
    facts: { closingReason: expect.stringMatching(/deadline "accompaniment" passed/) },
  });
  expect(lapsed.timeline.at(-1)).toMatchObject({ event: 'LAPSE', role: 'system', from: 'accompaniment' });
  await expect(outcome(id)).resolves.toMatchObject({ state: 'lapsed' });
});

describe('refused commands say why and leave no trace', () => {
  test('approving while in accompaniment', async () => {
    const id = await inAccompaniment(sys);
    const [events, audit] = [await historyLength(id), await auditCount(id)];
    const err = await refusal(decide(sys, id, 'APPROVE', 'too early'));
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({
      code: 'event_refused',
      message: expect.stringMatching(/APPROVE is not possible while the application is in accompaniment/),
    });
    expect((await sys.view(id)).state).toBe('accompaniment');
    // Refused by the Update's validator: the command never entered the history, nor the register.
    expect(await historyLength(id)).toBe(events);
    expect(await auditCount(id)).toBe(audit);
  });

  test('completing the accompaniment with 7.5 verified hours', async () => {
    const id = await inAccompaniment(sys);
    await confirmedSession(sys, id, dayFromToday(1), '09:00', '13:00');
    await confirmedSession(sys, id, dayFromToday(2), '09:00', '12:30');
    const err = await refusal(send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' }));
    expect(err).toMatchObject({
      code: 'event_refused',
      message: expect.stringContaining('verified accompaniment hours are 7.50 h, the rules require at least 8 h'),
    });
    const v = await sys.view(id);
    expect(v).toMatchObject({ state: 'accompaniment', facts: { verifiedHours: 7.5 } });
    expect(v.allowedCommands).not.toContain('COMPLETE_ACCOMPANIMENT');
  });

  test('a command the role may not send, or a decision in another member’s name', async () => {
    const id = await inCommission(sys);
    const before = await sys.view(id);
    expect(
      await refusal(send(sys, id, { type: 'APPROVE', motivation: 'by hand', chair: PEOPLE.chair.actor }, operator)),
    ).toMatchObject({ code: 'forbidden', message: 'APPROVE is not a command the role operator can send' });
    expect(
      await refusal(
        send(sys, id, { type: 'APPROVE', motivation: 'for the chair', chair: PEOPLE.chair.actor }, PEOPLE.members[0]),
      ),
    ).toMatchObject({ code: 'forbidden', message: 'APPROVE can only be sent by the chair it names' });
    expect(await sys.view(id)).toMatchObject({ state: 'commission', seq: before.seq });
  });

  test('a system event or a malformed payload from outside', async () => {
    const id = await inAccompaniment(sys);
    const audit = await auditCount(id);
    // The service trusts its callers (the API validates with zod); the workflow still checks every command.
    const forged = { type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: 600, discarded: [] } as never;
    expect(await refusal(send(sys, id, forged))).toMatchObject({
      code: 'invalid_input',
      details: [expect.objectContaining({ path: 'type' })],
    });
    const malformed = {
      type: 'LOG_SESSION',
      session: { ...session(dayFromToday(1), '09:00', '10:00'), date: 'yesterday' },
    };
    expect(await refusal(send(sys, id, malformed as never))).toMatchObject({
      code: 'invalid_input',
      details: [expect.objectContaining({ path: 'session.date' })],
    });
    expect((await sys.view(id)).facts?.verifiedHours).toBe(0);
    expect(await auditCount(id)).toBe(audit);
  });

  test('a session answered with a wrong code is refused; the right code then works', async () => {
    const id = await inAccompaniment(sys);
    const day = dayFromToday(1);
    await send(sys, id, { type: 'LOG_SESSION', session: session(day, '09:00', '13:00') }, PEOPLE.consultant);
    const audit = await auditCount(id);
    expect(
      await refusal(
        send(sys, id, { type: 'CONFIRM_SESSION', date: day, start: '09:00', code: '000000' }, PEOPLE.company),
      ),
    ).toMatchObject({ code: 'invalid_input' });
    expect(await auditCount(id)).toBe(audit);
    await confirmedSession(sys, id, dayFromToday(2), '09:00', '13:00');
    expect((await sys.view(id)).facts?.verifiedHours).toBe(4);
  });

  test('a refused signal changes nothing and the workflow says why', async () => {
    const id = await inAccompaniment(sys);
    const audit = await auditCount(id);
    await sys.service.send(
      id,
      { type: 'APPROVE', motivation: 'as a signal', chair: PEOPLE.chair.actor },
      PEOPLE.chair,
      { mode: 'signal' },
    );
    const v = await eventually(
      () => workflowView(id),
      (w) => w.refusedSignals.length > 0,
    );
    expect(v.refusedSignals).toEqual([
      expect.objectContaining({ type: 'APPROVE', reason: expect.stringMatching(/not possible/) }),
    ]);
    expect(await sys.view(id)).toMatchObject({ state: 'accompaniment' });
    expect(await auditCount(id)).toBe(audit);
  });

  test('a signal that fits is applied', async () => {
    const id = await inAccompaniment(sys);
    await sys.service.send(id, { type: 'WITHDRAW', reason: 'by signal' }, operator, { mode: 'signal' });
    await expect(outcome(id)).resolves.toMatchObject({ state: 'withdrawn' });
    expect(await sys.view(id)).toMatchObject({ state: 'withdrawn', facts: { closingReason: 'by signal' } });
  });
});

test('the same company cannot apply twice to one call', async () => {
  const form = sys.form();
  const first = await registered(sys, form);
  const err = await refusal(
    sys.service.apply({ ...form, company: { ...form.company, legalName: 'Another name' } }, operator),
  );
  expect(err).toMatchObject({ code: 'already_applied', message: expect.stringContaining(first) });
  // The id is derived from the VAT number with a secret: it cannot be read back from it.
  expect(first).not.toContain(form.company.vatNumber);
  expect((await sys.view(first)).companyName).toBe(form.company.legalName);
});
