import pino, { type Logger } from 'pino';
import {
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type LogLevel,
  type TelemetryOptions,
} from '@temporalio/worker';

/**
 * Structured JSON logs, one shape for every process. Never in a log line: credentials (authorization headers,
 * cookies, tokens, idempotency keys), the company's personal links, and the people in request bodies.
 */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.code',
  '*.link',
  '*.email',
  '*.legalRepresentative',
  '*.attendees',
];

export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } });
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Installs Temporal's runtime once per process: its logs (the SDK's and Core's) go to the same JSON logger, and its
 * metrics to a Prometheus endpoint when one is configured (WORKER_METRICS_BIND).
 */
export function installTemporalRuntime(logger: Logger, metricsBind?: string): void {
  const telemetryOptions: TelemetryOptions = {
    logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }) },
    ...(metricsBind ? { metrics: { prometheus: { bindAddress: metricsBind } } } : {}),
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) =>
      logger[LEVELS[entry.level]]({ ...entry.meta, sdk: true }, entry.message),
    ),
    telemetryOptions,
  });
}
