import { createHash } from 'node:crypto';
import path from 'node:path';
import { sql } from 'kysely';
import type { Executor } from '../db/repositories/applications';
import { sniffMediaType } from '../domain/media-type';
import type { DocumentKind, StoredDocument } from '../machines/events';

/**
 * Documents live in PostgreSQL, keyed by the SHA-256 of their bytes: every worker and API replica reads the same
 * store, and one backup of the database holds them. The API stores an upload first; the command that attaches it
 * to an application carries the reference only, so no document passes through Temporal.
 */

export class DocumentProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class DocumentIntegrityError extends Error {}

export const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Checks an upload before anything is stored: not empty, not too large, one of the accepted formats. */
export function checkUpload(bytes: Buffer, filename: string, maxBytes: number): { mediaType: string } {
  if (bytes.length === 0) throw new DocumentProblem('document', `${filename} is empty`);
  if (bytes.length > maxBytes) {
    throw new DocumentProblem('document', `${filename} is ${bytes.length} bytes, the limit is ${maxBytes}`);
  }
  const mediaType = sniffMediaType(bytes);
  if (!mediaType) throw new DocumentProblem('document', `${filename} is not a PDF, ODT, DOCX or signed P7M file`);
  return { mediaType };
}

/**
 * Stores the bytes once per content; the same bytes uploaded again are the same blob, and mend a stored copy that
 * no longer hashes to its name (readBlob refuses to serve it).
 */
export async function storeBlob(db: Executor, bytes: Buffer): Promise<string> {
  const sha256 = sha256Of(bytes);
  await db
    .insertInto('document_blobs')
    .values({ sha256, content: bytes, size_bytes: bytes.length })
    .onConflict((oc) =>
      oc
        .column('sha256')
        .doUpdateSet({ content: (eb) => eb.ref('excluded.content'), size_bytes: bytes.length })
        .where(sql<boolean>`document_blobs.content is distinct from excluded.content`),
    )
    .execute();
  return sha256;
}

/** A stored document's bytes, checked against the digest they are filed under: damage is reported, never served. */
export async function readBlob(db: Executor, sha256: string): Promise<Buffer> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new DocumentIntegrityError(`not a SHA-256 digest: ${sha256}`);
  const row = await db.selectFrom('document_blobs').select('content').where('sha256', '=', sha256).executeTakeFirst();
  if (!row) throw new DocumentIntegrityError(`document ${sha256} is missing from the store`);
  const bytes = Buffer.from(row.content);
  const actual = sha256Of(bytes);
  if (actual !== sha256)
    throw new DocumentIntegrityError(`document ${sha256} is damaged (its content hashes to ${actual})`);
  return bytes;
}

/**
 * An upload for an application, stored and described (not yet attached: the command that attaches it goes
 * through the application's lifecycle, which may refuse it). Uploading the same bytes again returns the same row.
 */
export async function storeUpload(
  db: Executor,
  upload: {
    applicationId: string;
    kind: DocumentKind;
    filename: string;
    bytes: Buffer;
    uploadedBy: string;
    maxBytes: number;
  },
): Promise<StoredDocument> {
  const { mediaType } = checkUpload(upload.bytes, upload.filename, upload.maxBytes);
  const sha256 = await storeBlob(db, upload.bytes);
  await db
    .insertInto('documents')
    .values({
      application_id: upload.applicationId,
      kind: upload.kind,
      sha256,
      filename: path.basename(upload.filename).slice(0, 255),
      media_type: mediaType,
      size_bytes: upload.bytes.length,
      uploaded_by: upload.uploadedBy,
    })
    .onConflict((oc) => oc.columns(['application_id', 'kind', 'sha256']).doNothing())
    .execute();
  const row = await db
    .selectFrom('documents')
    .selectAll()
    .where('application_id', '=', upload.applicationId)
    .where('kind', '=', upload.kind)
    .where('sha256', '=', sha256)
    .executeTakeFirstOrThrow();
  return { documentId: row.id, sha256, kind: upload.kind, mediaType: row.media_type, sizeBytes: row.size_bytes };
}
