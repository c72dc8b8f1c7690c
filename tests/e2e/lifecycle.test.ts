import { randomUUID } from 'node:crypto';
import { auditTrail } from '../../db/repositories/applications';
import { documentsOf } from '../../db/repositories/documents';
import { outboxFor } from '../../db/repositories/notifications';
import type { ApplicationCommand } from '../../machines/events';
import { viewQuery, type CommandMeta } from '../../workflows/messages';
import { SA } from '../../workflows/search-attributes';
import { UserError } from '../../client/errors';
import { dayFromToday, pdfBase64, preProject, session } from '../support/fixtures';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

const operator: CommandMeta = { actor: 'op.rossi', role: 'operator' };
const consultant: CommandMeta = { actor: 'cons.bianchi', role: 'consultant' };
const commission: CommandMeta = { actor: 'commission', role: 'commission' };
const company: CommandMeta = { actor: 'legal representative', role: 'company' };

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
});
afterAll(async () => {
  await sys?.stop();
});

const send = (id: string, event: ApplicationCommand, meta = operator) => sys.service.send(id, event, meta);

async function eligibleApplication(form = sys.form()) {
  const { applicationId, view } = await sys.service.apply(form, operator);
  expect(view.state).toBe('submitted');
  // Eligibility is an activity: wait for the machine to have heard its verdict.
  for (let i = 0; i < 100 && (await sys.service.view(applicationId)).facts.eligibility === 'pending'; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return applicationId;
}

async function inAccompaniment() {
  const id = await eligibleApplication();
  // One consultant per application: the same person cannot be in two companies' sessions at once.
  const tag = randomUUID().slice(0, 8);
  const v = await send(id, {
    type: 'ASSIGN_BODY',
    implementingBody: 'socialfare',
    consultant: { name: `Marco Bianchi ${tag}`, email: `marco.${tag}@socialfare.example.org` },
  });
  expect(v?.state).toBe('accompaniment');
  return id;
}

/** Logs a session as the consultant, then confirms it as the company with the code from its e-mail. */
async function logConfirmedSession(id: string, date: string, start: string, end: string) {
  await send(id, { type: 'LOG_SESSION', session: session(date, start, end) }, consultant);
  const code = await confirmationCode(sys.db, id, date, start);
  return send(id, { type: 'CONFIRM_SESSION', date, start, code }, company);
}

async function logEightHours(id: string) {
  await logConfirmedSession(id, dayFromToday(1), '09:00', '13:00');
  return logConfirmedSession(id, dayFromToday(2), '14:00', '18:00');
}

async function inCommission() {
  const id = await inAccompaniment();
  await logEightHours(id);
  expect((await send(id, { type: 'COMPLETE_ACCOMPANIMENT' }))?.state).toBe('pre_project');
  await send(id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, consultant);
  expect((await send(id, { type: 'FORWARD_TO_COMMISSION' }))?.state).toBe('commission');
  return id;
}

const outcome = (id: string) => sys.client.workflow.getHandle(id).result();

test('an application goes from submission to funded, and every step is on record', async () => {
  const id = await inAccompaniment();
  const afterSessions = await logEightHours(id);
  expect(afterSessions?.facts.verifiedHours).toBe(8);
  const withDoc = await send(
    id,
    {
      type: 'ATTACH_DOCUMENT',
      document: { kind: 'pre_project', filename: 'pre-progetto.pdf', contentBase64: pdfBase64() },
    },
    consultant,
  );
  expect(withDoc?.facts.documents).toEqual([
    expect.objectContaining({ kind: 'pre_project', mediaType: 'application/pdf', filename: 'pre-progetto.pdf' }),
  ]);
  await send(id, { type: 'COMPLETE_ACCOMPANIMENT' });
  await send(id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }, consultant);
  const inCommissionView = await send(id, { type: 'FORWARD_TO_COMMISSION' });
  expect(inCommissionView?.deadline?.kind).toBe('commission_decision');
  const admitted = await send(id, { type: 'APPROVE', motivation: 'Solid impact indicators.' }, commission);
  expect(admitted).toMatchObject({ state: 'admitted', facts: { admittedCents: 4_000_000 } });
  // What the Temporal UI shows staff: typed search attributes and a summary, with no personal data.
  const described = await sys.client.workflow.getHandle(id).describe();
  expect(described.typedSearchAttributes.get(SA.state)).toBe('admitted');
  expect(described.typedSearchAttributes.get(SA.body)).toBe('socialfare');
  expect(described.typedSearchAttributes.get(SA.requestedCents)).toBe(4_000_000);
  expect(described.typedSearchAttributes.get(SA.admittedCents)).toBe(4_000_000);
  expect(described.typedSearchAttributes.get(SA.deadline)).toEqual(new Date(admitted!.deadline!.dueAt));
  expect(await described.staticSummary()).toBe(`Application to ${sys.callId} under rules v1`);
  const visible = JSON.stringify([
    id,
    await described.staticSummary(),
    described.typedSearchAttributes.getAll().map((p) => p.value),
  ]);
  const company = await sys.db
    .selectFrom('applications')
    .select(['vat_number', 'legal_name', 'representative_email'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  for (const personal of [company.vat_number, company.legal_name, company.representative_email, 'Giulia'])
    expect(visible).not.toContain(personal);
  const funded = await send(id, { type: 'RECORD_FUNDING', amountCents: 4_000_000, disbursedOn: dayFromToday(0) });
  expect(funded).toMatchObject({ state: 'funded', final: true, allowedCommands: [] });
  await expect(outcome(id)).resolves.toMatchObject({ state: 'funded', fundedCents: 4_000_000 });

  const trail = await auditTrail(sys.db, id);
  expect(trail.map((r) => r.to_state)).toEqual(
    expect.arrayContaining(['submitted', 'accompaniment', 'pre_project', 'commission', 'admitted', 'funded']),
  );
  expect(trail.map((r) => r.seq)).toEqual(trail.map((_, i) => i));
  expect(trail.find((r) => r.event_type === 'APPROVE')).toMatchObject({
    actor: 'commission',
    role: 'commission',
    from_state: 'commission',
  });
  const row = await sys.db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  expect(row).toMatchObject({ state: 'funded', last_seq: trail.length - 1 });
  expect(await documentsOf(sys.db, id)).toHaveLength(1);
  const mail = await outboxFor(sys.db, id);
  expect(mail.map((m) => m.template)).toEqual(
    expect.arrayContaining([
      'application.submitted',
      'application.accompaniment',
      'application.admitted',
      'application.funded',
    ]),
  );
  // The company hears of every state; the consultant of the accompaniment and its outcome, in the same transaction.
  const to = (address: RegExp) => mail.filter((m) => address.test(m.recipient)).map((m) => m.template);
  expect(to(/^giulia\.ferraris@example\.org$/)).toEqual([
    'application.submitted',
    'application.accompaniment',
    'session.confirmation',
    'session.confirmation',
    'application.pre_project',
    'application.commission',
    'application.admitted',
    'application.funded',
  ]);
  expect(to(/@socialfare\.example\.org$/)).toEqual([
    'application.accompaniment',
    'session.confirmed',
    'session.confirmed',
    'application.pre_project',
    'application.commission',
    'application.admitted',
  ]);
});

test('the commission rejects a pre-project', async () => {
  const id = await inCommission();
  const v = await send(id, { type: 'REJECT', motivation: 'Impact not measurable.' }, commission);
  expect(v).toMatchObject({ state: 'rejected', final: true, facts: { motivation: 'Impact not measurable.' } });
  await expect(outcome(id)).resolves.toMatchObject({ state: 'rejected' });
});

test('an ineligible company is rejected at submission with every reason', async () => {
  const { applicationId } = await sys.service.apply(
    sys.form({
      company: { vatNumber: '12345678901', headcount: 120, operatingSite: { comune: 'Milano', address: 'Via Roma 1' } },
    }),
    operator,
  );
  await expect(outcome(applicationId)).resolves.toMatchObject({ state: 'rejected' });
  const v = await sys.client.workflow.getHandle(applicationId).query(viewQuery);
  expect(v.facts.eligibility).toBe('ineligible');
  expect(v.facts.ineligibilityReasons).toHaveLength(3);
  expect(v.facts.ineligibilityReasons.join(' ')).toMatch(/VAT number.*not a micro or small.*Milano/s);
});

test('an integration request sends the pre-project back, and a new version goes forward', async () => {
  const id = await inCommission();
  const back = await send(
    id,
    { type: 'REQUEST_INTEGRATION', motivation: 'Add a baseline for the jobs indicator.' },
    commission,
  );
  expect(back).toMatchObject({
    state: 'pre_project',
    deadline: { kind: 'integration_answer' },
    facts: { integrationRequests: 1 },
  });
  await send(
    id,
    { type: 'SUBMIT_PRE_PROJECT', preProject: preProject({ summary: 'Now with a baseline of 3 jobs.' }) },
    consultant,
  );
  const again = await send(id, { type: 'FORWARD_TO_COMMISSION' });
  expect(again).toMatchObject({ state: 'commission', facts: { preProject: { version: 2 } } });
  expect((await send(id, { type: 'APPROVE', motivation: 'Complete now.' }, commission))?.state).toBe('admitted');
});

test('a company withdraws during the accompaniment', async () => {
  const id = await inAccompaniment();
  const v = await send(id, { type: 'WITHDRAW', reason: 'The company renounces.' });
  expect(v).toMatchObject({ state: 'withdrawn', final: true, facts: { closingReason: 'The company renounces.' } });
  await expect(outcome(id)).resolves.toMatchObject({ state: 'withdrawn' });
});

describe('impossible events are refused with a reason and leave no trace', () => {
  const historyLength = async (id: string) =>
    (await sys.client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0;

  test('approving while in accompaniment', async () => {
    const id = await inAccompaniment();
    const before = await historyLength(id);
    const err = await send(id, { type: 'APPROVE', motivation: 'too early' }, commission).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({
      code: 'event_refused',
      message: expect.stringMatching(/APPROVE is not possible while the application is in accompaniment/),
    });
    expect((await sys.service.view(id)).state).toBe('accompaniment');
    expect(await historyLength(id)).toBe(before);
  });

  test('completing the accompaniment with 7.5 verified hours', async () => {
    const id = await inAccompaniment();
    await logConfirmedSession(id, dayFromToday(1), '09:00', '13:00');
    await logConfirmedSession(id, dayFromToday(2), '09:00', '12:30');
    const err = await send(id, { type: 'COMPLETE_ACCOMPANIMENT' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'event_refused',
      message: expect.stringContaining('verified accompaniment hours are 7.50 h, the rules require at least 8 h'),
    });
    const v = await sys.service.view(id);
    expect(v).toMatchObject({ state: 'accompaniment', facts: { verifiedHours: 7.5 } });
    expect(v.allowedCommands).not.toContain('COMPLETE_ACCOMPANIMENT');
  });

  test('a system event or a malformed payload from outside', async () => {
    const id = await inAccompaniment();
    await expect(
      sys.service.send(id, { type: 'RECORD_VERIFIED_HOURS', verifiedMinutes: 600 }, operator),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(
      sys.service.send(id, { type: 'LOG_SESSION', session: { date: 'yesterday' } }, operator),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      details: expect.arrayContaining([expect.objectContaining({ path: 'session.date' })]),
    });
    expect((await sys.service.view(id)).facts.verifiedHours).toBe(0);
  });

  test('a refused signal changes nothing and is reported by the query', async () => {
    const id = await inAccompaniment();
    await sys.service.send(id, { type: 'APPROVE', motivation: 'as a signal' }, commission, { mode: 'signal' });
    let v = await sys.service.view(id);
    for (let i = 0; i < 50 && v.refusedSignals.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      v = await sys.service.view(id);
    }
    expect(v.state).toBe('accompaniment');
    expect(v.refusedSignals).toEqual([
      expect.objectContaining({ type: 'APPROVE', reason: expect.stringMatching(/not possible/) }),
    ]);
  });

  test('a signal that fits is applied', async () => {
    const id = await inAccompaniment();
    await sys.service.send(id, { type: 'WITHDRAW', reason: 'by signal' }, operator, { mode: 'signal' });
    await expect(outcome(id)).resolves.toMatchObject({ state: 'withdrawn' });
  });
});

test('the same company cannot apply twice to one call', async () => {
  const form = sys.form();
  const first = await eligibleApplication(form);
  const err = await sys.service
    .apply({ ...form, company: { ...form.company, legalName: 'Another name' } }, operator)
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'already_applied', message: expect.stringContaining(first) });
  expect(first).not.toContain(form.company.vatNumber);
});

test('an upload that is not an accepted document fails the command, not the workflow', async () => {
  const id = await inAccompaniment();
  const err = await send(id, {
    type: 'ATTACH_DOCUMENT',
    document: {
      kind: 'attachment',
      filename: 'virus.pdf',
      contentBase64: Buffer.from('MZ not a pdf').toString('base64'),
    },
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toMatch(/not a PDF, ODT, DOCX or signed P7M/);
  expect((await sys.service.view(id)).state).toBe('accompaniment');
  expect(await sys.client.workflow.getHandle(id).describe()).toMatchObject({ status: { name: 'RUNNING' } });
});
