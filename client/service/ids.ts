import { createHmac } from 'node:crypto';

/**
 * The workflow id of a company's application to a call. Derived, so a second application from the same company
 * to the same call collides with the first; keyed (HMAC), so the id carries no VAT number anyone could read back.
 */
export function applicationIdFor(secret: string, callId: string, vatNumber: string): string {
  const tag = createHmac('sha256', secret).update(`${callId}\u0000${vatNumber}`).digest('hex').slice(0, 20);
  return `${callId}.${tag}`;
}
