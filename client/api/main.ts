import { loadConfig } from '../../config/env';
import { openDatabase } from '../../worker';
import { connectClient } from '../temporal';
import { buildApi } from './server';

/** The HTTP API on its own (docker-compose runs it beside the worker); `npm start` runs both in one process. */
async function main() {
  const config = loadConfig();
  const db = await openDatabase(config);
  const { client, close } = await connectClient(config);
  const api = buildApi({ config, client, db });
  const url = await api.listen({ host: config.API_HOST, port: config.API_PORT });
  console.log(`api: listening on ${url} (OpenAPI at ${url}/openapi.json)`);
  const stop = async () => {
    await api.close();
    await close();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(`api: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
