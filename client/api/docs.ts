import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * /docs: the interactive API reference (Swagger UI, with its "Authorize" box for a bearer token and "Try it out")
 * over /openapi.json. Its assets come from the swagger-ui-dist package, served by this process: no CDN, the machines
 * this runs on may have no internet.
 */
const DIST = path.dirname(require.resolve('swagger-ui-dist/swagger-ui.css'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>InnoSocialMetro API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<main id="swagger-ui"></main>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

// A file, not an inline script: the Content-Security-Policy allows scripts from this origin only.
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    docExpansion: 'list',
    tryItOutEnabled: true,
    displayRequestDuration: true,
    persistAuthorization: false,
    validatorUrl: null
  });
});
`;

/** Swagger UI sets style attributes from its script: allowed on the reference only, never on the pages. */
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; " +
  "form-action 'self'";

export async function docsPlugin(app: FastifyInstance) {
  const files = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(path.join(DIST, name))]));
  app.get('/docs', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', DOCS_CSP).send(PAGE),
  );
  app.get('/docs/init.js', async (_req, reply) =>
    reply.type('application/javascript; charset=utf-8').header('content-security-policy', DOCS_CSP).send(INIT),
  );
  app.get<{ Params: { asset: string } }>('/docs/:asset', async (req, reply) => {
    const body = files.get(req.params.asset);
    if (!body) return reply.status(404).type('text/plain').send('not found');
    return reply
      .type(ASSETS[req.params.asset]!)
      .header('cache-control', 'public, max-age=86400')
      .header('content-security-policy', DOCS_CSP)
      .send(body);
  });
}
