import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db } from '../../db/connect';
import { importDocumentFiles } from '../../documents/import';
import { DocumentIntegrityError, DocumentProblem, readBlob, sha256Of, storeUpload } from '../../documents/store';
import type { DocumentKind } from '../../machines/events';
import { backends, openTestDb } from '../support/database';
import { pdfBytes } from '../support/fixtures';
import { operator } from '../support/people';
import { registerHarness, type Harness } from './harness';

const LIMIT = 4_096;
const unique = () => Buffer.from(`\n% ${randomUUID()}\n`);
/** Just enough of each accepted format for the sniffer; a fresh tail so no two tests share a blob. */
const FORMATS = {
  'application/pdf': () => pdfBytes(randomUUID()),
  'application/vnd.oasis.opendocument.text': () =>
    Buffer.concat([
      Buffer.from([0x50, 0x4b, 0x03, 0x04]),
      Buffer.alloc(26),
      Buffer.from('mimetypeapplication/vnd.oasis.opendocument.text'),
      unique(),
    ]),
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': () =>
    Buffer.concat([
      Buffer.from([0x50, 0x4b, 0x03, 0x04]),
      Buffer.from('[Content_Types].xml ... word/document.xml'),
      unique(),
    ]),
  'application/pkcs7-mime': () =>
    Buffer.concat([
      Buffer.from([0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]),
      unique(),
    ]),
};

describe.each(backends)('the document store against %s', (backend) => {
  let db: Db;
  let h: Harness;
  let id: string;

  beforeAll(async () => {
    db = await openTestDb(backend);
    h = registerHarness(db);
    id = await h.submit();
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const store = (
    bytes: Buffer,
    more: { applicationId?: string; kind?: DocumentKind; filename?: string; maxBytes?: number } = {},
  ) =>
    storeUpload(db, {
      applicationId: more.applicationId ?? id,
      kind: more.kind ?? 'attachment',
      filename: more.filename ?? 'allegato.pdf',
      bytes,
      uploadedBy: operator.actor,
      maxBytes: more.maxBytes ?? LIMIT,
    });
  const blobs = (sha256: string) => db.selectFrom('document_blobs').selectAll().where('sha256', '=', sha256).execute();
  const rows = (sha256: string) => db.selectFrom('documents').selectAll().where('sha256', '=', sha256).execute();

  test('the media type comes from the bytes, never from the name', async () => {
    for (const [mediaType, bytes] of Object.entries(FORMATS)) {
      await expect(store(bytes(), { filename: 'named-as-anything.txt' })).resolves.toMatchObject({ mediaType });
    }
    const refused = async (bytes: Buffer) => {
      const attempt = store(bytes, { filename: 'relazione.pdf' });
      await expect(attempt).rejects.toThrow(DocumentProblem);
      await expect(attempt).rejects.toThrow('relazione.pdf is not a PDF, ODT, DOCX or signed P7M file');
      expect(await blobs(sha256Of(bytes))).toEqual([]);
    };
    await refused(Buffer.concat([Buffer.from('MZ\x90\x00'), unique()]));
    // A ZIP that is neither an ODF text nor a Word document.
    await refused(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('photos/cat.jpg'), unique()]));
  });

  test('an empty or oversized upload is refused and nothing is stored; the limit itself is accepted', async () => {
    await expect(store(Buffer.alloc(0))).rejects.toThrow(new DocumentProblem('document', 'allegato.pdf is empty'));
    const padded = (size: number) => {
      const head = pdfBytes(randomUUID());
      return Buffer.concat([head, Buffer.alloc(size - head.length, 0x20)]);
    };
    const tooLarge = padded(LIMIT + 1);
    await expect(store(tooLarge)).rejects.toThrow(`allegato.pdf is ${LIMIT + 1} bytes, the limit is ${LIMIT}`);
    expect([await blobs(sha256Of(tooLarge)), await rows(sha256Of(tooLarge))]).toEqual([[], []]);
    await expect(store(padded(LIMIT))).resolves.toMatchObject({ sizeBytes: LIMIT });
  });

  test('the same bytes are one blob, and one row per application and kind', async () => {
    const other = await h.submit();
    const bytes = pdfBytes(randomUUID());
    const first = await store(bytes, { filename: '../../etc/passwd.pdf' });
    expect(first).toEqual({
      documentId: expect.any(String),
      sha256: sha256Of(bytes),
      kind: 'attachment',
      mediaType: 'application/pdf',
      sizeBytes: bytes.length,
    });
    // Uploaded again, under another name: the same row, with the name it first had (its last segment only).
    await expect(store(bytes, { filename: 'copia.pdf' })).resolves.toEqual(first);
    const asInvoice = await store(bytes, { kind: 'invoice' });
    const theirs = await store(bytes, { applicationId: other });
    expect(new Set([first.documentId, asInvoice.documentId, theirs.documentId]).size).toBe(3);
    expect(new Set([first.sha256, asInvoice.sha256, theirs.sha256])).toEqual(new Set([first.sha256]));

    const [blob, ...more] = await blobs(first.sha256);
    expect(more).toEqual([]);
    expect(Buffer.from(blob!.content).equals(bytes)).toBe(true);
    expect(blob!.size_bytes).toBe(bytes.length);
    const described = (await rows(first.sha256)).map((r) => [r.application_id, r.kind, r.filename, r.uploaded_by]);
    expect(described.sort()).toEqual(
      [
        [id, 'attachment', 'passwd.pdf', operator.actor],
        [id, 'invoice', 'allegato.pdf', operator.actor],
        [other, 'attachment', 'allegato.pdf', operator.actor],
      ].sort(),
    );
    // Stored, not attached: attaching is a step of the application's lifecycle.
    expect((await rows(first.sha256)).map((r) => r.attached_at)).toEqual([null, null, null]);
  });

  test('readBlob serves bytes only while they hash to their name; missing and malformed names refused', async () => {
    const bytes = pdfBytes(randomUUID());
    const { sha256 } = await store(bytes);
    expect((await readBlob(db, sha256)).equals(bytes)).toBe(true);

    // One byte changed in place, the size kept (the table's own check would refuse another size).
    const damaged = Buffer.from(bytes);
    damaged[10] = damaged[10]! ^ 0xff;
    await db.updateTable('document_blobs').set({ content: damaged }).where('sha256', '=', sha256).execute();
    const read = readBlob(db, sha256);
    await expect(read).rejects.toThrow(DocumentIntegrityError);
    await expect(read).rejects.toThrow(`document ${sha256} is damaged (its content hashes to ${sha256Of(damaged)})`);

    const absent = sha256Of(Buffer.from(randomUUID()));
    await expect(readBlob(db, absent)).rejects.toThrow(
      new DocumentIntegrityError(`document ${absent} is missing from the store`),
    );
    await expect(readBlob(db, '../../etc/passwd')).rejects.toThrow('not a SHA-256 digest: ../../etc/passwd');
    await expect(readBlob(db, sha256.toUpperCase())).rejects.toThrow(/not a SHA-256 digest/);
  });

  test('uploading the same bytes again mends a damaged copy', async () => {
    const bytes = pdfBytes(randomUUID());
    const stored = await store(bytes);
    const damaged = Buffer.from(bytes);
    damaged[12] = damaged[12]! ^ 0xff;
    await db.updateTable('document_blobs').set({ content: damaged }).where('sha256', '=', stored.sha256).execute();
    await expect(readBlob(db, stored.sha256)).rejects.toThrow(/is damaged/);
    await expect(store(bytes)).resolves.toEqual(stored);
    expect((await readBlob(db, stored.sha256)).equals(bytes)).toBe(true);
  });

  test('first-generation files are imported once, checked against their names; damaged ones are left out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'innosocial-documents-'));
    const file = (name: string, bytes: Buffer) => {
      mkdirSync(path.join(dir, name.slice(0, 2)), { recursive: true });
      writeFileSync(path.join(dir, name.slice(0, 2), name), bytes);
    };
    const good = [pdfBytes(randomUUID()), pdfBytes(randomUUID())];
    for (const bytes of good) file(sha256Of(bytes), bytes);
    const damaged = pdfBytes(randomUUID());
    file(sha256Of(damaged), Buffer.concat([damaged, Buffer.from('tampered')]));
    writeFileSync(path.join(dir, 'README'), 'not a document');
    try {
      const first = await importDocumentFiles(db, dir);
      expect(first).toEqual({
        imported: 2,
        damaged: [path.join(dir, sha256Of(damaged).slice(0, 2), sha256Of(damaged))],
        ignored: [],
      });
      for (const bytes of good) expect((await readBlob(db, sha256Of(bytes))).equals(bytes)).toBe(true);
      expect(await blobs(sha256Of(damaged))).toEqual([]);
      // Again: nothing changes, nothing is duplicated.
      await expect(importDocumentFiles(db, dir)).resolves.toMatchObject({ imported: 2 });
      for (const bytes of good) expect(await blobs(sha256Of(bytes))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
