import { impactCsv, impactIndicatorsCsv } from '../../../domain/impact';
import { DocumentProblem, storeUpload } from '../../../documents/store';
import type { ProjectCommand } from '../../../machines/project.events';
import { UserError } from '../../errors';
import { idempotencyKey } from '../commands';
import { programmeImpact, projectView, sendToProject } from '../../service/projects';
import { applicationView } from '../../service/register';
import { route, type Call, type Route } from '../routes';
import {
  ApplicationIdParams,
  ExtensionBody,
  FinalReportBody,
  ImpactQuery,
  ImpactReportSchema,
  InterimReportBody,
  ObservationsBody,
  ProjectDecisionBody,
  ProjectDocumentSchema,
  ProjectViewSchema,
  ProjectUploadBody,
  RepaymentBody,
  RevocationBody,
  VerificationBody,
  WithdrawalBody,
} from '../schemas';
import { assertReadable } from '../visibility';

const readers = ['operator', 'auditor', 'consultant'] as const;
const reporters = ['consultant', 'operator'] as const;

/** A command to the project, by a person who may act on the application; the answer is the project as it now is. */
async function act(call: Call<{ id: string }, unknown, unknown>, event: ProjectCommand) {
  const { api, params, user, meta, req } = call;
  assertReadable(user!, await applicationView(api.db, params.id));
  // Namespaced by caller and by workflow: another person's key, or the same key sent to the application, is another.
  const key = idempotencyKey(req);
  const updateId = key === undefined ? undefined : `${meta.actor}:project:${key}`;
  await sendToProject(api.client, api.db, params.id, event, meta, updateId);
  return projectView(api.db, params.id);
}

const command = (
  url: string,
  summary: string,
  access: readonly ('operator' | 'consultant')[],
  body: Route['body'],
  toEvent: (body: never) => ProjectCommand,
): Route =>
  route({
    method: 'POST',
    url: `/applications/:id/project/${url}`,
    access,
    summary,
    params: ApplicationIdParams,
    body,
    command: true,
    response: ProjectViewSchema,
    handler: (call) => act(call, toEvent(call.body as never)),
  });

export const projectRoutes: Route[] = [
  route({
    method: 'GET',
    url: '/applications/:id/project',
    access: readers,
    summary: "A funded application's project: state, deadline, reports, verification, recovery, timeline",
    params: ApplicationIdParams,
    response: ProjectViewSchema,
    handler: async ({ api, params, user }) => {
      assertReadable(user!, await applicationView(api.db, params.id));
      return projectView(api.db, params.id);
    },
  }),
  route({
    method: 'POST',
    url: '/applications/:id/project/documents',
    access: reporters,
    summary: 'Upload evidence, invoices or observations for the project: answers the reference a report names it by',
    params: ApplicationIdParams,
    body: ProjectUploadBody,
    bodyLimit: 15 * 1024 * 1024,
    status: 201,
    response: ProjectDocumentSchema,
    handler: async ({ api, params, body, user, meta, reply }) => {
      assertReadable(user!, await applicationView(api.db, params.id));
      const stored = await storeUpload(api.db, {
        applicationId: params.id,
        kind: body.document.kind,
        filename: body.document.filename,
        bytes: Buffer.from(body.document.contentBase64, 'base64'),
        uploadedBy: meta.actor,
        maxBytes: api.config.DOCUMENT_MAX_BYTES,
      }).catch((err: unknown) => {
        if (!(err instanceof DocumentProblem)) throw err;
        throw new UserError('invalid_input', err.message, [{ path: 'body.document', message: err.message }]);
      });
      reply.status(201);
      return {
        sha256: stored.sha256,
        kind: body.document.kind,
        sizeBytes: stored.sizeBytes,
        documentId: stored.documentId,
      };
    },
  }),
  command(
    'interim-report',
    'Record an interim progress report (SAL) while the project is carried out',
    reporters,
    InterimReportBody,
    (b: { report: never }) => ({ type: 'SUBMIT_INTERIM_REPORT', report: b.report }),
  ),
  command(
    'final-report',
    'Submit the final report: every indicator measured (value, date, evidence) and every cost line spent (documents)',
    reporters,
    FinalReportBody,
    (b: { report: never }) => ({ type: 'SUBMIT_FINAL_REPORT', report: b.report }),
  ),
  command(
    'verification',
    'Verify the final report: accept or cut each cost line (a cut with its reason)',
    ['operator'],
    VerificationBody,
    (b: { costLines: never }) => ({ type: 'VERIFY_REPORT', costLines: b.costLines }),
  ),
  command(
    'revocation',
    'Start a revocation because the project was not carried out (an intention, with its reasons)',
    ['operator'],
    RevocationBody,
    (b: { reasons: string[] }) => ({ type: 'START_REVOCATION', reasons: b.reasons }),
  ),
  command(
    'observations',
    "Record the company's observations on an intended reduction or revocation",
    reporters,
    ObservationsBody,
    (b: { observations: never }) => ({ type: 'SUBMIT_OBSERVATIONS', observations: b.observations }),
  ),
  command(
    'extension',
    "Extend the realisation period once, on the company's reasoned request, within the rules' maximum",
    ['operator'],
    ExtensionBody,
    (b: { months: number; reason: string }) => ({ type: 'EXTEND_REALISATION', ...b }),
  ),
  command(
    'repayment',
    'Record a repayment of what a reduction, revocation or withdrawal recovered: it returns to the call',
    ['operator'],
    RepaymentBody,
    (b: { amountCents: number; repaidOn: string }) => ({ type: 'RECORD_REPAYMENT', ...b }),
  ),
  command(
    'withdrawal',
    "Record the company's withdrawal after funding: everything disbursed is recovered",
    ['operator'],
    WithdrawalBody,
    (b: { reason: string }) => ({ type: 'WITHDRAW', reason: b.reason }),
  ),
  route({
    method: 'POST',
    url: '/applications/:id/project/decision',
    access: ['operator'],
    summary: 'Confirm or drop the intended reduction or revocation, once the observations period has ended (confirm)',
    params: ApplicationIdParams,
    body: ProjectDecisionBody,
    command: true,
    response: ProjectViewSchema,
    handler: async (call) => {
      const state = (await projectView(call.api.db, call.params.id)).state;
      const kind = state === 'reduction_intended' ? 'REDUCTION' : state === 'revocation_intended' ? 'REVOCATION' : null;
      if (!kind)
        throw new UserError('event_refused', `the project is ${state}: no reduction or revocation is intended`);
      const type = `${call.body.decision === 'confirm' ? 'CONFIRM' : 'DROP'}_${kind}` as const;
      return act(call, { type, motivation: call.body.motivation });
    },
  }),
  route({
    method: 'GET',
    url: '/impact',
    access: ['operator', 'auditor'],
    summary:
      "The programme's impact per call and theme: indicators (baseline, target, measured, achievement) and money",
    query: ImpactQuery,
    response: ImpactReportSchema,
    handler: async ({ api, query, reply }) => {
      const report = await programmeImpact(api.db, {
        ...(query.call ? { callId: query.call } : {}),
        ...(query.theme ? { theme: query.theme } : {}),
      });
      if (query.format === 'json') return report;
      reply.type('text/csv; charset=utf-8');
      return query.format === 'csv' ? impactCsv(report) : impactIndicatorsCsv(report);
    },
  }),
];
