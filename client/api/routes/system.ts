import { sql } from 'kysely';
import { EncryptionCodec } from '../../../security/codec';
import { openApiDocument } from '../openapi';
import { route, type Route } from '../routes';
import { keyUsage } from '../../service/keys';
import { CodecAnswerSchema, CodecBody, HealthSchema, KeyUsageQuery, KeyUsageSchema, OpenApiSchema } from '../schemas';

/** Routes that read nothing of an application: health, the API's own description, the codec for the Temporal UI. */
export function systemRoutes(all: () => readonly Route[]): Route[] {
  return [
    route({
      method: 'GET',
      url: '/healthz',
      access: 'public',
      summary: 'Database and Temporal reachability (200 ok, 503 degraded)',
      response: HealthSchema,
      handler: async ({ api, reply }) => {
        const check = (p: Promise<unknown>, ok: string) =>
          p.then(
            () => ({ ok: true, detail: ok }),
            (err: Error) => ({ ok: false, detail: err.message }),
          );
        const [database, temporal] = await Promise.all([
          check(sql`select 1`.execute(api.db), 'reachable'),
          check(api.client.workflowService.getSystemInfo({}), 'reachable'),
        ]);
        const ok = database.ok && temporal.ok;
        reply.status(ok ? 200 : 503);
        return { status: ok ? 'ok' : 'degraded', database, temporal };
      },
    }),
    route({
      method: 'GET',
      url: '/openapi.json',
      access: 'public',
      summary: 'This API, as OpenAPI 3.1',
      response: OpenApiSchema,
      handler: async ({ req }) => openApiDocument(`${req.protocol}://${req.host}`, all()),
    }),
    route({
      method: 'GET',
      url: '/keys/usage',
      access: ['operator'],
      summary:
        'Which payload keys the histories Temporal keeps were encrypted with: a key leaves the ring only when no ' +
        'history needs it. Reads every history: slow on a large namespace',
      query: KeyUsageQuery,
      response: KeyUsageSchema,
      handler: ({ api, query }) => keyUsage(api.client, api.ring, query.call ? { callId: query.call } : {}),
    }),
    route({
      method: 'POST',
      url: '/codec/decode',
      access: ['operator', 'auditor'],
      summary:
        'Decrypts payloads for the Temporal UI (its codec endpoint): signed-in operators and auditors only; there is ' +
        'no encode endpoint, the UI runs without write actions',
      body: CodecBody,
      response: CodecAnswerSchema,
      handler: async ({ api, body }) => {
        const codec = new EncryptionCodec(api.ring);
        const b64 = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64'));
        const decoded = await codec.decode(
          body.payloads.map((p) => ({
            metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
            data: b64(p.data),
          })),
        );
        const text = (u: Uint8Array | null | undefined) => Buffer.from(u ?? new Uint8Array()).toString('base64');
        return {
          payloads: decoded.map((p) => ({
            metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, text(v)])),
            data: text(p.data),
          })),
        };
      },
    }),
  ];
}
