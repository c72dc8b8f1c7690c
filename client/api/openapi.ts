import { z } from 'zod';
import { ApplicationViewSchema, HealthSchema, ProblemSchema } from './routes';

export interface RouteDoc {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  summary: string;
  /** 'public': no credential; 'code': the single-use code in the body is the credential; else the roles served. */
  access: 'public' | 'code' | ('operator' | 'consultant' | 'commission' | 'auditor')[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** A command to the workflow: 200 with the new view, 409 when the lifecycle refuses, 202 as a signal. */
  command?: boolean;
  bodyLimit?: number;
  produces?: string;
}

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

function parameters(route: RouteDoc) {
  const out: unknown[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const s = json(schema) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: prop });
    }
  }
  if (route.command) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
      description: 'Becomes the update id: a retried request counts once',
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

/** OpenAPI 3.1, generated from the route table and the zod schemas the routes validate with. */
export function openApiDocument(serverUrl: string, routes: readonly RouteDoc[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    const ok = route.produces
      ? { description: 'The file', content: { [route.produces]: { schema: { type: 'string', format: 'binary' } } } }
      : route.command
        ? {
            description: 'Accepted; the application as it is now',
            content: { 'application/json': { schema: ref('ApplicationView') } },
          }
        : {
            description: 'OK',
            content: { 'application/json': { schema: route.url === '/healthz' ? json(HealthSchema) : {} } },
          };
    const responses: Record<string, unknown> = {
      [route.method === 'POST' && route.url === '/users' ? 201 : 200]: ok,
      429: problemResponse('Too many requests'),
    };
    if (route.params || route.query || route.body)
      responses[400] = problemResponse('Invalid input: the problem names the field');
    if (Array.isArray(route.access)) {
      responses[401] = problemResponse('No valid bearer token');
      responses[403] = problemResponse('Not for your role, or not your application');
    }
    if (route.params) responses[404] = problemResponse('Not found');
    if (route.command) {
      responses[202] = { description: 'Delivered as a signal (Prefer: respond-async)' };
      responses[409] = problemResponse("Refused by the application's lifecycle, with the reason");
      responses[503] = problemResponse('Temporal unreachable');
    }
    if (route.body) {
      responses[413] = problemResponse('Body too large');
      responses[415] = problemResponse('Body is not JSON');
    }
    if (route.produces) responses[410] = problemResponse('The stored copy is missing or damaged');
    if (route.url === '/healthz')
      responses[503] = {
        description: 'Something is unreachable',
        content: { 'application/json': { schema: json(HealthSchema) } },
      };
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: route.summary,
      description:
        route.access === 'public'
          ? 'No credential needed.'
          : route.access === 'code'
            ? 'No token: the single-use code is the credential.'
            : `Roles: ${route.access.join(', ')}.`,
      ...(Array.isArray(route.access) ? { security: [{ bearer: [] }] } : { security: [] }),
      parameters: parameters(route),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: json(route.body) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'InnoSocialMetro API',
      version: '0.2.0',
      description:
        'For the evaluation commission, the consultants of the implementing bodies, operators and auditors. Errors are application/problem+json with a stable `code` and the offending field.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from `innosocial users add`' },
      },
      schemas: { ApplicationView: json(ApplicationViewSchema), Problem: json(ProblemSchema) },
    },
  };
}

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A self-contained page (no CDN: the machines it runs on may have no internet) rendering the OpenAPI document. */
export function docsPage(doc: ReturnType<typeof openApiDocument>): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const o = op as {
        summary: string;
        description: string;
        requestBody?: { content: Record<string, { schema: unknown }> };
        responses: Record<string, { description: string }>;
      };
      const body = o.requestBody
        ? `<details><summary>Request body</summary><pre>${escape(JSON.stringify(o.requestBody.content['application/json']?.schema, null, 2))}</pre></details>`
        : '';
      const responses = Object.entries(o.responses)
        .map(([code, r]) => `<li><code>${code}</code> ${escape(r.description)}</li>`)
        .join('');
      return `<section><h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2><p>${escape(o.summary)}. <em>${escape(o.description)}</em></p>${body}<ul>${responses}</ul></section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}h1{margin-bottom:0}section{border-top:1px solid #ddd;padding:.5rem 0}
h2{font-size:1.05rem;margin:.5rem 0}.m{display:inline-block;min-width:4.5rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .4rem}
.get{background:#2b7bb9}.post{background:#3a9d5d}.delete{background:#c0392b}pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:.8rem}</style></head>
<body><h1>${escape(doc.info.title)}</h1><p>${escape(doc.info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p>
${ops.join('\n')}</body></html>`;
}
