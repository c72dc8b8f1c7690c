import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { projectView, sendToProject } from '../../client/service/projects';
import { outboxFor } from '../../db/repositories/notifications';
import { storeUpload } from '../../documents/store';
import type { CallRules } from '../../domain/rules';
import { romeToday } from '../../domain/rome';
import { addDays, addMonths } from '../../machines/project.deadlines';
import type { CostLineDecision, DocumentRef, FinalReport, ProjectCommand } from '../../machines/project.events';
import type { ProjectState } from '../../machines/project.machine';
import type { CommandMeta } from '../../workflows/messages';
import { eventually } from './eventually';
import { applicationForm, pdfBytes, preProject, rules2023, type PreProjectOverrides } from './fixtures';
import { admitted, send } from './journeys';
import { operator, PEOPLE } from './people';
import type { TestSystem } from './system';

/*
 * The funded project's journeys (issue 13), through the same service the API's project routes use: one helper per
 * step, for the real dev server and the time-skipping one alike.
 */

const consultant = PEOPLE.consultant;

export type ProjectSys = Pick<TestSystem, 'service' | 'db' | 'form' | 'view' | 'config'> & { client: Client };

export const JOBS = 'Jobs for people at risk of exclusion';
export const WASTE = 'Textile waste sent to landfill';
export const EQUIPMENT = 'Sewing and repair equipment';
export const TRAINING = 'Training of the repair team';

/** 3 points off a 6% loan of EUR 12,000 over 12 months: 19,541 cents (worked by hand in tests/unit/subsidy.test.ts). */
export const LOAN = { amountCents: 1_200_000, annualRateBps: 600, months: 12 };
export const SUBSIDY_CENTS = 19_541;
export const GRANT_CENTS = 4_000_000;
/** What the commission admits and the ledger reserves: the grant plus the interest subsidy. */
export const ADMITTED_CENTS = GRANT_CENTS + SUBSIDY_CENTS;

/**
 * The pre-project a funded project reports on: two indicators (the second one "lower is better"), two cost lines
 * (EUR 50,000 + EUR 30,000 planned), a EUR 40,000 grant and the loan above.
 */
export const PROJECT_PLAN: PreProjectOverrides = {
  themes: ['employment', 'environment'],
  indicators: [
    {
      name: JOBS,
      theme: 'employment',
      unit: 'FTE',
      baseline: 0,
      target: 3,
      measurementMethod: 'payroll records, yearly',
    },
    {
      name: WASTE,
      theme: 'environment',
      unit: 't/year',
      baseline: 12,
      target: 8,
      measurementMethod: 'waste register',
    },
  ],
  costLines: [
    { description: EQUIPMENT, category: 'equipment', amountCents: 5_000_000 },
    { description: TRAINING, category: 'services', amountCents: 3_000_000 },
  ],
  grantCents: GRANT_CENTS,
  loan: LOAN,
};
export const projectPlan = (overrides: PreProjectOverrides = {}) => preProject({ ...PROJECT_PLAN, ...overrides });

/** Today in Rome, `days` from now: the calendar the programme's dates are written in. */
export const romeDay = (days = 0, at = new Date()) => addDays(romeToday(at), days);

/**
 * A disbursement dated so that the 2023 rules' 12 months of realisation ended `daysAgo` days ago: on the real dev
 * server, whose clock cannot be moved, the project's first timer fires at once and its final report is due.
 */
export const disbursedMonthsAgo = (daysAgo = 3) => addDays(addMonths(romeDay(), -12), -daysAgo);

/**
 * An application through its accompaniment and the commission to funded with `plan`, then its project's workflow
 * started: the application's workflow starts it as it ends, so the helper waits for that before any command.
 */
export async function fundedProject(
  sys: ProjectSys,
  options: {
    disbursedOn?: string;
    amountCents?: number;
    plan?: PreProjectOverrides;
    admit?: (sys: ProjectSys, plan: PreProjectOverrides) => Promise<string>;
  } = {},
): Promise<string> {
  const id = await (options.admit ?? admitted)(sys, { ...PROJECT_PLAN, ...options.plan });
  const { admittedCents } = await sys.view(id);
  await send(sys, id, {
    type: 'RECORD_FUNDING',
    amountCents: options.amountCents ?? admittedCents!,
    disbursedOn: options.disbursedOn ?? romeDay(),
  });
  await sys.client.workflow.getHandle(id).result();
  return id;
}

/** A command to the application's project, as the API's project routes send it. */
export const toProject = (sys: ProjectSys, id: string, event: ProjectCommand, meta: CommandMeta = operator) =>
  sendToProject(sys.client, sys.db, id, event, meta);

export const projectOf = (sys: Pick<ProjectSys, 'db'>, id: string) => projectView(sys.db, id);

/** Waits for the project's workflow to take a step of its own (a timer's), up to `state`. */
export const projectIn = (sys: Pick<ProjectSys, 'db'>, id: string, state: ProjectState, timeoutMs?: number) =>
  eventually(
    () => projectView(sys.db, id),
    (p) => p.state === state,
    timeoutMs,
  );

/**
 * Uploads a document for the project as the API does (stored first, by digest): the reference a report names. Named
 * after what it documents, as a person names a file: the pages list a project's documents by their names.
 */
export async function upload(
  sys: Pick<ProjectSys, 'db' | 'config'>,
  id: string,
  kind: DocumentRef['kind'],
  text: string,
): Promise<DocumentRef> {
  const stored = await storeUpload(sys.db, {
    applicationId: id,
    kind,
    filename: `${text}.pdf`,
    bytes: pdfBytes(`${id} ${kind} ${text}`),
    uploadedBy: operator.actor,
    maxBytes: sys.config.DOCUMENT_MAX_BYTES,
  });
  return { sha256: stored.sha256, kind, sizeBytes: stored.sizeBytes };
}

/**
 * A complete final report for the project's forwarded pre-project: for each indicator its `measured` value (in
 * order) with an evidence document, for each cost line its `spentCents` with an invoice (none when nothing was
 * spent). Every document is uploaded first, like any other.
 */
export async function finalReport(
  sys: Pick<ProjectSys, 'db' | 'config'>,
  id: string,
  figures: { measured: readonly number[]; spentCents: readonly number[]; measuredOn?: string },
): Promise<FinalReport> {
  const row = await sys.db
    .selectFrom('projects')
    .select('snapshot')
    .where('application_id', '=', id)
    .executeTakeFirstOrThrow();
  const { indicators, costLines } = row.snapshot.context.preProject;
  return {
    narrative: 'The workshop opened; the repair team was hired and trained.',
    indicators: await Promise.all(
      indicators.map(async (indicator, i) => ({
        indicator: i + 1,
        name: indicator.name,
        measured: figures.measured[i]!,
        measuredOn: figures.measuredOn ?? romeDay(),
        evidence: await upload(sys, id, 'indicator_evidence', indicator.name),
      })),
    ),
    costLines: await Promise.all(
      costLines.map(async (line, i) => ({
        costLine: i + 1,
        description: line.description,
        spentCents: figures.spentCents[i]!,
        documents: figures.spentCents[i] ? [await upload(sys, id, 'invoice', line.description)] : [],
      })),
    ),
  };
}

/** The operator's verdict: each cost line's accepted amount, in order, and the reason of a cut. */
export const verdict = (...lines: (number | [number, string])[]): CostLineDecision[] =>
  lines.map((line, i) =>
    typeof line === 'number'
      ? { costLine: i + 1, acceptedCents: line }
      : { costLine: i + 1, acceptedCents: line[0], reason: line[1] },
  );

/**
 * A second call next to the system's own (the 2023 rules under a fresh id, with `rules` changed), written where the
 * system reads its calls: its budget and reserve list meet no other test's. Returns the system with that call's form.
 */
export function inAnotherCall<S extends Pick<TestSystem, 'config' | 'form'>>(
  sys: S,
  rules: Partial<CallRules>,
): S & { callId: string } {
  const callId = `call-${randomUUID().slice(0, 8)}`;
  writeFileSync(
    path.join(sys.config.CALLS_DIR, `${callId}.v1.json`),
    JSON.stringify({ ...rules2023, ...rules, callId }),
  );
  return { ...sys, callId, form: (overrides = {}) => applicationForm({ callId, ...overrides }) };
}

/** A project whose realisation period is over (back-dated disbursement): its final report is due. */
export async function reportDue(sys: ProjectSys, plan: PreProjectOverrides = {}): Promise<string> {
  const id = await fundedProject(sys, { disbursedOn: disbursedMonthsAgo(), plan });
  await projectIn(sys, id, 'final_report_due');
  return id;
}

/** A project whose final report was sent by the consultant and whose every cost line the operator accepted. */
export async function closedProject(
  sys: ProjectSys,
  figures: { measured: readonly number[]; spentCents: readonly number[] },
  plan: PreProjectOverrides = {},
): Promise<string> {
  const id = await reportDue(sys, plan);
  await toProject(sys, id, { type: 'SUBMIT_FINAL_REPORT', report: await finalReport(sys, id, figures) }, consultant);
  await toProject(sys, id, { type: 'VERIFY_REPORT', costLines: verdict(...figures.spentCents) });
  return id;
}

/** The project's messages queued in the outbox (oldest first) with `template`, as their payloads. */
export async function projectPayloads(sys: Pick<ProjectSys, 'db'>, id: string, template: string) {
  return (await outboxFor(sys.db, id))
    .filter((m) => m.template === template)
    .map((m) => (typeof m.payload === 'string' ? JSON.parse(m.payload) : m.payload) as Record<string, unknown>);
}

/**
 * The project's messages in the outbox, in the order they were queued, as "template/audience[/what]": what a notice
 * says the project moved to, the decision, the deadline a reminder is about and how many days before, the kind of an
 * intention. One line per message: an order or a recipient gone wrong shows in the diff.
 */
export async function projectMail(sys: Pick<ProjectSys, 'db'>, id: string): Promise<string[]> {
  return (await outboxFor(sys.db, id))
    .filter((m) => m.template.startsWith('project.'))
    .map((m) => {
      const p = (typeof m.payload === 'string' ? JSON.parse(m.payload) : m.payload) as Record<string, unknown>;
      const deadline = p.deadline as { kind: string } | null | undefined;
      const what =
        m.template === 'project.reminder'
          ? `${deadline!.kind}/${String(p.daysBefore)}`
          : (p.to ?? p.decision ?? p.kind);
      return [m.template, p.audience, ...(what ? [what] : [])].join('/');
    });
}

/** What a command's refusal was (the error itself), or an Error saying it was accepted: for `toMatchObject`. */
export const refusalOf = (p: Promise<unknown>) =>
  p.then(() => new Error('the command was accepted')).catch((e: unknown) => e);
