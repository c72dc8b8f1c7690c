import { randomBytes } from 'node:crypto';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { ensureConsultant } from '../../client/service/registry';
import { romeToday } from '../../domain/rome';
import { EncryptionCodec } from '../../security/codec';
import { dayFromToday, pdfBytes, preProject, session } from '../support/fixtures';
import { attach, decide, registered, send } from '../support/journeys';
import { operator, PEOPLE } from '../support/people';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

/*
 * The personal-data canary: unique strings in every personal field, a whole lifecycle, then every history read
 * as anyone with access to Temporal reads it. None may appear in clear; with the keys, none of the form's or the
 * document's (those stay in PostgreSQL: the workflow carries ids and digests).
 */

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ clockOffsetDays: 30 });
});
afterAll(async () => {
  await sys?.stop();
});

const tag = () => `cnry${randomBytes(5).toString('hex')}`;
const CANARY = {
  representativeName: `Giulia ${tag()}`,
  representativeEmail: `${tag()}@example.org`,
  legalName: `Officina ${tag()} Srl`,
  address: `Via ${tag()} 11`,
  fiscalCode: `RSSGLI${tag().toUpperCase()}`,
  attendee: `Marco ${tag()}`,
  topic: `business plan of ${tag()}`,
  consultantName: `Anna ${tag()}`,
  consultantEmail: `${tag()}@i3p.example.org`,
  preProjectSummary: `Workshop run by ${tag()}`,
  motivation: `Convincing, says ${tag()}`,
};
/** What the form and the document hold: not even a key holder finds these in Temporal. */
const STORED_ONLY = [
  'representativeName',
  'representativeEmail',
  'legalName',
  'address',
  'fiscalCode',
  'consultantName',
  'consultantEmail',
] as const;

const isPayload = (v: object): v is Payload =>
  'data' in v && 'metadata' in v && typeof (v as Payload).metadata === 'object' && (v as Payload).metadata !== null;

/**
 * Every string a history holds, bytes read as UTF-8 (a plain JSON payload is readable text there); with a codec,
 * each payload is decoded first, as the Temporal UI with the codec server shows it.
 */
async function textOf(value: unknown, codec?: EncryptionCodec): Promise<string> {
  const parts: string[] = [];
  const walk = async (v: unknown): Promise<void> => {
    if (v === null || v === undefined) return;
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) for (const x of v) await walk(x);
    else if (typeof v === 'object' && codec && isPayload(v)) {
      const [decoded] = await codec.decode([v]);
      await walk(decoded!.metadata);
      await walk(decoded!.data);
    } else if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        parts.push(k);
        await walk(x);
      }
    } else parts.push(String(v));
  };
  await walk(value);
  return parts.join('\n');
}

const found = (text: string, keys: readonly (keyof typeof CANARY)[] = Object.keys(CANARY) as never) =>
  keys.filter((k) => text.includes(CANARY[k]));

/** Every run of the application (continue-as-new makes more than one), read through `client`. */
async function histories(client: Client, id: string) {
  const all = [];
  for await (const wf of sys.client.workflow.list({ query: `WorkflowId = '${id}'` }))
    all.push(await client.workflow.getHandle(id, wf.runId).fetchHistory());
  return all;
}

/** What the Temporal UI shows beside the history: summary, current details, search attributes, id. */
async function uiFields(handle: WorkflowHandle) {
  const described = await handle.describe();
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return JSON.stringify({
    id: handle.workflowId,
    summary: await described.staticSummary(),
    details: await described.staticDetails(),
    current: metadata.currentDetails,
    searchAttributes: described.typedSearchAttributes.getAll(),
    memo: described.memo,
  });
}

test('no personal data in any history in clear, none of the form or the documents even with the keys', async () => {
  const form = sys.form({
    company: {
      legalName: CANARY.legalName,
      operatingSite: { comune: 'Ivrea', address: CANARY.address },
      legalRepresentative: { name: CANARY.representativeName, email: CANARY.representativeEmail, locale: 'it' },
    },
  });
  const id = await registered(sys, form);
  const handle = sys.client.workflow.getHandle(id);
  const consultantId = await ensureConsultant(sys.db, 'i3p', {
    name: CANARY.consultantName,
    email: CANARY.consultantEmail,
  });
  await send(sys, id, {
    type: 'ASSIGN_BODY',
    implementingBody: 'i3p',
    consultantId,
    effectiveOn: romeToday(new Date()),
  });
  for (const [day, start, end] of [
    [dayFromToday(1), '09:00', '13:00'],
    [dayFromToday(2), '14:00', '18:00'],
  ] as const) {
    const logged = { ...session(day, start, end, CANARY.topic), attendees: [CANARY.attendee] };
    await send(sys, id, { type: 'LOG_SESSION', session: logged }, PEOPLE.consultant);
    const code = await confirmationCode(sys.db, id, day, start);
    await send(sys, id, { type: 'CONFIRM_SESSION', date: day, start, code }, PEOPLE.company);
  }
  await attach(sys, id, 'pre_project', pdfBytes(`codice fiscale del legale rappresentante: ${CANARY.fiscalCode}`));
  await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' }, PEOPLE.consultant);
  const pp = preProject({ summary: CANARY.preProjectSummary });
  await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: pp }, PEOPLE.consultant);
  await send(sys, id, { type: 'FORWARD_TO_COMMISSION' });
  const whileOpen = await uiFields(handle);
  await decide(sys, id, 'APPROVE', CANARY.motivation);
  await send(sys, id, { type: 'RECORD_FUNDING', amountCents: 4_000_000, disbursedOn: dayFromToday(0) }, operator);
  await expect(handle.result()).resolves.toMatchObject({ state: 'funded' });
  // The register has it all, so the canaries were really sent.
  const view = await sys.view(id);
  expect(view).toMatchObject({
    state: 'funded',
    companyName: CANARY.legalName,
    consultant: { name: CANARY.consultantName },
  });

  // Raw, as anyone who reaches Temporal reads it: no codec.
  const raw = await textOf(await histories(new Client({ connection: sys.client.connection }), id));
  // The search does read the history's text, payload bytes included (search attributes are plain JSON payloads).
  expect(raw).toContain(id);
  expect(raw).toContain('"funded"');
  expect(found(raw)).toEqual([]);
  expect(raw).not.toContain(form.company.vatNumber);

  // With the keys, as staff read it through the codec server: what the commands carry, nothing of the form.
  const decoded = await textOf(await histories(sys.client, id), new EncryptionCodec(sys.ring));
  expect(found(decoded, ['attendee', 'topic', 'preProjectSummary', 'motivation'])).toEqual([
    'attendee',
    'topic',
    'preProjectSummary',
    'motivation',
  ]);
  expect(found(decoded, STORED_ONLY)).toEqual([]);
  expect(decoded).not.toContain(form.company.vatNumber);

  // Ids, summaries, current details, search attributes: no personal data of any kind, open or closed.
  for (const shown of [whileOpen, await uiFields(handle)]) {
    expect(found(shown)).toEqual([]);
    expect(shown).not.toContain(form.company.vatNumber);
    expect(shown).not.toMatch(/Giulia|Anna|Marco|Officina/);
  }
});
