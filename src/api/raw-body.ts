import type { FastifyRequest } from 'fastify';

/** Each JSON request's body bytes as received, kept for checking a request signature over exactly those bytes. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export function rememberRawBody(request: FastifyRequest, body: Buffer): void {
  rawBodies.set(request, body);
}

export function rawBodyOf(request: FastifyRequest): Buffer | undefined {
  return rawBodies.get(request);
}
