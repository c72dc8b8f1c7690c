import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { INPUT_ERROR } from '../domain/errors';
import { sniffMediaType } from '../domain/media-type';
import type { DocumentUpload, StoredDocument } from '../machines/events';
import type { Db } from '../db/connect';
import { insertDocument } from '../db/repositories/documents';

/** Where the bytes of a digest live: two-level fan-out, named by content only. */
export const blobPath = (dir: string, sha256: string) => path.join(dir, sha256.slice(0, 2), sha256);

async function writeOnce(dir: string, sha256: string, bytes: Buffer): Promise<void> {
  const target = blobPath(dir, sha256);
  // Already there and intact: nothing to write. A damaged copy is replaced by the good bytes we hold.
  const intact = await stat(target).then(
    (s) =>
      s.size === bytes.length &&
      readStoredDocument(dir, sha256).then(
        () => true,
        () => false,
      ),
    () => false,
  );
  if (intact) return;
  await mkdir(path.dirname(target), { recursive: true });
  // Written aside and renamed: a crash leaves a stray temp file, never a truncated blob under a valid name.
  const temp = `${target}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target).catch(async (err) => {
    await unlink(temp).catch(() => undefined);
    throw err;
  });
}

export class DocumentIntegrityError extends Error {}

/**
 * The bytes of a stored document, checked against the digest they are filed under: a file changed or truncated
 * on disk is reported, never served.
 */
export async function readStoredDocument(dir: string, sha256: string): Promise<Buffer> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new DocumentIntegrityError(`not a SHA-256 digest: ${sha256}`);
  const bytes = await readFile(blobPath(dir, sha256));
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256)
    throw new DocumentIntegrityError(`document ${sha256} is corrupted on disk (its content hashes to ${actual})`);
  return bytes;
}

export function documentActivities(deps: { db: Db; documentsDir: string; maxBytes: number }) {
  return {
    async storeDocument(input: { applicationId: string; upload: DocumentUpload }): Promise<StoredDocument> {
      const { upload } = input;
      const bytes = Buffer.from(upload.contentBase64, 'base64');
      if (bytes.length === 0)
        throw ApplicationFailure.nonRetryable(`document ${upload.filename} is empty`, INPUT_ERROR.document);
      if (bytes.length > deps.maxBytes) {
        throw ApplicationFailure.nonRetryable(
          `document ${upload.filename} is ${bytes.length} bytes, the limit is ${deps.maxBytes}`,
          INPUT_ERROR.document,
        );
      }
      const mediaType = sniffMediaType(bytes);
      if (!mediaType) {
        throw ApplicationFailure.nonRetryable(
          `document ${upload.filename} is not a PDF, ODT, DOCX or signed P7M file`,
          INPUT_ERROR.document,
        );
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await writeOnce(deps.documentsDir, sha256, bytes);
      const row = await insertDocument(deps.db, {
        application_id: input.applicationId,
        kind: upload.kind,
        sha256,
        filename: path.basename(upload.filename),
        media_type: mediaType,
        size_bytes: bytes.length,
      });
      return {
        documentId: row.id,
        sha256: row.sha256,
        kind: upload.kind,
        filename: row.filename,
        mediaType: row.media_type,
        sizeBytes: row.size_bytes,
      };
    },
  };
}
