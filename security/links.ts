import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a company's personal link stands for: one issue of one session's code. */
export interface SessionLinkClaims {
  applicationId: string;
  sessionId: string;
  /** The code issue it belongs to: re-issuing a code retires the links sent before. */
  issue: number;
  expiresAt: Date;
}

const b64 = (buf: Buffer) => buf.toString('base64url');

/**
 * Signed, expiring links for the company's session answers. HMAC-SHA256 under a key derived from ID_SECRET (never
 * the secret itself); the claims say which session and which issue of its code, so a link is good for one session
 * until its code expires or is re-issued, and the session's own state makes it single-use.
 */
export function sessionLinks(secret: string) {
  const key = createHmac('sha256', secret).update('innosocialmetro/session-link/v1').digest();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();
  return {
    sign(claims: SessionLinkClaims): string {
      const payload = b64(
        Buffer.from(
          JSON.stringify([
            claims.applicationId,
            claims.sessionId,
            claims.issue,
            Math.floor(claims.expiresAt.getTime() / 1000),
          ]),
        ),
      );
      return `${payload}.${b64(mac(payload))}`;
    },
    /** The claims of a genuine token (expired or not: the caller tells the two apart), or null. */
    verify(token: string): SessionLinkClaims | null {
      const [payload, signature, extra] = token.split('.');
      if (!payload || !signature || extra !== undefined || token.length > 400) return null;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      try {
        const [applicationId, sessionId, issue, expires] = JSON.parse(
          Buffer.from(payload, 'base64url').toString('utf8'),
        );
        if (typeof applicationId !== 'string' || typeof sessionId !== 'string' || !Number.isInteger(issue)) return null;
        return { applicationId, sessionId, issue, expiresAt: new Date(Number(expires) * 1000) };
      } catch {
        return null;
      }
    },
  };
}

export type SessionLinks = ReturnType<typeof sessionLinks>;
