import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { CalculatedAttributeDefinition } from '../audiences/calculated-attribute-definition.ts';
import { parseDate } from '../config/yaml-document.ts';
import { checkSeedAgainstDefinitions, parseSeedMessage, type SeedMessage } from '../audiences/seed-message.ts';
import type { CredentialChecker } from './credential-checker.ts';
import { requireWorkspace } from './basic-auth.ts';
import { ApiError } from './errors.ts';
import type { SeedSink } from './seed-sink.ts';

export interface SeedRoutesOptions {
  readonly auth: CredentialChecker;
  readonly sink: SeedSink;
  readonly calculatedAttributes: readonly CalculatedAttributeDefinition[];
  readonly maxSeeds: number;
}

const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, additionalProperties: true } as const;
const moment = { type: 'object', required: ['timestamp_ms'], properties: { timestamp_ms: { type: 'integer' }, value: { type: 'string' } } } as const;

type SeedBody = {
  workspace_id: string;
  cutoff_ms?: number;
  cutoff?: string;
  seeds: Array<Record<string, unknown> & { mpid: string; name: string; cutoff_ms?: number; cutoff?: string }>;
};

/**
 * `POST /v1/calculated-attributes/seeds`: seeds per user and definition with a cutoff, as mParticle's
 * seeding API takes them. All or nothing: every seed is checked against calculated-attributes.yaml
 * first (400 with each problem), then all go to the seeding topic and 202 comes once Kafka acked.
 */
export async function seedRoutes(app: FastifyInstance, options: SeedRoutesOptions): Promise<void> {
  const { auth, sink, calculatedAttributes, maxSeeds } = options;

  app.post<{ Body: SeedBody }>(
    '/v1/calculated-attributes/seeds',
    {
      schema: {
        summary: 'Seed calculated attributes: what each user did before a cutoff (live events count from the cutoff on)',
        tags: ['calculated attributes'],
        body: {
          type: 'object',
          required: ['workspace_id', 'seeds'],
          properties: {
            workspace_id: { type: 'string', minLength: 1 },
            cutoff_ms: { type: 'integer', minimum: 1, description: 'Default cutoff for every seed (epoch ms).' },
            cutoff: { type: 'string', description: 'Default cutoff as a date (2026-11-01, UTC midnight) or ISO-8601 date-time.' },
            seeds: {
              type: 'array',
              minItems: 1,
              maxItems: maxSeeds,
              items: {
                type: 'object',
                required: ['mpid', 'name'],
                properties: {
                  mpid: { type: 'string', pattern: '^-?[0-9]{1,20}$', format: 'decimal-int64' },
                  name: { type: 'string', minLength: 1 },
                  cutoff_ms: { type: 'integer', minimum: 1 },
                  cutoff: { type: 'string' },
                  count: { type: 'number' },
                  sum: { type: 'number' },
                  minimum: { type: 'number' },
                  maximum: { type: 'number' },
                  values: { type: 'object', additionalProperties: { type: 'number' } },
                  first: moment,
                  last: moment,
                },
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
        response: {
          202: { type: 'object', properties: { accepted: { type: 'integer' } } },
          400: errorSchema, 401: errorSchema, 403: errorSchema, 413: errorSchema, 429: errorSchema, 503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const key = await auth.authenticate(request);
      const body = request.body;
      requireWorkspace(key, body.workspace_id);
      const problems: Array<{ path: string; message: string }> = [];
      const defaultCutoff = cutoffOf(body.cutoff_ms, body.cutoff, '$', problems);
      const messages: SeedMessage[] = [];
      body.seeds.forEach((seed, i) => {
        const path = `$.seeds[${i}]`;
        const { cutoff: _c, cutoff_ms: _ms, ...summary } = seed;
        const cutoff = cutoffOf(seed.cutoff_ms, seed.cutoff, path, problems) ?? defaultCutoff;
        if (cutoff === undefined) {
          if (defaultCutoff === undefined) problems.push({ path, message: 'has no cutoff: send "cutoff_ms" or "cutoff" with the seed or for the whole request' });
          return;
        }
        try {
          const message = parseSeedMessage({ ...summary, workspace_id: body.workspace_id, cutoff_ms: cutoff });
          checkSeedAgainstDefinitions(message, calculatedAttributes);
          messages.push(message);
        } catch (error) {
          problems.push({ path, message: (error as Error).message });
        }
      });
      if (problems.length > 0) {
        throw new ApiError('PS_ERR_API_INVALID_SEED', `${problems.length} seed problem(s), nothing accepted: ${problems[0]!.path} ${problems[0]!.message}`, { problems });
      }
      try {
        await sink.sendSeeds(messages);
      } catch (error) {
        throw new ApiError('PS_ERR_API_KAFKA_UNAVAILABLE', `the seeds could not be written to Kafka: ${(error as Error).message}`, {}, 5);
      }
      return reply.code(202).send({ accepted: messages.length });
    },
  );
}

/** The cutoff in epoch ms from `cutoff_ms` or a `cutoff` date string; undefined when neither is given. */
function cutoffOf(ms: number | undefined, text: string | undefined, path: string, problems: Array<{ path: string; message: string }>): number | undefined {
  if (ms !== undefined && text !== undefined) {
    problems.push({ path, message: 'give "cutoff_ms" or "cutoff", not both' });
    return undefined;
  }
  if (ms !== undefined) return ms;
  if (text === undefined) return undefined;
  const parsed = parseDate(text);
  if (parsed === undefined || parsed <= 0) {
    problems.push({ path: `${path}.cutoff`, message: `is ${JSON.stringify(text)}: expected a date (2026-11-01) or an ISO-8601 date-time` });
    return undefined;
  }
  return parsed;
}
