import type {} from '@fastify/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { DsrRequested, DsrTarget } from '../profiles/erasure.ts';
import type { CredentialChecker } from './credential-checker.ts';
import { requireWorkspace } from './basic-auth.ts';
import { ApiError } from './errors.ts';
import type { Forwarder } from './forwarder.ts';
import { notReady, relayToOwner } from './owner-relay.ts';
import { isUnavailable } from './profile-lookup.ts';
import type { DsrGateway } from './dsr-gateway.ts';

export interface DsrRoutesOptions {
  readonly dsr: DsrGateway;
  readonly auth: CredentialChecker;
  readonly forwarder: Forwarder;
  readonly now?: () => number;
}

const statusSchema = {
  type: 'object',
  properties: {
    request_id: { type: 'string' },
    workspace_id: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'completed'] },
    requested_ms: { type: 'integer' },
    completed_ms: { type: ['integer', 'null'] },
    result: { type: ['string', 'null'], enum: ['erased', 'not_found', null] },
  },
} as const;
const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, additionalProperties: true } as const;

type DsrBody = { workspace_id: string; mpid?: string; identity?: { type: string; value: string } };

/**
 * Data subject requests: `POST /v1/dsr` puts an erasure request (by MPID or by identity) on the DSR
 * topic and answers 202 with its id; `GET /v1/dsr/:id` reports pending or completed. Same API keys as
 * the Profile API; a key sees only requests of its workspaces.
 */
export async function dsrRoutes(app: FastifyInstance, options: DsrRoutesOptions): Promise<void> {
  const { dsr, auth, forwarder } = options;
  const now = options.now ?? Date.now;

  app.post<{ Body: DsrBody }>(
    '/v1/dsr',
    {
      schema: {
        summary: 'Request the erasure of a user, by MPID or by identity (type and value)',
        tags: ['dsr'],
        body: {
          type: 'object',
          required: ['workspace_id'],
          properties: {
            workspace_id: { type: 'string', minLength: 1 },
            mpid: { type: 'string', pattern: '^-?[0-9]{1,20}$', format: 'decimal-int64' },
            identity: { type: 'object', required: ['type', 'value'], properties: { type: { type: 'string', minLength: 1 }, value: { type: 'string', minLength: 1 } } },
          },
        },
        response: { 202: { ...statusSchema, headers: { location: { type: 'string', description: 'where to GET the request\'s status: /v1/dsr/<request_id>' } } }, 400: errorSchema, 401: errorSchema, 403: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const key = await auth.authenticate(request);
      const body = request.body;
      requireWorkspace(key, body.workspace_id);
      if ((body.mpid === undefined) === (body.identity === undefined)) {
        throw new ApiError('PS_ERR_API_BAD_REQUEST', 'send exactly one of "mpid" or "identity" ({ "type", "value" })');
      }
      const target: DsrTarget = body.mpid !== undefined ? { mpid: body.mpid } : { identity: { type: body.identity!.type, value: body.identity!.value } };
      const event: DsrRequested = { kind: 'requested', request_id: randomUUID(), workspace_id: body.workspace_id, requested_ms: now(), target };
      try {
        await dsr.submit(event);
      } catch (error) {
        throw new ApiError('PS_ERR_API_KAFKA_UNAVAILABLE', `the erasure request could not be written to Kafka: ${(error as Error).message}`, {}, 5);
      }
      auth.audit.dsrRequested({ key: key.key, address: request.ip, requestId: event.request_id, workspaceId: body.workspace_id, target: body.mpid !== undefined ? `mpid:${body.mpid}` : `identity:${body.identity!.type}` });
      reply.header('location', `/v1/dsr/${event.request_id}`);
      return reply.code(202).send({ request_id: event.request_id, workspace_id: event.workspace_id, status: 'pending', requested_ms: event.requested_ms, completed_ms: null, result: null });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/dsr/:id',
    {
      schema: {
        summary: 'Status of an erasure request',
        tags: ['dsr'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } },
        response: { 200: statusSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const key = await auth.authenticate(request);
      if (await relayToOwner(forwarder, request, reply, await dsr.ownerOfRequest(request.params.id), { method: 'GET', path: request.url })) return reply;
      const found = await dsr.getStatus(request.params.id);
      if (isUnavailable(found)) throw notReady(found.detail);
      // A request the processor has not read yet is unknown here: the caller retries, as for any 404 right after the POST.
      if (!found.status) throw new ApiError('PS_ERR_API_DSR_NOT_FOUND', `no erasure request ${request.params.id} (unknown, or not processed yet)`);
      requireWorkspace(key, found.status.workspace_id);
      return found.status;
    },
  );
}
