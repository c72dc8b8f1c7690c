import { randomUUID } from 'node:crypto';
import { ensureConsultant } from '../../client/service/registry';
import { storeUpload } from '../../documents/store';
import { romeToday } from '../../domain/rome';
import type { ApplicationCommand, DocumentKind } from '../../machines/events';
import type { CommandMeta } from '../../workflows/messages';
import { dayFromToday, pdfBytes, preProject, session, type PreProjectOverrides } from './fixtures';
import { operator, PEOPLE } from './people';
import { confirmationCode, type TestSystem } from './system';

/*
 * The journeys every end-to-end test builds on, through the same service the API uses: one helper per step, so
 * no test copies a setup.
 */

type Sys = Pick<TestSystem, 'service' | 'db' | 'form' | 'view' | 'config'>;

export const send = (sys: Sys, id: string, event: ApplicationCommand, meta: CommandMeta = operator) =>
  sys.service.send(id, event, meta);

/** A registered application; eligible unless the form says otherwise. */
export async function registered(sys: Sys, form = sys.form()): Promise<string> {
  return (await sys.service.apply(form, operator)).applicationId;
}

/** Assigns a body and a consultant of its own (one per application: the same person is never in two places). */
export async function assign(sys: Sys, id: string, body = 'i3p', effectiveOn = romeToday(new Date())) {
  const tag = randomUUID().slice(0, 8);
  const consultantId = await ensureConsultant(sys.db, body, {
    name: `Anna ${tag}`,
    email: `anna.${tag}@${body}.example.org`,
  });
  return send(sys, id, { type: 'ASSIGN_BODY', implementingBody: body, consultantId, effectiveOn });
}

export async function inAccompaniment(sys: Sys, body = 'i3p'): Promise<string> {
  const id = await registered(sys);
  await assign(sys, id, body);
  return id;
}

/** Logs a session as the consultant, then confirms it as the company with the code from its e-mail. */
export async function confirmedSession(sys: Sys, id: string, date: string, start: string, end: string) {
  await send(sys, id, { type: 'LOG_SESSION', session: session(date, start, end) }, PEOPLE.consultant);
  const code = await confirmationCode(sys.db, id, date, start);
  return send(sys, id, { type: 'CONFIRM_SESSION', date, start, code }, PEOPLE.company);
}

/** Eight confirmed hours on two days: the 2023 rules' minimum. */
export async function eightHours(sys: Sys, id: string) {
  await confirmedSession(sys, id, dayFromToday(1), '09:00', '13:00');
  return confirmedSession(sys, id, dayFromToday(2), '14:00', '18:00');
}

export async function inPreProject(sys: Sys, body = 'i3p'): Promise<string> {
  const id = await inAccompaniment(sys, body);
  await eightHours(sys, id);
  await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' });
  return id;
}

/** An application whose pre-project waits for the commission's evaluation. */
export async function inCommission(sys: Sys, body = 'i3p', overrides: PreProjectOverrides = {}): Promise<string> {
  const id = await inPreProject(sys, body);
  await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject(overrides) });
  await send(sys, id, { type: 'FORWARD_TO_COMMISSION' });
  return id;
}

/** The chair's decision: the commission's door names the chair, and the workflow checks it is the sender. */
export const decide = (
  sys: Sys,
  id: string,
  type: 'APPROVE' | 'REJECT' | 'REQUEST_INTEGRATION',
  motivation = 'decided',
) => send(sys, id, { type, motivation, chair: PEOPLE.chair.actor }, PEOPLE.chair);

export async function admitted(sys: Sys, overrides: PreProjectOverrides = {}): Promise<string> {
  const id = await inCommission(sys, 'i3p', overrides);
  await decide(sys, id, 'APPROVE', 'solid social impact plan');
  return id;
}

/** Uploads a document as the API does (stored first), then attaches it with a command. */
export async function attach(sys: Sys, id: string, kind: DocumentKind = 'attachment', bytes = pdfBytes()) {
  const document = await storeUpload(sys.db, {
    applicationId: id,
    kind,
    filename: `${kind}.pdf`,
    bytes,
    uploadedBy: operator.actor,
    maxBytes: sys.config.DOCUMENT_MAX_BYTES,
  });
  await send(sys, id, { type: 'ATTACH_DOCUMENT', document });
  return document;
}
