import type { FastifyInstance } from 'fastify';
import type { ReadinessSource } from './readiness-source.ts';

/** /health says the process is up and what it waits for; /ready says it can answer for its partitions (503 with what is pending). */
export async function healthRoutes(app: FastifyInstance, options: { readiness: ReadinessSource }): Promise<void> {
  const down = {
    type: 'array',
    description: 'what the instance is waiting for; it stays up and resumes by itself when that answers',
    items: { type: 'object', properties: { part: { type: 'string', enum: ['kafka', 'schema registry'] }, since: { type: 'string' }, reason: { type: 'string' } } },
  } as const;
  // Liveness: 200 while the process runs (an outage is waited out, not a reason to restart it); `down` says what is away.
  app.get('/health', { schema: { summary: 'The process is up, and what it waits for', tags: ['operations'], response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, down } } } } }, async () => ({
    status: 'ok',
    down: options.readiness.down?.() ?? [],
  }));
  const readiness = {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ready', 'not_ready'] } },
    // What is still on its way (state, restoring tasks, ...): the runtime's detail, as it is.
    additionalProperties: true,
  } as const;
  app.get('/ready', {
    schema: {
      summary: 'Every task is restored and running (200), or what is pending (503)',
      tags: ['operations'],
      response: { 200: readiness, 503: { ...readiness, description: 'not ready yet', headers: { 'retry-after': { type: 'integer' } } } },
    },
  }, async (_request, reply) => {
    const { ready, detail } = options.readiness.readiness();
    reply.code(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '1');
    return { status: ready ? 'ready' : 'not_ready', ...detail };
  });
}
