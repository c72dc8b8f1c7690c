import { randomUUID } from 'node:crypto';
import { projectView, sendToProject } from '../../client/service/projects';
import { ensureConsultant } from '../../client/service/registry';
import { storeUpload } from '../../documents/store';
import { romeToday } from '../../domain/rome';
import type { ApplicationCommand, DocumentKind } from '../../machines/events';
import { addMonths } from '../../machines/project.deadlines';
import type { DocumentRef, ProjectCommand } from '../../machines/project.events';
import type { ProjectState } from '../../machines/project.machine';
import { projectWorkflowId, type CommandMeta } from '../../workflows/messages';
import { eventually } from './eventually';
import { dayFromToday, pdfBytes, preProject, session, type PreProjectOverrides } from './fixtures';
import { operator, PEOPLE } from './people';
import { confirmationCode, type TestSystem } from './system';

/*
 * The journeys every end-to-end test builds on, through the same service the API uses: one helper per step, so
 * no test copies a setup.
 */

type Sys = Pick<TestSystem, 'service' | 'db' | 'form' | 'view' | 'config'>;
/** The project's commands go to its own workflow, through the client (client/service/projects.ts). */
type ProjectSys = Sys & Pick<TestSystem, 'client'>;

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

// ---------------------------------------------------------------------------------------------------------------
// The funded project

export const sendProject = (sys: ProjectSys, id: string, event: ProjectCommand, meta: CommandMeta = operator) =>
  sendToProject(sys.client, sys.db, id, event, meta);

/** The project's state in the register, once it is `state` (or whatever it is after a few seconds). */
export const projectState = async (sys: ProjectSys, id: string, state: ProjectState) =>
  (
    await eventually(
      () => projectView(sys.db, id),
      (v) => v.state === state,
    )
  ).state;

/**
 * An admitted application funded with `amountCents` (the whole admitted support unless said) disbursed on
 * `disbursedOn`, once its project's workflow runs: the funding step starts it as a child, after the step.
 */
export async function funded(
  sys: ProjectSys,
  overrides: PreProjectOverrides = {},
  { disbursedOn = dayFromToday(0), amountCents }: { disbursedOn?: string; amountCents?: number } = {},
): Promise<string> {
  const id = await admitted(sys, overrides);
  const admittedCents = (await sys.view(id)).admittedCents!;
  await send(sys, id, { type: 'RECORD_FUNDING', amountCents: amountCents ?? admittedCents, disbursedOn });
  const started = await eventually(
    () =>
      sys.client.workflow
        .getHandle(projectWorkflowId(id))
        .describe()
        .then(
          () => true,
          () => false,
        ),
    (running) => running,
  );
  if (!started) throw new Error(`the project of ${id} did not start`);
  return id;
}

/** Disbursed 13 months ago: the 12-month realisation is over when the project starts, its report due in ~30 days. */
export const disbursedForReportDue = () => addMonths(dayFromToday(0), -13);

/** A funded project whose realisation has ended: the final report is due (the workflow's timer fired at once). */
export async function reportDue(sys: ProjectSys, overrides: PreProjectOverrides = {}): Promise<string> {
  const id = await funded(sys, overrides, { disbursedOn: disbursedForReportDue() });
  const state = await projectState(sys, id, 'final_report_due');
  if (state !== 'final_report_due') throw new Error(`the project of ${id} is ${state}, not final_report_due`);
  return id;
}

/** Stores a project document as its upload route does, `name`.pdf (its bytes differ by name); answers its reference. */
export async function projectDocument(
  sys: ProjectSys,
  id: string,
  kind: DocumentRef['kind'],
  name: string,
): Promise<DocumentRef> {
  const stored = await storeUpload(sys.db, {
    applicationId: id,
    kind,
    filename: `${name}.pdf`,
    bytes: pdfBytes(name),
    uploadedBy: operator.actor,
    maxBytes: sys.config.DOCUMENT_MAX_BYTES,
  });
  return { sha256: stored.sha256, kind, sizeBytes: stored.sizeBytes };
}

/**
 * The final report of a project whose report is due, sent by the consultant: every indicator of the pre-project
 * measured as given (today, with its evidence), every cost line spent as given (with an invoice when money was spent).
 */
export async function finalReportSent(
  sys: ProjectSys,
  id: string,
  figures: { measured: number[]; spentCents: number[] },
): Promise<void> {
  const { preProject: planned } = await projectView(sys.db, id);
  const indicators = [];
  for (const [k, i] of planned.indicators.entries())
    indicators.push({
      indicator: k + 1,
      name: i.name,
      measured: figures.measured[k]!,
      measuredOn: dayFromToday(0),
      evidence: await projectDocument(sys, id, 'indicator_evidence', `misura-indicatore-${k + 1}`),
    });
  const costLines = [];
  for (const [k, c] of planned.costLines.entries()) {
    const spentCents = figures.spentCents[k]!;
    costLines.push({
      costLine: k + 1,
      description: c.description,
      spentCents,
      documents: spentCents > 0 ? [await projectDocument(sys, id, 'invoice', `fattura-voce-${k + 1}`)] : [],
    });
  }
  await sendProject(
    sys,
    id,
    { type: 'SUBMIT_FINAL_REPORT', report: { narrative: 'Carried out as planned.', indicators, costLines } },
    PEOPLE.consultant,
  );
}
