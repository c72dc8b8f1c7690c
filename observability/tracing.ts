import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

/**
 * OpenTelemetry tracing of HTTP request -> Update -> workflow -> activities: off unless the standard OTEL_
 * environment variables ask for it (an OTLP endpoint; OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none keep it off).
 * The exporter reads the rest of the standard variables itself (headers, protocol, timeouts).
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface Tracing {
  /** For the Temporal client and worker: propagates the trace through Updates, workflows and activities. */
  plugin: OpenTelemetryPlugin;
  /** Runs `work` inside a span for one HTTP request; the span ends with the answer's status. */
  request<T>(name: string, work: () => Promise<T>): Promise<T>;
  shutdown(): Promise<void>;
}

export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | null {
  if (!tracingRequested(env)) return null;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName });
  const processor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  const tracer = trace.getTracer('innosocialmetro');
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor: processor }),
    request: (name, work) =>
      tracer.startActiveSpan(name, { kind: SpanKind.SERVER }, async (span: Span) => {
        try {
          return await context.with(trace.setSpan(context.active(), span), work);
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          throw err;
        } finally {
          span.end();
        }
      }),
    shutdown: () => provider.shutdown(),
  };
}
