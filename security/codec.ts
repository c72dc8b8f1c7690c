import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyRing } from './keyring';

export const ENCODING = 'binary/encrypted';
export const KEY_ID = 'encryption-key-id';
const CIPHER = 'encryption-cipher';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);
const { Payload: PayloadProto } = temporal.api.common.v1;

/**
 * What the workflow receives for a payload this codec cannot authenticate: a marked value, never an exception
 * (which would fail the workflow task for ever). workflows/trust.ts refuses it, or, for runs recorded before
 * encryption, takes the plain value it carries.
 */
function untrusted(reason: string, payload: Payload): Payload {
  let value: unknown = null;
  if (text(payload.metadata?.encoding) === 'json/plain') {
    try {
      value = JSON.parse(text(payload.data) ?? 'null');
    } catch {
      value = null;
    }
  }
  return { metadata: { encoding: utf8('json/plain') }, data: utf8(JSON.stringify({ $untrusted: reason, value })) };
}

/**
 * AES-256-GCM over each whole payload (metadata and data), the key id in the clear beside it: confidentiality and
 * integrity of everything Temporal stores. It says nothing of who sent a payload: mTLS and a closed network keep
 * strangers away from Temporal; holding a key is what makes a sender ours.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.ring.keys.get(this.ring.active)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([
        cipher.update(PayloadProto.encode(payload).finish()),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return {
        metadata: { encoding: utf8(ENCODING), [KEY_ID]: utf8(this.ring.active), [CIPHER]: utf8('AES256GCM') },
        data: new Uint8Array(Buffer.concat([iv, sealed])),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.encoding) !== ENCODING) return untrusted('not encrypted', payload);
      const keyId = text(payload.metadata?.[KEY_ID]) ?? '';
      const key = this.ring.keys.get(keyId);
      if (!key) return untrusted(`unknown key "${keyId}"`, payload);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) return untrusted('truncated', payload);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return PayloadProto.decode(plain) as Payload;
      } catch {
        return untrusted('authentication failed', payload);
      }
    });
  }
}

/** Every payload in a history, wherever its events keep one: inputs, results, markers, failures, headers. */
export function* payloadsIn(node: unknown): Generator<Payload> {
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return;
  if ('metadata' in node && 'data' in node && (node as Payload).metadata) yield node as Payload;
  for (const value of Object.values(node)) yield* payloadsIn(value);
}

/** The key ids a history's payloads were encrypted with (for `keys usage`: which keys are still needed). */
export function keyIdsOf(payloads: Iterable<Payload>): Set<string> {
  const ids = new Set<string>();
  for (const p of payloads) if (text(p.metadata?.encoding) === ENCODING) ids.add(text(p.metadata?.[KEY_ID]) ?? '');
  return ids;
}
