import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/env';
import { UserError } from './errors';

/** A Temporal client for the configured server; a clear error when nobody answers there. */
export async function connectClient(config: Config): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: '5s' });
  } catch (err) {
    throw new UserError(
      'temporal_unavailable',
      `cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (is \`npm start\` running?): ${(err as Error).message}`,
    );
  }
  return { client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), close: () => connection.close() };
}
