import type { FastifyInstance } from 'fastify';
import { Histogram, Registry } from 'prom-client';

/** HTTP metrics of this server; `observe` is wired as a root onResponse hook by `buildApi`. */
export class HttpMetrics {
  readonly registry = new Registry();
  private readonly latency = new Histogram({
    name: 'profile_stream_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  /** One child per (method, route, status) series, made on its first response: labels are not looked up per response. */
  private readonly series = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const id = `${method} ${status} ${route}`;
    let child = this.series.get(id);
    if (child === undefined) {
      child = this.latency.labels(method, route, String(status));
      this.series.set(id, child);
    }
    child.observe(seconds);
  }
}

/** `/metrics` in Prometheus text format: HTTP latency plus the stream runtime's registries. */
export async function metricsRoutes(app: FastifyInstance, options: { http: HttpMetrics; registries: readonly Registry[] }): Promise<void> {
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics: HTTP latency and the stream runtime',
      tags: ['operations'],
      produces: ['text/plain'],
      response: { 200: { description: 'Prometheus text exposition format', type: 'string' } },
    },
  }, async (_request, reply) => {
    const merged = Registry.merge([options.http.registry, ...options.registries]);
    reply.header('content-type', merged.contentType);
    return merged.metrics();
  });
}
