import type { FastifyInstance } from 'fastify';

/** What /ready asks: is every task restored and running, and if not, what is still on its way. */
export interface ReadinessSource {
  readiness(): { ready: boolean; detail: Record<string, unknown> };
}

/** /health says the process is up; /ready says it can answer for its partitions (503 with what is pending). */
export async function healthRoutes(app: FastifyInstance, options: { readiness: ReadinessSource }): Promise<void> {
  app.get('/health', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const { ready, detail } = options.readiness.readiness();
    reply.code(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '1');
    return { status: ready ? 'ready' : 'not_ready', ...detail };
  });
}
