import { createTransport } from 'nodemailer';
import type { NodemailerError } from 'nodemailer';

export interface OutgoingMail {
  /** An address, or an address with the person's name for the To header (null: the address alone). */
  to: string | { address: string; name: string | null };
  subject: string;
  /** The plain-text part; with `html`, the message goes out as multipart/alternative with both. */
  text: string;
  html?: string;
  /**
   * The outbox idempotency key: the header becomes `<key@innosocialmetro>` (see `messageIdFor`), the same on
   * every attempt, so a receiver can drop the rare duplicate. A complete `<left@right>` id is used as it is.
   */
  messageId: string;
}

export interface SendResult {
  /** The Message-ID header the message went out with. */
  messageId: string;
  /** The server's final reply, e.g. `250 OK: message queued`. */
  response: string;
  accepted: string[];
  rejected: string[];
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SendResult>;
  /** Checks the server answers (connect, EHLO); throws otherwise. */
  verify(): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  /** `smtp://host:port` (optionally with user:pass@), or `smtps://` for implicit TLS. */
  smtpUrl: string;
  /** The From header, e.g. `InnoSocialMetro <noreply@innosocialmetro.invalid>`. */
  from: string;
  /**
   * Upper bound, in milliseconds, for connecting, the greeting and each wait on the socket. The dispatcher holds
   * a database row lock while it sends, so a dead server must fail fast rather than after nodemailer's minutes.
   */
  timeoutMs?: number;
}

// RFC 5322 atext plus the dot: what the left part of a Message-ID may hold without quoting.
const ID_LEFT_SAFE = /[A-Za-z0-9!#$&'*+\-/=?^_`{|}~.]/;

/**
 * The Message-ID of an outbox message: `<key@innosocialmetro>`. Characters a msg-id cannot carry (the `:` of
 * `app:seq:company`, spaces...) are written %XX, so the id stays valid, deterministic and one-to-one with the key.
 */
export function messageIdFor(idempotencyKey: string): string {
  const left = Array.from(idempotencyKey, (ch) =>
    ID_LEFT_SAFE.test(ch)
      ? ch
      : Array.from(Buffer.from(ch, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  )
    .join('')
    .replace(/^\.|\.$/g, '%2E')
    .replace(/\.\./g, '.%2E');
  return `<${left}@innosocialmetro>`;
}

/**
 * True when the server refused the message for good (an SMTP 5xx other than 503, or an envelope nodemailer
 * itself finds unusable): sending it again would be refused again. Connection failures, timeouts and 4xx are not.
 */
export function isPermanentSmtpError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as NodemailerError;
  if (typeof e.permanent === 'boolean') return e.permanent;
  if (typeof e.responseCode === 'number')
    return e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 503;
  return e.code === 'EENVELOPE';
}

/** A nodemailer SMTP transport, one connection per message, with the programme's sender and Message-IDs. */
export function createMailer(options: MailerOptions): Mailer {
  const url = new URL(options.smtpUrl);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new Error(`SMTP URL must start with smtp:// or smtps://, got ${url.protocol}//`);
  const timeout = options.timeoutMs ?? 15_000;
  const transport = createTransport({
    url: options.smtpUrl,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 4,
    dnsTimeout: timeout,
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    async send(mail) {
      const messageId = /^<[^<>@\s]+@[^<>@\s]+>$/.test(mail.messageId) ? mail.messageId : messageIdFor(mail.messageId);
      const { to } = mail;
      const info = await transport.sendMail({
        from: options.from,
        // Nodemailer quotes and encodes the name: "Giulia Ferraris" <giulia@example.org>.
        to: typeof to === 'string' ? to : to.name ? { name: to.name, address: to.address } : to.address,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html === undefined ? {} : { html: mail.html }),
        messageId,
      });
      return {
        messageId: info.messageId || messageId,
        response: String(info.response),
        accepted: info.accepted.map(String),
        rejected: info.rejected.map(String),
      };
    },
    async verify() {
      await transport.verify();
    },
    close() {
      transport.close();
    },
  };
}
