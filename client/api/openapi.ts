import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../errors';
import type { Route } from './routes';
import { DeliveredSchema, ProblemSchema } from './schemas';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const output = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
const problemResponse = (code: ErrorCode, why: string) => ({
  description: `${ERRORS[code].title}: ${why}`,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

function parameters(route: Route) {
  const out: unknown[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const s = json(schema) as { properties?: Record<string, { description?: string }>; required?: string[] };
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      const required = where === 'path' || (s.required ?? []).includes(name);
      out.push({
        name,
        in: where,
        required,
        schema: prop,
        ...(prop.description ? { description: prop.description } : {}),
      });
    }
  }
  if (route.command) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
      description: 'Becomes the update id (per caller): a retried request counts once',
    });
    out.push({
      name: 'Prefer',
      in: 'header',
      required: false,
      schema: { type: 'string', enum: ['respond-async'] },
      description: 'Deliver as a signal and answer 202',
    });
  }
  return out;
}

function responses(route: Route): Record<string, unknown> {
  const ok = route.produces
    ? { description: 'The file', content: { [route.produces]: { schema: { type: 'string', format: 'binary' } } } }
    : {
        description: 'OK',
        content: { 'application/json': { schema: route.response ? output(route.response) : { type: 'object' } } },
      };
  const r: Record<string, unknown> = {
    [route.status ?? 200]: ok,
    429: problemResponse('rate_limited', 'slow down; see Retry-After'),
  };
  if (route.params || route.query || route.body)
    r[400] = problemResponse('invalid_input', 'the problem names the field');
  if (Array.isArray(route.access)) {
    r[401] = problemResponse('unauthorized', 'no valid bearer token');
    r[403] = problemResponse('forbidden', 'not for your role, or not an application you may act on');
  }
  if (route.params) r[404] = problemResponse('not_found', 'no such application, call or user');
  if (route.command) {
    r[202] = {
      description: 'Delivered as a signal (Prefer: respond-async)',
      content: { 'application/json': { schema: output(DeliveredSchema) } },
    };
    r[409] = problemResponse('event_refused', "refused by the application's lifecycle, with the reason");
    r[503] = problemResponse('temporal_unavailable', 'the workflow service is unreachable');
  }
  if (route.body) {
    r[413] = problemResponse('payload_too_large', 'body larger than this route accepts');
    r[415] = problemResponse('unsupported_media_type', 'send application/json');
  }
  if (route.produces === 'application/octet-stream')
    r[410] = problemResponse('document_unavailable', 'the stored copy is missing or damaged');
  if (route.url === '/healthz')
    r[503] = {
      description: 'Something is unreachable',
      content: { 'application/json': { schema: output(route.response!) } },
    };
  return r;
}

const access = (route: Route) =>
  route.access === 'public'
    ? 'No credential needed.'
    : route.access === 'company'
      ? "No account: the code from the company's e-mail is the credential."
      : `Roles: ${route.access.join(', ')}.`;

/** OpenAPI 3.1, generated from the route table and the zod schemas the routes validate with and answer with. */
export function openApiDocument(serverUrl: string, routes: readonly Route[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}.]/g, '').replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: route.summary,
      description: access(route),
      security: Array.isArray(route.access) ? [{ bearer: [] }, { session: [] }] : [],
      parameters: parameters(route),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: json(route.body) } } } }
        : {}),
      responses: responses(route),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'InnoSocialMetro API',
      version: '0.3.0',
      description:
        'For operators (and their CLI), the commission, the consultants of the implementing bodies and auditors. ' +
        'Errors are application/problem+json with a stable `code` and the offending field.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from `innosocial users add`' },
        session: { type: 'apiKey', in: 'cookie', name: 'ism_session', description: 'The pages’ sign-in session' },
      },
      schemas: { Problem: json(ProblemSchema) },
    },
  };
}

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A self-contained page (no CDN: the machines it runs on may have no internet) rendering the OpenAPI document. */
export function docsPage(doc: ReturnType<typeof openApiDocument>): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const o = op as { summary: string; description: string; responses: Record<string, { description: string }> };
      const list = Object.entries(o.responses).map(
        ([code, r]) => `<li><code>${code}</code> ${escape(r.description)}</li>`,
      );
      return (
        `<section><h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2>` +
        `<p>${escape(o.summary)}. <em>${escape(o.description)}</em></p><ul>${list.join('')}</ul></section>`
      );
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title></head>
<body><h1>${escape(doc.info.title)}</h1><p>${escape(doc.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${ops.join('\n')}</body></html>`;
}
