import type { RuntimeEnv } from '../config/runtime-env.ts';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ApiKeyStore } from './api-keys.ts';
import { AuditLog } from './audit-log.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { CredentialChecker } from './credential-checker.ts';
import { installJsonBodyParser } from './json-body-parser.ts';
import { INT64_FORMAT } from './int64-format.ts';
import { SecretVerifier } from './secret-verifier.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { Forwarder } from './forwarder.ts';
import { documentRoute, PUBLIC_PATHS } from './openapi-route-docs.ts';
import { healthRoutes } from './health-routes.ts';
import { type ReadinessSource } from './readiness-source.ts';
import { ingestRoutes } from './ingest-routes.ts';
import { type BatchSink } from './batch-sink.ts';
import { HttpMetrics, metricsRoutes } from './metrics-routes.ts';
import type { ProfileLookup } from './profile-lookup.ts';
import { profileRoutes } from './profile-routes.ts';
import { PROFILE_FIELDS } from './profile-response.ts';
import { dsrRoutes } from './dsr-routes.ts';
import { type DsrGateway } from './dsr-gateway.ts';
import { idsyncRoutes, type IdSyncSink } from './idsync-routes.ts';
import type { IdentityStrategy } from '../identity/identity-strategy.ts';
import { seedRoutes } from './seed-routes.ts';
import { type SeedSink } from './seed-sink.ts';
import type { CalculatedAttributeDefinition } from '../audiences/calculated-attribute-definition.ts';
import { activityViewRoutes } from './activity-view-routes.ts';
import { type HistoryLookup } from './history-lookup.ts';
import { workspaceViewRoutes, type WorkspaceViewsOptions } from './workspace-view-routes.ts';
import type { IntegrationConfig } from '../profiles/integration.ts';

export interface ApiOptions {
  readonly readiness: ReadinessSource;
  readonly logger?: boolean;
  /** Profile API; without it the profile routes are not served. */
  readonly lookup?: ProfileLookup;
  readonly keys?: ApiKeyStore;
  /** Ingestion; without it /v2/events is not served. */
  readonly ingest?: { sink: BatchSink; rawTopicOf: (source: string) => string | undefined; defaultSource: string };
  readonly metricsRegistries?: readonly Registry[];
  readonly immutableIdType?: string;
  /** Bytes; larger bodies get 413. Default 1 MiB (a bulk request of 100 batches of mParticle's 128 KB would not fit; send fewer). */
  readonly bodyLimit?: number;
  /** Requests per minute per API key (per client address for requests without verified credentials); default 6000. */
  readonly rateLimitPerMinute?: number;
  /** Batches per `/v2/bulkevents` request; default 100 (mParticle's limit). */
  readonly maxBulk?: number;
  /** Calculated attribute seeds; without it /v1/calculated-attributes/seeds is not served. */
  readonly seeds?: { sink: SeedSink; calculatedAttributes: readonly CalculatedAttributeDefinition[]; maxSeeds?: number };
  /** Erasure requests; without it /v1/dsr is not served. */
  readonly dsr?: DsrGateway;
  /** The IDSync API (`/v1/identify`, ...); needs `lookup`. */
  readonly idsync?: { sink: IdSyncSink; strategy: IdentityStrategy; rawTopic: string; source: string; waitMs?: number };
  /** User Activity View (page at `/` from `uiDir`); needs `lookup` and `keys` too. */
  readonly activityView?: { history: HistoryLookup; uiDir: string; integrations?: readonly IntegrationConfig[] };
  /** Live Stream, Audiences and Calculated attributes pages' data; needs `keys`. */
  readonly workspaceViews?: WorkspaceViewsOptions;
  /** Deepest nesting of arrays and objects a JSON body may have; default 64 (400 beyond). */
  readonly jsonMaxDepth?: number;
  /** Failed-authentication throttling and the scrypt verifier's bounds; defaults in `AUTH_DEFAULTS`. */
  readonly auth?: Partial<AuthLimits>;
  /** The application's logger; the audit trail is its child named `audit`. Without it the trail is discarded. */
  readonly auditLogger?: Logger;
}

/** The environment's authentication limits (`RuntimeEnv.auth`), and how many refusals may be held back at once. */
export type AuthLimits = RuntimeEnv['auth'] & {
  /** Refusals held at once at most; beyond, they are answered at once. */
  readonly maxDelayed: number;
};

export const AUTH_DEFAULTS: AuthLimits = { maxFailuresPerAddress: 20, maxFailuresPerKey: 5, windowSeconds: 60, verifyConcurrency: 1, verifyQueue: 32, verifyPerSecond: 2, failureDelayMs: 1000, maxDelayed: 10_000 };

function sendError(reply: FastifyReply, error: ApiError): void {
  if (error.code === 'PS_ERR_API_UNAUTHORIZED') reply.header('www-authenticate', 'Basic realm="profile-stream"');
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  void reply.code(error.statusCode).send({ error: error.code, message: error.message, ...error.extra });
}

/** Builds the HTTP server; each feature is a plugin registered here and nowhere else. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // MPIDs are decimal strings of a signed 64-bit integer: a pattern checks the digits, this the range.
    ajv: { customOptions: { formats: { 'decimal-int64': INT64_FORMAT } } },
    // Errors fastify's router raises before any route (a path parameter over 100 characters, a malformed
    // URL) would otherwise be answered in fastify's own shape, without a PS_ERR_ code.
    frameworkErrors: (error, _request, reply) => {
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, new ApiError('PS_ERR_API_URI_TOO_LONG', 'a path parameter is longer than 100 characters'));
      sendError(reply, new ApiError('PS_ERR_API_BAD_REQUEST', `the URL is not valid: ${error.message}`));
    },
  });
  installJsonBodyParser(app, { maxDepth: options.jsonMaxDepth ?? 64 });
  const limits = { ...AUTH_DEFAULTS, ...options.auth };
  const auth = options.keys
    ? new CredentialChecker(
        options.keys,
        new SecretVerifier({ concurrency: limits.verifyConcurrency, maxQueued: limits.verifyQueue, perSecond: limits.verifyPerSecond }),
        new AuthThrottle({ maxFailuresPerAddress: limits.maxFailuresPerAddress, maxFailuresPerKey: limits.maxFailuresPerKey, windowMs: limits.windowSeconds * 1000 }),
        new AuditLog(options.auditLogger),
        { failureDelayMs: limits.failureDelayMs, maxDelayed: limits.maxDelayed },
      )
    : undefined;
  app.addHook('onClose', async () => auth?.close());
  const http = new HttpMetrics();
  const forwarder = new Forwarder();
  app.addHook('onResponse', async (request, reply) => {
    http.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.addHook('onClose', async () => forwarder.close());
  app.addHook('onRoute', documentRoute);

  app.setErrorHandler((error: FastifyError | ApiError, _request, reply) => {
    if (error instanceof ApiError) return sendError(reply, error);
    const e = error as FastifyError;
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, new ApiError('PS_ERR_API_PAYLOAD_TOO_LARGE', `request body over ${bodyLimit} bytes`));
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, new ApiError('PS_ERR_API_UNSUPPORTED_MEDIA_TYPE', `${e.message}: send the body as application/json`));
    // `fields` is required by the schema (so /openapi.json says so) but keeps its own code and message.
    if (e.validation && e.validationContext === 'querystring' && e.validation.some((v) => v.params?.missingProperty === 'fields' || v.instancePath === '/fields')) {
      return sendError(reply, new ApiError('PS_ERR_API_BAD_FIELDS', `query parameter "fields" is required: a comma-separated subset of ${PROFILE_FIELDS.join(', ')}`));
    }
    if (e.validation) return sendError(reply, new ApiError('PS_ERR_API_BAD_REQUEST', `${e.validationContext ?? 'request'}${e.message.replace(/^[a-z]+/, '')}`));
    if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) return sendError(reply, new ApiError('PS_ERR_API_BAD_REQUEST', e.message));
    reply.log.error(error);
    sendError(reply, new ApiError('PS_ERR_API_INTERNAL', 'internal error; see the server log'));
  });
  // fastify parses text/plain bodies by default, so a text body reached the routes' schemas and got a
  // puzzling 400 "body must be object"; without the parser it is 415 PS_ERR_API_UNSUPPORTED_MEDIA_TYPE.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request, reply) => sendError(reply, new ApiError('PS_ERR_API_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}; see /openapi.json`)));

  await app.register(swagger, {
    openapi: {
      info: { title: 'profile-stream', version: '0.1.0', description: 'Profile API, ingestion and operations. Errors: ' + Object.keys(API_ERRORS).join(', ') },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic' },
          // mParticle's request signing: OpenAPI has no HMAC scheme, so the two headers are named here and the
          // rule (and the Date header it needs) is in the description.
          mpKey: { type: 'apiKey', in: 'header', name: 'x-mp-key', description: 'the API key of a signed request (a key with a signing_secret_file)' },
          mpSignature: { type: 'apiKey', in: 'header', name: 'x-mp-signature', description: 'hex HMAC-SHA256, keyed with the secret, of METHOD + "\\n" + Date header + "\\n" + path with query + body; Date within 5 minutes of the server clock' },
        },
      },
      security: [{ basic: [] }, { mpKey: [], mpSignature: [] }],
    },
  });
  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute ?? 6000,
    timeWindow: 60_000,
    keyGenerator: (request) => auth?.rateLimitBucket(request) ?? `ip:${request.ip}`,
    allowList: (request) => PUBLIC_PATHS.includes(request.url),
    // Thrown by the plugin after it set Retry-After to the window's remaining seconds; sendError keeps that value.
    errorResponseBuilder: (_request, context) =>
      new ApiError('PS_ERR_API_RATE_LIMITED', `over ${context.max} requests per ${context.after} for this API key; retry in ${Math.ceil(context.ttl / 1000)} s`, {}, Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  await app.register(healthRoutes, { readiness: options.readiness });
  await app.register(metricsRoutes, { http, registries: options.metricsRegistries ?? [] });
  if (options.lookup && auth) {
    await app.register(profileRoutes, { lookup: options.lookup, auth, forwarder, immutableIdType: options.immutableIdType ?? 'customer_id' });
  }
  if (options.ingest && auth) {
    await app.register(ingestRoutes, { auth, sink: options.ingest.sink, rawTopicOf: options.ingest.rawTopicOf, defaultSource: options.ingest.defaultSource, maxBulk: options.maxBulk ?? 100 });
  }
  if (options.dsr && auth) await app.register(dsrRoutes, { dsr: options.dsr, auth, forwarder });
  if (options.idsync && options.lookup && auth) await app.register(idsyncRoutes, { ...options.idsync, auth, lookup: options.lookup, forwarder });
  if (options.seeds && auth) {
    await app.register(seedRoutes, { auth, sink: options.seeds.sink, calculatedAttributes: options.seeds.calculatedAttributes, maxSeeds: options.seeds.maxSeeds ?? 1000 });
  }
  if (options.activityView && options.lookup && auth) {
    await app.register(activityViewRoutes, { lookup: options.lookup, history: options.activityView.history, auth, forwarder, uiDir: options.activityView.uiDir, integrations: options.activityView.integrations ?? [] });
  }
  if (options.workspaceViews && auth) await app.register(workspaceViewRoutes, { ...options.workspaceViews, auth, forwarder });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
