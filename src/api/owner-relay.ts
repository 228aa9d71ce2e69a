import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';
import { FORWARDED_HEADER, type Forwarder } from './forwarder.ts';
import { FRESHNESS_HEADER, type KeyOwner } from './profile-lookup.ts';

/** Headers of the owner's answer that the caller needs: freshness, retry advice, auth challenge. */
const RELAYED_HEADERS = [FRESHNESS_HEADER, 'retry-after', 'www-authenticate'] as const;

/** Says who answered a relayed request (host:port of the owning instance). */
export const ANSWERED_BY_HEADER = 'x-profile-stream-answered-by';

export function notReady(detail: string): ApiError {
  return new ApiError('PS_ERR_API_NOT_READY', `the partition that owns this key is not ready (${detail}); retry shortly`, {}, 1);
}

/** The request to send on: built by the route, so a second hop can ask for a different path than it received. */
export interface RelayedRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query string. */
  readonly path: string;
  readonly body?: unknown;
}

/** Whether this request came from another instance; such a request is answered here or not at all. */
export function wasForwarded(request: FastifyRequest): boolean {
  return request.headers[FORWARDED_HEADER] !== undefined;
}

/**
 * Sends the request on to the instance that owns the key and relays its answer; false when this instance
 * must answer itself. The invariant: a request is forwarded at most once per hop, so a request that
 * arrived forwarded (`hopsLeft` 0) and finds the key elsewhere means ownership moved: 503, retry.
 *
 * @example Safe: the route decides whether it has a hop left.
 * ```ts
 * if (await relayToOwner(forwarder, request, reply, owner, { method: 'GET', path: request.url })) return reply;
 * ```
 * @example Unsafe: answering from local state when `owner.local` is false would serve an empty profile.
 */
export async function relayToOwner(
  forwarder: Forwarder,
  request: FastifyRequest,
  reply: FastifyReply,
  owner: KeyOwner,
  relayed: RelayedRequest,
  hopsLeft: number = wasForwarded(request) ? 0 : 1,
): Promise<boolean> {
  if (owner.local) return false;
  if (hopsLeft <= 0) throw notReady('ownership moved while the request was forwarded');
  if (!owner.applicationServer) throw notReady('no instance owns the partition yet');
  const headers: Record<string, string> = {};
  if (request.headers.authorization) headers.authorization = request.headers.authorization;
  if (relayed.body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await forwarder.forward(owner.applicationServer, {
      method: relayed.method,
      path: relayed.path,
      headers,
      ...(relayed.body !== undefined ? { body: JSON.stringify(relayed.body) } : {}),
    });
  } catch (error) {
    throw new ApiError('PS_ERR_API_OWNER_UNREACHABLE', `the instance that owns this key (${owner.applicationServer}) did not answer: ${(error as Error).message}`, {}, 1);
  }
  reply.code(res.statusCode).header('content-type', res.headers['content-type'] ?? 'application/json');
  for (const h of RELAYED_HEADERS) if (res.headers[h]) reply.header(h, res.headers[h]);
  reply.header(ANSWERED_BY_HEADER, res.headers[ANSWERED_BY_HEADER] ?? owner.applicationServer);
  await reply.send(res.body);
  return true;
}
