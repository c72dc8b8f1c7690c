import { loadConfig } from '../../config/env';
import { openDatabase } from '../../db/open';
import { keyRingFor } from '../../security/keyring';
import { startTracing } from '../../observability/tracing';
import { connectClient } from '../service/temporal';
import { buildApi } from './server';

/** The HTTP API on its own (docker-compose runs it beside the worker); `npm start` runs both in one process. */
async function main() {
  const config = loadConfig();
  const ring = keyRingFor(config);
  const tracing = startTracing('innosocialmetro-api');
  const db = await openDatabase(config);
  const { client, close } = await connectClient(config, ring, tracing);
  const api = buildApi({ config, client, db, ring, tracing });
  const url = await api.listen({ host: config.API_HOST, port: config.API_PORT });
  api.log.info(`api: listening on ${url} (OpenAPI at ${url}/openapi.json)`);
  const stop = async () => {
    await api.close();
    await close();
    await db.destroy();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(`api: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
