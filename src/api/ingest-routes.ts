import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Batch } from '../schema/batch.ts';
import { InvalidBatchError, type BatchProblem } from '../schema/errors.ts';
import { parseJsonBatch } from '../schema/json-batch.ts';
import type { ApiKeyStore } from './api-keys.ts';
import { authenticate } from './basic-auth.ts';
import { ApiError } from './errors.ts';

/** Where accepted batches go: resolves only once Kafka acknowledged them. */
export interface BatchSink {
  send(topic: string, batches: readonly Batch[]): Promise<void>;
}

export interface IngestRoutesOptions {
  readonly keys: ApiKeyStore;
  readonly sink: BatchSink;
  /** Sources declared in topology/app.yaml and the raw topic of each. */
  readonly rawTopicOf: (source: string) => string | undefined;
  /** Used when a batch names no source (or one not declared). */
  readonly defaultSource: string;
  readonly maxBulk: number;
}

const accepted = { type: 'object', properties: { accepted: { type: 'array', items: { type: 'string' } } } } as const;
const problemList = { type: 'object', additionalProperties: true } as const;

/**
 * `POST /v2/events` and `/v2/bulkevents`: mParticle-style JSON batches in, Avro on the raw topic out.
 * All or nothing per request: every batch is validated first, and 202 comes only after Kafka acked.
 */
export async function ingestRoutes(app: FastifyInstance, options: IngestRoutesOptions): Promise<void> {
  const { keys, sink } = options;

  async function ingest(raw: unknown[], workspaceId: string): Promise<string[]> {
    const problems: BatchProblem[] = [];
    const parsed: Batch[] = [];
    raw.forEach((json, i) => {
      const source = typeof (json as { source?: unknown })?.source === 'string' && options.rawTopicOf((json as { source: string }).source) ? (json as { source: string }).source : options.defaultSource;
      try {
        const { batch } = parseJsonBatch(typeof json === 'object' && json !== null ? { ...json, workspace_id: workspaceId, source } : json, { workspaceId, source });
        if (batch.mpid === null) problems.push({ path: raw.length > 1 ? `$[${i}].mpid` : '$.mpid', message: 'profile-stream keys batches by MPID: send "mpid" (a decimal string)' });
        parsed.push(batch);
      } catch (error) {
        if (!(error instanceof InvalidBatchError)) throw error;
        for (const p of error.problems) problems.push(raw.length > 1 ? { ...p, path: p.path.replace(/^\$/, `$[${i}]`) } : p);
      }
    });
    if (problems.length > 0) throw new ApiError('PS_ERR_API_INVALID_BATCH', `${problems.length} problem(s): ${problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join('; ')}`, { problems });
    const bySource = new Map<string, Batch[]>();
    for (const b of parsed) bySource.set(b.source, [...(bySource.get(b.source) ?? []), b]);
    try {
      for (const [source, list] of bySource) await sink.send(options.rawTopicOf(source)!, list);
    } catch (error) {
      throw new ApiError('PS_ERR_API_KAFKA_UNAVAILABLE', `Kafka did not acknowledge the batch(es), nothing was accepted: ${(error as Error).message}`, {}, 5);
    }
    return parsed.map((b) => b.source_request_id ?? '');
  }

  app.post<{ Body: unknown }>(
    '/v2/events',
    { schema: { summary: 'Send one batch', tags: ['ingestion'], body: { type: 'object' }, response: { 202: accepted, 400: problemList } } },
    async (request, reply) => {
      const key = authenticate(request, keys);
      const ids = await ingest([request.body], key.workspaces[0]!);
      return reply.code(202).send({ accepted: ids });
    },
  );

  app.post<{ Body: unknown[] }>(
    '/v2/bulkevents',
    {
      schema: {
        summary: `Send up to ${options.maxBulk} batches`,
        tags: ['ingestion'],
        body: { type: 'array', items: { type: 'object' }, minItems: 1, maxItems: options.maxBulk },
        response: { 202: accepted, 400: problemList },
      },
    },
    async (request, reply) => {
      const key = authenticate(request, keys);
      const ids = await ingest(request.body, key.workspaces[0]!);
      return reply.code(202).send({ accepted: ids });
    },
  );
}
