import { createCipheriv, randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { EncryptionCodec, ENCODING, KEY_ID, keyIdsOf } from '../../security/codec';
import type { KeyRing } from '../../security/keyring';
import { isUntrusted } from '../../workflows/trust';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring = (active: string, keys: Record<string, Buffer>): KeyRing => ({
  active,
  keys: new Map(Object.entries(keys)),
});
const codec = (r: KeyRing) => new EncryptionCodec(r);

// Rotation in two steps (security/keyring.ts): every process learns k2 first (B), only then is k2 made active (C).
const A = codec(ring('k1', { k1 }));
const B = codec(ring('k1', { k1, k2 }));
const C = codec(ring('k2', { k1, k2 }));
/** After k1 is retired: only once no history still needs it. */
const D = codec(ring('k2', { k2 }));

const CANARY = 'Giulia Ferraris, RSSMRA80A01L219X';
const command = { event: { type: 'WITHDRAW', reason: CANARY }, meta: { actor: 'company', role: 'company' } };
const plain = (value: unknown = command) => defaultPayloadConverter.toPayload(value);
const valueOf = (payload: Payload) => defaultPayloadConverter.fromPayload<unknown>(payload);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

const encrypted = async (c: EncryptionCodec, value: unknown = command) => (await c.encode([plain(value)]))[0]!;
const decoded = async (c: EncryptionCodec, payload: Payload) => valueOf((await c.decode([payload]))[0]!);
/** What the workflow sees for a payload the codec could not authenticate. */
const marked = (reason: string, value: unknown = null) => ({ $untrusted: reason, value });

describe('EncryptionCodec', () => {
  test('round trip: what is encoded decodes to the same payload, metadata included', async () => {
    const payloads = [plain(), plain(null), plain([1, 'two', { three: 3 }]), plain('')];
    const back = await A.decode(await A.encode(payloads));
    // Compared as bytes: protobuf hands back its own Uint8Array views.
    const bytes = (p: Payload) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, text(v)])),
      data: Buffer.from(p.data ?? []).toString('hex'),
    });
    expect(back.map(bytes)).toEqual(payloads.map(bytes));
    expect(back.map(valueOf)).toEqual([command, null, [1, 'two', { three: 3 }], '']);
  });

  test('an encoded payload says how and with which key, and holds nothing in clear', async () => {
    const e = await encrypted(A);
    expect(text(e.metadata?.encoding)).toBe(ENCODING);
    expect(text(e.metadata?.[KEY_ID])).toBe('k1');
    expect(Buffer.from(e.data!).includes(Buffer.from('Giulia'))).toBe(false);
    expect(Object.values(e.metadata ?? {}).some((v) => text(v).includes('Giulia'))).toBe(false);
  });

  test('the same payload twice is two different ciphertexts (a fresh IV each time)', async () => {
    const [one, two] = await A.encode([plain(), plain()]);
    expect(Buffer.from(one!.data!).equals(Buffer.from(two!.data!))).toBe(false);
  });

  describe('what cannot be authenticated reaches the workflow marked, never as an exception', () => {
    const withData = (p: Payload, f: (data: Buffer) => Buffer): Payload => ({ ...p, data: f(Buffer.from(p.data!)) });
    const flipAt = (index: (length: number) => number) => (p: Payload) =>
      withData(p, (data) => {
        const copy = Buffer.from(data);
        const i = index(copy.length);
        copy[i] = copy[i]! ^ 0x01;
        return copy;
      });
    const keyId = (id: string) => (p: Payload) => ({ ...p, metadata: { ...p.metadata, [KEY_ID]: Buffer.from(id) } });

    test.each<[string, (e: Payload) => Payload, string]>([
      ['a flipped bit in the tag', flipAt((n) => n - 1), 'authentication failed'],
      ['a flipped bit in the ciphertext', flipAt(() => 20), 'authentication failed'],
      ['a flipped bit in the IV', flipAt(() => 0), 'authentication failed'],
      ['a ciphertext cut short', (e) => withData(e, (d) => d.subarray(0, d.length - 5)), 'authentication failed'],
      ['a payload truncated below IV and tag', (e) => withData(e, (d) => d.subarray(0, 27)), 'truncated'],
      ['no data at all', (e) => ({ metadata: e.metadata }), 'truncated'],
      ['an unknown key id', keyId('k9'), 'unknown key "k9"'],
      ['no key id', (e) => ({ ...e, metadata: { encoding: e.metadata!.encoding! } }), 'unknown key ""'],
      ['another known key named for it', keyId('k2'), 'authentication failed'],
    ])('%s', async (_, tamper, reason) => {
      const value = await decoded(B, tamper(await encrypted(B)));
      expect(value).toEqual(marked(reason));
      expect(isUntrusted(value)).toBe(true);
    });

    test('a plain JSON payload (an old history, or a forged command) carries its value, marked', async () => {
      const value = await decoded(A, plain());
      expect(value).toEqual(marked('not encrypted', command));
      expect(isUntrusted(value)).toBe(true);
    });

    test.each<[string, Payload, unknown]>([
      [
        'plain JSON that does not parse',
        { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{') },
        null,
      ],
      ['a binary/null payload', defaultPayloadConverter.toPayload(undefined), null],
      ['a raw binary payload', { metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(64) }, null],
      ['a payload without metadata', { data: Buffer.from('{"type":"APPROVE"}') }, null],
      ['an empty payload', {}, null],
    ])('%s: marked "not encrypted"', async (_, payload, value) => {
      expect(await decoded(A, payload)).toEqual(marked('not encrypted', value));
    });

    test('a genuine ciphertext of something that is not a payload is marked too', async () => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k1, iv);
      const sealed = Buffer.concat([cipher.update(Buffer.from([0xff, 0xff, 0xff, 0xff])), cipher.final()]);
      const forged: Payload = {
        metadata: { encoding: Buffer.from(ENCODING), [KEY_ID]: Buffer.from('k1') },
        data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
      };
      await expect(A.decode([forged])).resolves.toHaveLength(1);
      expect(isUntrusted(await decoded(A, forged))).toBe(true);
    });

    test('one bad payload does not spoil the others decoded with it', async () => {
      const [good, bad] = [await encrypted(A), plain()];
      const [first, second, third] = (await A.decode([good, bad, good])).map(valueOf);
      expect([first, second, third]).toEqual([command, marked('not encrypted', command), command]);
    });
  });

  describe('key rotation in two steps', () => {
    test('A {k1}: writes k1', async () => {
      expect(keyIdsOf([await encrypted(A)])).toEqual(new Set(['k1']));
    });

    test("step 1, B {k1, k2; active k1}: reads A's payloads, still writes k1, so A reads B's", async () => {
      expect(await decoded(B, await encrypted(A))).toEqual(command);
      const fromB = await encrypted(B);
      expect(keyIdsOf([fromB])).toEqual(new Set(['k1']));
      expect(await decoded(A, fromB)).toEqual(command);
    });

    test("step 2, C {k1, k2; active k2}: reads A's and B's, writes k2, which B (step 1) reads", async () => {
      expect(await decoded(C, await encrypted(A))).toEqual(command);
      expect(await decoded(C, await encrypted(B))).toEqual(command);
      const fromC = await encrypted(C);
      expect(keyIdsOf([fromC])).toEqual(new Set(['k2']));
      expect(await decoded(B, fromC)).toEqual(command);
    });

    test('why two steps: a process that skipped step 1 cannot read k2, and gets it marked', async () => {
      expect(await decoded(A, await encrypted(C))).toEqual(marked('unknown key "k2"'));
    });

    test('a ring without k1 cannot read k1 payloads (marked): k1 stays while a history needs it', async () => {
      expect(await decoded(D, await encrypted(A))).toEqual(marked('unknown key "k1"'));
      expect(await decoded(D, await encrypted(C))).toEqual(command);
    });

    test('keyIdsOf reports the keys a history uses, and ignores what is not encrypted', async () => {
      const history = [await encrypted(A), await encrypted(C), await encrypted(B), plain(), {}];
      expect(keyIdsOf(history)).toEqual(new Set(['k1', 'k2']));
      expect(keyIdsOf([plain()])).toEqual(new Set());
    });
  });
});
