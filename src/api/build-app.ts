import Fastify, { type FastifyInstance } from 'fastify';
import { healthRoutes, type ReadinessSource } from './health-routes.ts';

export interface ApiOptions {
  readonly readiness: ReadinessSource;
  readonly logger?: boolean;
}

/** Builds the HTTP server; each feature is a plugin registered here and nowhere else. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024 });
  await app.register(healthRoutes, { readiness: options.readiness });
  return app;
}
