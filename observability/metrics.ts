import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Config } from '../config/env';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/connect';
import { outboxBacklog } from '../notifications/dispatcher';

/**
 * The API's Prometheus metrics (GET /metrics): requests by route and status, latency, and what the register says on
 * each scrape (applications per state, the outbox backlog, the reserve lists). Counts only: no personal data.
 * The worker's metrics come from Temporal's runtime on WORKER_METRICS_BIND.
 */
export function apiMetrics(db: Db) {
  const registry = new Registry();
  const requests = new Counter({
    name: 'innosocial_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'innosocial_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'innosocial_applications',
    help: 'Applications in the register, by call and state',
    labelNames: ['call', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('applications')
        .select(['call_id', 'state', (eb) => eb.fn.countAll<string>().as('n')])
        .groupBy(['call_id', 'state'])
        .execute();
      this.reset();
      for (const r of rows) this.set({ call: r.call_id, state: r.state }, Number(r.n));
    },
  });
  new Gauge({
    name: 'innosocial_outbox_messages',
    help: 'Notification outbox: messages waiting to be sent, and messages given up on',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const { pending, failed } = await outboxBacklog(db);
      this.set({ status: 'pending' }, pending);
      this.set({ status: 'failed' }, failed);
    },
  });
  new Gauge({
    name: 'innosocial_reserve_list_length',
    help: "Admissions waiting in a call's reserve list for budget to be freed",
    labelNames: ['call'] as const,
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('budget_reservations')
        .select(['call_id', sql<string>`count(*) filter (where status = 'waiting')`.as('n')])
        .groupBy('call_id')
        .execute();
      this.reset();
      for (const r of rows) this.set({ call: r.call_id }, Number(r.n));
    },
  });
  return {
    registry,
    /** Records one answered request; `route` is the route's pattern (never the URL: ids and tokens stay out). */
    observe(route: string, method: string, status: number, seconds: number) {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route, method }, seconds);
    },
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Who may read /metrics: the scraper with METRICS_TOKEN; without one, a caller on this host, unless a proxy stands
 * in front (its requests all come from loopback, strangers' included). Counts per call and state are the
 * programme's internal figures, not a stranger's to read.
 */
export function mayScrape(config: Pick<Config, 'METRICS_TOKEN' | 'TRUST_PROXY'>, req: FastifyRequest): boolean {
  if (config.METRICS_TOKEN) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    return timingSafeEqual(digest(given), digest(config.METRICS_TOKEN));
  }
  return config.TRUST_PROXY === false && LOOPBACK.test(req.socket.remoteAddress ?? '');
}
