import { DocumentIntegrityError, DocumentProblem, readBlob, storeUpload } from '../../../documents/store';
import { UserError } from '../../errors';
import { applicationView } from '../../service/register';
import { sendCommand } from '../commands';
import { route, type Route } from '../routes';
import { ApplicationIdParams, ApplicationViewSchema, DocumentParams, UploadBody } from '../schemas';
import { assertReadable } from '../visibility';
import { mayAct } from './accompaniment';

export const documentRoutes: Route[] = [
  route({
    method: 'POST',
    url: '/applications/:id/documents',
    access: ['consultant', 'operator'],
    summary: 'Upload a document (PDF, ODT, DOCX or signed P7M, base64): stored by its SHA-256, then attached',
    params: ApplicationIdParams,
    body: UploadBody,
    bodyLimit: 15 * 1024 * 1024,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      await mayAct(call);
      const { document } = call.body;
      const bytes = Buffer.from(document.contentBase64, 'base64');
      const maxBytes = call.api.config.DOCUMENT_MAX_BYTES;
      if (bytes.length > maxBytes) {
        throw new UserError(
          'payload_too_large',
          `${document.filename} is ${bytes.length} bytes, the limit is ${maxBytes}`,
          [{ path: 'body.document', message: `at most ${maxBytes} bytes` }],
        );
      }
      const stored = await storeUpload(call.api.db, {
        applicationId: call.params.id,
        kind: document.kind,
        filename: document.filename,
        bytes,
        uploadedBy: call.meta.actor,
        maxBytes,
      }).catch((err: unknown) => {
        if (!(err instanceof DocumentProblem)) throw err;
        throw new UserError('invalid_input', err.message, [{ path: 'body.document', message: err.message }]);
      });
      return sendCommand(call, call.params.id, { type: 'ATTACH_DOCUMENT', document: stored });
    },
  }),
  route({
    method: 'GET',
    url: '/applications/:id/documents/:documentId',
    access: ['operator', 'auditor', 'commission', 'consultant'],
    summary: 'Download a document of an application you may read (its integrity is checked first)',
    params: DocumentParams,
    produces: 'application/octet-stream',
    handler: async ({ api, params, user, reply, req }) => {
      assertReadable(user!, await applicationView(api.db, params.id));
      const doc = await api.db
        .selectFrom('documents')
        .selectAll()
        .where('id', '=', params.documentId)
        .where('application_id', '=', params.id)
        .where('attached_at', 'is not', null)
        .executeTakeFirst();
      if (!doc) throw new UserError('not_found', `no document ${params.documentId} in application ${params.id}`);
      // A missing or damaged copy is never served.
      const bytes = await readBlob(api.db, doc.sha256).catch((err: unknown) => {
        if (!(err instanceof DocumentIntegrityError)) throw err;
        req.log.error({ document: doc.id, sha256: doc.sha256 }, err.message);
        throw new UserError('document_unavailable', `the stored copy of document ${doc.id} is missing or damaged`);
      });
      const filename = doc.filename.replace(/[^\w.-]/g, '_');
      reply.type(doc.media_type).header('content-disposition', `attachment; filename="${filename}"`);
      return bytes;
    },
  }),
];
