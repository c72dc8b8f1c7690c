import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

/**
 * A local mail sink for development and tests: a real SMTP server (no auth, no TLS, loopback only) that stores
 * every message it accepts as an .eml file, so `SMTP_URL=smtp://127.0.0.1:2525` shows what companies would get.
 */

export interface MailSinkOptions {
  /** Where the .eml files go; created when missing. */
  dir: string;
  /** 0 picks a free port; default 2525. */
  port?: number;
  /** A loopback address only; default 127.0.0.1. */
  host?: string;
  /** Largest message accepted, in bytes; default 10 MB. */
  maxBytes?: number;
}

export interface MailSink {
  port: number;
  /** What `SMTP_URL` should say to deliver here. */
  url: string;
  dir: string;
  stop(): Promise<void>;
}

const isLoopback = (address: string) => {
  const a = address.replace(/^::ffff:/i, '');
  return a === 'localhost' || a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
};

/** `20261125T231012.345Z`: sorts by arrival, and is a valid file name everywhere (no colons). */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '');

/** Header values written into the file by the sink itself: one line, nothing that could start a new header. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');

export async function startMailSink(options: MailSinkOptions): Promise<MailSink> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host)) throw new Error(`the mail sink listens on a loopback address only, not "${host}"`);
  const dir = path.resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  let counter = 0;

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    banner: 'InnoSocialMetro mail sink (development only)',
    size: options.maxBytes ?? 10 * 1024 * 1024,
    closeTimeout: 2_000,
    onConnect(session, callback) {
      if (!isLoopback(session.remoteAddress))
        return callback(new Error('the mail sink accepts local connections only'));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          const err = Object.assign(new Error('message exceeds the size limit of the mail sink'), {
            responseCode: 552,
          });
          return callback(err);
        }
        const arrived = new Date();
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const rcptTo = session.envelope.rcptTo.map((r) => r.address).join(', ');
        // What a final delivery adds: the envelope, which a Bcc or a forged To would not show otherwise.
        const trace = `Return-Path: <${oneLine(mailFrom)}>\r\nX-Envelope-To: ${oneLine(rcptTo)}\r\n`;
        const raw = Buffer.concat([Buffer.from(trace, 'utf8'), ...chunks]);
        counter += 1;
        const hash = createHash('sha256')
          .update(raw)
          .update(`${session.id}:${counter}:${process.hrtime.bigint()}`)
          .digest('hex')
          .slice(0, 10);
        const name = `${stamp(arrived)}-${hash}.eml`;
        const tmp = path.join(dir, `.${name}.tmp`);
        // Written aside then renamed: a reader never sees half a message, and the client hears 250 only once stored.
        writeFile(tmp, raw)
          .then(() => rename(tmp, path.join(dir, name)))
          .then(
            () => callback(null, `stored as ${name}`),
            (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
          );
      });
    },
  });
  // A client that resets its connection surfaces here; it must not crash the process hosting the sink.
  const onError = (_err: Error) => undefined;

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) =>
      reject(
        new Error(`mail sink could not listen on ${host}:${options.port ?? 2525}: ${err.message}`, { cause: err }),
      );
    server.once('error', failed);
    server.listen(options.port ?? 2525, host, () => {
      server.off('error', failed);
      server.on('error', onError);
      resolve();
    });
  });

  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('mail sink: no TCP address after listen');
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let stopping: Promise<void> | null = null;
  return {
    port: address.port,
    url: `smtp://${urlHost}:${address.port}`,
    dir,
    stop() {
      stopping ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading what the sink stored

export interface SinkMessage {
  /** File name, e.g. 20261125T231012.345Z-3f2a9c81d0.eml; names sort by arrival. */
  file: string;
  path: string;
  sizeBytes: number;
  from: string;
  to: string;
  subject: string;
  date: string;
  messageId: string;
}

export interface SinkMessageContent extends SinkMessage {
  /** Every header, names lower-cased, values unfolded and decoded; the first occurrence wins. */
  headers: Record<string, string>;
  /** The text/plain body, transfer-decoded (quoted-printable, base64) and charset-decoded. */
  text: string;
  /** The text/html part, decoded the same way; null for a plain-text message. */
  html: string | null;
}

/** The .eml files of a sink directory, oldest first, with their main headers; [] when there is no directory yet. */
export async function listSinkMessages(dir: string): Promise<SinkMessage[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files = names.filter((n) => n.endsWith('.eml') && !n.startsWith('.')).sort();
  return Promise.all(
    files.map(async (file) => {
      const full = path.join(dir, file);
      const [raw, info] = await Promise.all([readFile(full), stat(full)]);
      const { headers } = splitMessage(raw.toString('latin1'));
      return summary(file, full, info.size, headers);
    }),
  );
}

/** One stored message with all its headers and its decoded text (and HTML) body. */
export async function readSinkMessage(file: string): Promise<SinkMessageContent> {
  const raw = await readFile(file);
  const { headers, body } = splitMessage(raw.toString('latin1'));
  return {
    ...summary(path.basename(file), file, raw.length, headers),
    headers,
    text: partOf(headers, body, 'text/plain') ?? '',
    html: partOf(headers, body, 'text/html'),
  };
}

function summary(file: string, full: string, sizeBytes: number, headers: Record<string, string>): SinkMessage {
  return {
    file,
    path: full,
    sizeBytes,
    from: headers.from ?? '',
    to: headers.to ?? '',
    subject: headers.subject ?? '',
    date: headers.date ?? '',
    messageId: headers['message-id'] ?? '',
  };
}

/**
 * Header block and body of a message read as latin1 (one char per byte, so bodies can be re-decoded exactly).
 * Header values are unfolded and RFC 2047 encoded words decoded.
 */
function splitMessage(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers))
      headers[name] = decodeWords(Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8'));
  }
  return { headers, body };
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function quotedPrintableBytes(text: string): Buffer {
  const bytes: number[] = [];
  const s = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(s.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047: =?utf-8?Q?...?= and =?utf-8?B?...?=, adjacent words joined without the space between them. */
function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_m, charset: string, enc: string, data: string) => {
      const bytes =
        enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : quotedPrintableBytes(data.replace(/_/g, ' '));
      return decodeCharset(bytes, charset.replace(/\*.*$/, ''));
    });
}

const param = (header: string, name: string) => new RegExp(`;\\s*${name}\\s*=\\s*"?([^";]+)"?`, 'i').exec(header)?.[1];

/**
 * The decoded body of the given type: a single-part message of that type, or the first such part of a multipart
 * one (searched depth first, so multipart/alternative inside multipart/mixed is found too); null when none.
 */
function partOf(headers: Record<string, string>, body: string, wanted: 'text/plain' | 'text/html'): string | null {
  const type = headers['content-type'] ?? 'text/plain';
  if (/^multipart\//i.test(type)) {
    const boundary = param(type, 'boundary');
    if (!boundary) return null;
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith('--')) break;
      const inner = splitMessage(part.replace(/^\r?\n/, ''));
      const found = partOf(inner.headers, inner.body, wanted);
      if (found) return found;
    }
    return null;
  }
  if (type.split(';')[0]!.trim().toLowerCase() !== wanted) return null;
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'quoted-printable'
      ? quotedPrintableBytes(body)
      : encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
        : Buffer.from(body, 'latin1');
  return decodeCharset(bytes, param(type, 'charset') ?? 'utf-8');
}
