/** The document types the programme accepts, recognised by their bytes, never by the file name. */
export type AcceptedMediaType =
  | 'application/pdf'
  | 'application/vnd.oasis.opendocument.text'
  | 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
  | 'application/pkcs7-mime';

const startsWith = (buf: Uint8Array, bytes: number[]) => bytes.every((b, i) => buf[i] === b);
const contains = (buf: Uint8Array, needle: string) =>
  Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).includes(needle, 0, 'latin1');

// OID 1.2.840.113549.1.7.2 (PKCS#7 signedData), as DER: what a CAdES .p7m envelope declares first.
const SIGNED_DATA_OID = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

export function sniffMediaType(buf: Uint8Array): AcceptedMediaType | null {
  if (startsWith(buf, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  if (startsWith(buf, [0x50, 0x4b, 0x03, 0x04])) {
    // ODF stores an uncompressed "mimetype" entry first; OOXML declares its parts in [Content_Types].xml.
    if (contains(buf.subarray(0, 100), 'mimetypeapplication/vnd.oasis.opendocument.text')) {
      return 'application/vnd.oasis.opendocument.text';
    }
    if (contains(buf, '[Content_Types].xml') && contains(buf, 'word/')) {
      return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    }
    return null;
  }
  if (buf[0] === 0x30 && contains(buf.subarray(0, 32), Buffer.from(SIGNED_DATA_OID).toString('latin1'))) {
    return 'application/pkcs7-mime';
  }
  return null;
}
