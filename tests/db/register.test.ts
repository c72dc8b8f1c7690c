import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { machineInputOf, recordSubmission } from '../../client/service/applications';
import { applicationIdFor } from '../../client/service/ids';
import { ListFilterSchema } from '../../client/service/filters';
import { allApplications, applicationView, listApplications } from '../../client/service/register';
import type { Db } from '../../db/connect';
import { createUser } from '../../db/repositories/users';
import { storeUpload } from '../../documents/store';
import type { CommandMeta } from '../../workflows/messages';
import { backends, openTestDb } from '../support/database';
import { applicationForm, dayFromToday, newVatNumber, pdfBytes } from '../support/fixtures';
import { operator } from '../support/people';
import { registerHarness, type Harness } from './harness';

describe.each(backends)('the register against %s', (backend) => {
  let db: Db;
  let h: Harness;
  /** The applications of this file's call, in the order they were submitted. */
  const apps = {} as Record<'alfa' | 'bottega' | 'coop' | 'delta', string>;
  let alfaVat: string;
  let elsewhere: string;
  let olga: CommandMeta;

  const company = (legalName: string, more: Record<string, unknown> = {}) => ({
    company: { ...applicationForm().company, legalName, ...more },
  });

  beforeAll(async () => {
    db = await openTestDb(backend);
    h = registerHarness(db);
    const user = await createUser(db, { name: 'Olga Operatrice', role: 'operator' });
    olga = { actor: user.user.id, role: 'operator' };
    alfaVat = newVatNumber();
    apps.alfa = await h.registered(company('Alfa Tessile Srl', { vatNumber: alfaVat }));
    apps.bottega = await h.registered(
      { ...company('Bottega 100% Riuso Srl'), themes: ['environment', 'employment'] },
      h.callId,
      olga,
    );
    await h.assign(apps.bottega, { body: 'socialfare', effectiveOn: dayFromToday(-50), meta: olga });
    apps.coop = await h.registered(company('Cooperativa_Tessile Scs'));
    await h.assign(apps.coop, { body: 'i3p', effectiveOn: dayFromToday(-20) });
    // Outside the territory: rejected at once.
    apps.delta = await h.registered(
      company('Delta Ricerca Srl', { operatingSite: { comune: 'Milano', address: 'x' } }),
    );
    // The same company may apply to another call.
    elsewhere = await h.registered(company('Alfa Tessile Srl', { vatNumber: alfaVat }), h.newCall());
  });
  afterAll(async () => {
    await db?.destroy();
  });

  /** The ids a filter lists, one page; the filter parsed as the API and the CLI parse it. */
  const listed = async (filter: Record<string, unknown>) =>
    (await listApplications(db, ListFilterSchema.parse(filter))).items.map((a) => a.applicationId);

  test('each filter is its own condition, combined with the call', async () => {
    const call = h.callId;
    expect(await listed({ call })).toEqual([apps.alfa, apps.bottega, apps.coop, apps.delta]);
    expect(await listed({ call, state: 'accompaniment' })).toEqual([apps.bottega, apps.coop]);
    expect(await listed({ call, state: 'rejected' })).toEqual([apps.delta]);
    expect(await listed({ call, body: 'socialfare' })).toEqual([apps.bottega]);
    expect(await listed({ call, theme: 'environment' })).toEqual([apps.bottega]);
    expect(await listed({ call, theme: 'employment' })).toEqual([apps.alfa, apps.bottega, apps.coop, apps.delta]);
    // A VAT number is the company's in every call.
    expect(await listed({ vat: alfaVat })).toEqual([apps.alfa, elsewhere]);
    expect(await listed({ call, vat: alfaVat })).toEqual([apps.alfa]);
    // Part of the name, whatever the case; % and _ are letters there, not wildcards.
    expect(await listed({ call, name: 'TESSILE' })).toEqual([apps.alfa, apps.coop]);
    expect(await listed({ call, name: 'a_tessile' })).toEqual([apps.coop]);
    expect(await listed({ call, name: '% r' })).toEqual([apps.bottega]);
    // A running deadline before the day: bottega's accompaniment (assigned 50 days ago) ends first.
    expect(await listed({ call, due: dayFromToday(85) })).toEqual([apps.bottega]);
    expect(await listed({ call, due: dayFromToday(120) })).toEqual([apps.bottega, apps.coop]);
    expect(await listed({ call, state: 'submitted', body: 'socialfare' })).toEqual([]);
  });

  test('a summary carries the register columns', async () => {
    const [bottega] = (await listApplications(db, ListFilterSchema.parse({ call: h.callId, body: 'socialfare' })))
      .items;
    expect(bottega).toEqual({
      applicationId: apps.bottega,
      callId: h.callId,
      state: 'accompaniment',
      companyName: 'Bottega 100% Riuso Srl',
      comune: 'Ivrea',
      implementingBody: 'socialfare',
      themes: ['environment', 'employment'],
      requestedCents: null,
      admittedCents: null,
      fundedCents: null,
      deadline: { kind: 'accompaniment', dueAt: expect.stringMatching(new RegExp(`^${dayFromToday(70)}T`)) },
      submittedAt: expect.any(String),
      closedAt: null,
    });
  });

  test('pages follow each other by cursor; a cursor the list did not give is refused', async () => {
    const first = await listApplications(db, ListFilterSchema.parse({ call: h.callId, limit: 3 }));
    expect(first.items.map((a) => a.applicationId)).toEqual([apps.alfa, apps.bottega, apps.coop]);
    expect(first.next).toEqual(expect.any(String));
    const second = await listApplications(db, ListFilterSchema.parse({ call: h.callId, limit: 3, after: first.next }));
    expect(second).toEqual({ items: [expect.objectContaining({ applicationId: apps.delta })], next: null });
    // Exactly one page's worth: no cursor to an empty page.
    expect((await listApplications(db, ListFilterSchema.parse({ call: h.callId, limit: 4 }))).next).toBeNull();

    const forged = Buffer.from('yesterday|someone').toString('base64url');
    await expect(listApplications(db, ListFilterSchema.parse({ call: h.callId, after: forged }))).rejects.toMatchObject(
      { code: 'invalid_input', details: [{ path: 'after', message: 'unknown cursor' }] },
    );
    expect(ListFilterSchema.safeParse({ after: 'not/a+cursor' }).success).toBe(false);
  });

  test('allApplications follows every page, also through rows submitted in the same instant', async () => {
    const call = h.newCall();
    const count = 2_345;
    // One statement: every row has the same created_at, so only the id orders them.
    await db
      .insertInto('applications')
      .values(
        Array.from({ length: count }, (_, i) => ({
          id: `${call}.bulk-${String(i).padStart(5, '0')}`,
          call_id: call,
          rules_version: 1,
          vat_number: `bulk-${i}`,
          legal_name: `Impresa ${i} Srl`,
          representative_email: 'legale@example.org',
          form: '{}',
          state: 'submitted',
          last_seq: 0,
          facts: '{}',
        })),
      )
      .execute();
    const all = await allApplications(db, { call });
    expect(all).toHaveLength(count);
    expect(new Set(all.map((a) => a.applicationId)).size).toBe(count);
    expect(all.map((a) => a.applicationId)).toEqual([...all.map((a) => a.applicationId)].sort());
    // The filters hold on every page: 7, 70-79 and 700-799.
    const sevens = await allApplications(db, { call, name: 'Impresa 7' });
    expect(sevens).toHaveLength(1 + 10 + 100);
    expect(sevens.every((a) => a.companyName.startsWith('Impresa 7'))).toBe(true);
  });

  test('a view assembles company, consultant, attached documents and a timeline naming people', async () => {
    const id = apps.bottega;
    const bytes = pdfBytes(randomUUID());
    const upload = (kind: 'attachment' | 'invoice') =>
      storeUpload(db, {
        applicationId: id,
        kind,
        filename: `${kind}.pdf`,
        bytes,
        uploadedBy: olga.actor,
        maxBytes: 1_000_000,
      });
    const attached = await upload('attachment');
    await upload('invoice');
    await h.step(id, { type: 'ATTACH_DOCUMENT', document: attached }, olga);
    const consultant = await db
      .selectFrom('applications')
      .innerJoin('consultants', 'consultants.id', 'applications.consultant_id')
      .select(['consultants.id', 'consultants.email'])
      .where('applications.id', '=', id)
      .executeTakeFirstOrThrow();

    const view = await applicationView(db, id);
    expect(view).toMatchObject({
      applicationId: id,
      state: 'accompaniment',
      rulesVersion: 1,
      final: false,
      seq: 3,
      company: {
        legalName: 'Bottega 100% Riuso Srl',
        comune: 'Ivrea',
        atecoCode: '62.01',
        sizeClass: 'micro',
      },
      consultant: {
        id: consultant.id,
        name: 'Anna Rossi',
        email: consultant.email,
        bodyId: 'socialfare',
        bodyName: 'SocialFare impresa sociale srl',
      },
      facts: { verifiedHours: 0, requiredHours: 8, implementingBody: 'socialfare', documents: [attached] },
      documents: [
        {
          documentId: attached.documentId,
          kind: 'attachment',
          filename: 'attachment.pdf',
          mediaType: 'application/pdf',
          sizeBytes: bytes.length,
          sha256: attached.sha256,
          attachedAt: expect.any(String),
        },
      ],
    });
    expect(view.allowedCommands).toEqual(expect.arrayContaining(['LOG_SESSION', 'WITHDRAW']));
    expect(view.allowedCommands).not.toContain('APPROVE');
    expect(view.timeline.map((t) => [t.seq, t.event, t.from, t.to, t.actor, t.role])).toEqual([
      [0, 'SUBMIT', null, 'submitted', 'Olga Operatrice', 'operator'],
      [1, 'CONFIRM_ELIGIBILITY', 'submitted', 'submitted', 'system', 'system'],
      [2, 'ASSIGN_BODY', 'submitted', 'accompaniment', 'Olga Operatrice', 'operator'],
      [3, 'ATTACH_DOCUMENT', 'accompaniment', 'accompaniment', 'Olga Operatrice', 'operator'],
    ]);
    expect(view.timeline[2]!.summary).toEqual({ implementingBody: 'socialfare', effectiveOn: dayFromToday(-50) });
    // An actor who is no user (the test's operator id) is shown as recorded.
    expect((await applicationView(db, apps.coop)).timeline[2]).toMatchObject({ actor: operator.actor });
  });

  test('a closed application is final, with no command left; an unknown one is not found', async () => {
    const view = await applicationView(db, apps.delta);
    expect(view).toMatchObject({ state: 'rejected', final: true, allowedCommands: [], consultant: null });
    expect(view.closedAt).toEqual(expect.any(String));
    expect(view.facts).toMatchObject({ eligibility: 'ineligible', ineligibilityReasons: ['outside_territory'] });
    await expect(applicationView(db, `${h.callId}.nobody`)).rejects.toMatchObject({ code: 'not_found' });
  });

  test('one application per company and call: a second registration writes nothing', async () => {
    const form = applicationForm({ callId: h.callId, submittedOn: dayFromToday(-60) });
    const rules = h.rulesOf(h.callId);
    const record = (id: string) =>
      recordSubmission(db, {
        form,
        machine: machineInputOf(form, rules, id, form.submittedOn!),
        meta: operator,
        occurredAt: new Date().toISOString(),
      });
    const id = applicationIdFor('one-secret-for-this-test', h.callId, form.company.vatNumber);
    await expect(record(id)).resolves.toBe(true);
    const first = await h.footprint(id);
    // The same id again, and another id (as another ID_SECRET would derive) for the same company and call.
    await expect(record(id)).resolves.toBe(false);
    const other = applicationIdFor('another-secret-for-this-test', h.callId, form.company.vatNumber);
    await expect(record(other)).resolves.toBe(false);
    expect(await h.footprint(id)).toEqual(first);
    expect(await db.selectFrom('applications').select('id').where('id', '=', other).execute()).toEqual([]);
    // The constraint itself, for any writer that does not ask nicely.
    const insert = sql`
      insert into applications (id, call_id, rules_version, vat_number, legal_name, representative_email, form, state)
      values (${other}, ${h.callId}, 1, ${form.company.vatNumber}, 'x', 'x@example.org', '{}', 'submitted')`;
    await expect(insert.execute(db)).rejects.toThrow(/applications_one_per_company_and_call/);
  });
});
