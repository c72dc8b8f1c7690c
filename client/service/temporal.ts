import { Client, Connection } from '@temporalio/client';
import type { Config } from '../../config/env';
import { dataConverter } from '../../security/data-converter';
import type { KeyRing } from '../../security/keyring';
import { temporalTls } from '../../security/tls';
import type { Tracing } from '../../observability/tracing';
import { UserError } from '../errors';

/**
 * A Temporal client for the configured server, over TLS when configured, encrypting every payload with the key
 * ring; a clear error when nobody answers there. Only the API and the worker hold one: people go through the API.
 */
export async function connectClient(
  config: Config,
  ring: KeyRing,
  tracing?: Tracing | null,
): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    const tls = temporalTls(config);
    connection = await Connection.connect({
      address: config.TEMPORAL_ADDRESS,
      connectTimeout: '5s',
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    throw new UserError(
      'temporal_unavailable',
      `cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${(err as Error).message}`,
    );
  }
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(ring),
    ...(tracing ? { plugins: [tracing.plugin] } : {}),
  });
  return { client, close: () => connection.close() };
}
