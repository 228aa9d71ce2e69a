import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Batch } from '../schema/batch.ts';
import { InvalidBatchError, type BatchProblem } from '../schema/errors.ts';
import { parseJsonBatch } from '../schema/json-batch.ts';
import { batchIdOf } from '../profiles/batch-dedup.ts';
import type { ApiKey } from './api-keys.ts';
import type { CredentialChecker } from './credential-checker.ts';
import { requireWorkspace } from './basic-auth.ts';
import { ApiError } from './errors.ts';
import { sinkFailure } from './sink-failure.ts';
import type { BatchSink, IngestedPosition } from './batch-sink.ts';

export interface IngestRoutesOptions {
  readonly auth: CredentialChecker;
  readonly sink: BatchSink;
  /** Sources declared in topology/app.yaml and the raw topic of each. */
  readonly rawTopicOf: (source: string) => string | undefined;
  /** Used when a batch names no source. */
  readonly defaultSource: string;
  readonly maxBulk: number;
}

const accepted = {
  type: 'object',
  required: ['accepted'],
  properties: {
    accepted: { type: 'array', items: { type: 'string' }, description: 'per batch, in request order: the id the processor deduplicates by (source_request_id, or sha256:<digest> of the batch when it has none)' },
    offsets: {
      type: 'array',
      description: 'per batch, in request order: where Kafka stored it; compare with the Profile API\'s x-profile-stream-offsets header',
      items: { type: 'object', required: ['topic', 'partition', 'offset'], properties: { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'string' } } },
    },
  },
} as const;
const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, additionalProperties: true } as const;
const responses = { 202: accepted, 400: errorSchema, 401: errorSchema, 403: errorSchema, 413: errorSchema, 429: errorSchema, 503: errorSchema };

/**
 * `POST /v2/events` and `/v2/bulkevents`: mParticle-style JSON batches in, Avro on the raw topic out.
 * All or nothing per request: every batch is validated first, and 202 comes only after Kafka acked.
 */
export async function ingestRoutes(app: FastifyInstance, options: IngestRoutesOptions): Promise<void> {
  const { auth, sink } = options;

  /**
   * Where one batch goes, from its own `workspace_id` and `source` when it names them: the workspace must be
   * one of the key's (403 otherwise; the key's first when absent), the source one declared in
   * topology/app.yaml (a problem otherwise; `defaultSource` when absent). Nothing is rerouted silently.
   */
  function routeOf(json: unknown, key: ApiKey, path: string, problems: BatchProblem[]): { workspaceId: string; source?: string } {
    const fields = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
    const workspace = fields.workspace_id;
    const workspaceId = typeof workspace === 'string' ? workspace : key.workspaces[0]!;
    if (typeof workspace === 'string') requireWorkspace(key, workspace);
    const named = fields.source;
    if (named === undefined || named === null) return { workspaceId, source: options.defaultSource };
    if (typeof named !== 'string' || options.rawTopicOf(named) === undefined) {
      problems.push({ path: `${path}.source`, message: `is ${JSON.stringify(named)}, not a source declared in topology/app.yaml: leave it out (the default is "${options.defaultSource}") or name a declared one` });
      return { workspaceId };
    }
    return { workspaceId, source: named };
  }

  async function ingest(raw: unknown[], key: ApiKey, bulk: boolean): Promise<{ accepted: string[]; offsets?: IngestedPosition[] }> {
    const problems: BatchProblem[] = [];
    const parsed: Batch[] = [];
    raw.forEach((json, i) => {
      const root = bulk ? `$[${i}]` : '$';
      const route = routeOf(json, key, root, problems);
      try {
        const { batch } = parseJsonBatch(json, { ...route });
        parsed.push(batch);
      } catch (error) {
        if (!(error instanceof InvalidBatchError)) throw error;
        for (const p of error.problems) problems.push(bulk ? { ...p, path: p.path.replace(/^\$/, root) } : p);
      }
    });
    if (problems.length > 0) throw new ApiError('PS_ERR_API_INVALID_BATCH', `${problems.length} problem(s): ${problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join('; ')}`, { problems });
    const bySource = new Map<string, Batch[]>();
    for (const b of parsed) bySource.set(b.source, [...(bySource.get(b.source) ?? []), b]);
    const positionOf = new Map<Batch, IngestedPosition>();
    try {
      // One send per raw topic; 202 only after every one was acknowledged. A failure after some topics were
      // acked still answers 503: the client resends, and the processor drops the replays by batch id.
      await Promise.all(
        [...bySource].map(async ([source, list]) => {
          const positions = await sink.send(options.rawTopicOf(source)!, list);
          if (positions) list.forEach((b, i) => positions[i] && positionOf.set(b, positions[i]));
        }),
      );
    } catch (error) {
      throw sinkFailure(error);
    }
    // The id the processor deduplicates by: source_request_id, or a content digest when there is none.
    const accepted = parsed.map(batchIdOf);
    if (positionOf.size !== parsed.length) return { accepted };
    return { accepted, offsets: parsed.map((b) => positionOf.get(b)!) };
  }

  app.post<{ Body: unknown }>(
    '/v2/events',
    { schema: { summary: 'Send one batch', tags: ['ingestion'], body: { type: 'object' }, response: responses } },
    async (request, reply) => {
      const key = await auth.authenticate(request);
      return reply.code(202).send(await ingest([request.body], key, false));
    },
  );

  app.post<{ Body: unknown[] }>(
    '/v2/bulkevents',
    {
      schema: {
        summary: `Send up to ${options.maxBulk} batches`,
        tags: ['ingestion'],
        body: { type: 'array', items: { type: 'object' }, minItems: 1, maxItems: options.maxBulk },
        response: responses,
      },
    },
    async (request, reply) => {
      const key = await auth.authenticate(request);
      return reply.code(202).send(await ingest(request.body, key, true));
    },
  );
}
