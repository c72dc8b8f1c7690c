import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { Config } from '../config/env';

/**
 * TLS (and mutual TLS, with a client certificate) for every connection to Temporal, from the environment; null
 * keeps the plain connection a development server on loopback expects.
 */
export function temporalTls(config: Config): TLSConfig | null {
  const { TEMPORAL_TLS_CA_FILE: ca, TEMPORAL_TLS_CERT_FILE: cert, TEMPORAL_TLS_KEY_FILE: key } = config;
  // A server name alone still means TLS: a Temporal behind a certificate the system's roots already trust.
  if (!ca && !cert && !config.TEMPORAL_TLS_SERVER_NAME) return null;
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return {
    ...(ca ? { serverRootCACertificate: read(ca, 'TEMPORAL_TLS_CA_FILE') } : {}),
    ...(cert && key
      ? { clientCertPair: { crt: read(cert, 'TEMPORAL_TLS_CERT_FILE'), key: read(key, 'TEMPORAL_TLS_KEY_FILE') } }
      : {}),
    ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}
