import { z } from 'zod';
import { SessionConfirmationSchema } from '../../machines/events';
import { ApplicationIdParams, ApplicationViewSchema, DecisionBody, HealthSchema, IdempotencyKeyHeader, ProblemSchema } from './routes';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** OpenAPI 3.1, built from the zod schemas the routes validate with. */
export function openApiDocument(serverUrl: string) {
  const idParam = { name: 'id', in: 'path', required: true, schema: json(ApplicationIdParams.shape.id) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'InnoSocialMetro API',
      version: '0.1.0',
      description: 'Commission decisions and application views. Errors are application/problem+json with a stable `code`.',
    },
    servers: [{ url: serverUrl }],
    paths: {
      '/applications/{id}': {
        get: {
          operationId: 'getApplication',
          summary: 'State, facts and possible commands of one application',
          parameters: [idParam],
          responses: {
            200: { description: 'The application', content: { 'application/json': { schema: { $ref: '#/components/schemas/ApplicationView' } } } },
            400: problemResponse('Malformed id'),
            404: problemResponse('No such application'),
            503: problemResponse('Temporal unreachable'),
          },
        },
      },
      '/applications/{id}/decision': {
        post: {
          operationId: 'decide',
          summary: "Record the commission's decision: approve, reject or request integration",
          description:
            'Delivered to the workflow as an Update: the answer carries the new state, or 409 with the reason the lifecycle refused it. ' +
            'With `Prefer: respond-async` it is delivered as a signal and answered 202. ' +
            'An `Idempotency-Key` becomes the update id, so a retried request counts once.',
          parameters: [
            idParam,
            { name: 'Idempotency-Key', in: 'header', required: false, schema: json(IdempotencyKeyHeader) },
            { name: 'Prefer', in: 'header', required: false, schema: { type: 'string', enum: ['respond-async'] } },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: json(DecisionBody) } } },
          responses: {
            200: { description: 'Decision applied', content: { 'application/json': { schema: { $ref: '#/components/schemas/ApplicationView' } } } },
            202: { description: 'Delivered as a signal' },
            400: problemResponse('Invalid body or header'),
            404: problemResponse('No such application'),
            409: problemResponse('Refused: the application is not waiting for this decision'),
            413: problemResponse('Body too large'),
            415: problemResponse('Body is not JSON'),
            503: problemResponse('Temporal unreachable'),
          },
        },
      },
      '/applications/{id}/sessions/confirm': {
        post: {
          operationId: 'confirmSession',
          summary: 'The company confirms an accompaniment session with the single-use code from its e-mail',
          parameters: [idParam],
          requestBody: { required: true, content: { 'application/json': { schema: json(SessionConfirmationSchema) } } },
          responses: {
            200: { description: 'Session confirmed; the view carries the verified hours', content: { 'application/json': { schema: { $ref: '#/components/schemas/ApplicationView' } } } },
            400: problemResponse('Malformed body, or a wrong, used or expired code'),
            404: problemResponse('No such application'),
            409: problemResponse('The application is not in its accompaniment'),
            503: problemResponse('Temporal unreachable'),
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Database and Temporal reachability',
          responses: {
            200: { description: 'All reachable', content: { 'application/json': { schema: json(HealthSchema) } } },
            503: { description: 'Something is unreachable', content: { 'application/json': { schema: json(HealthSchema) } } },
          },
        },
      },
      '/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
    components: { schemas: { ApplicationView: json(ApplicationViewSchema), Problem: json(ProblemSchema) } },
  };
}
