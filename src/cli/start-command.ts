import pino from 'pino';
import { LocalStack } from '../../stack/local-stack.ts';
import { buildApi } from '../api/build-app.ts';
import { planTopics } from '../app/topology/topic-plan.ts';
import { ensureTopics } from '../app/kafka/topic-admin.ts';
import { createService } from '../app/create-service.ts';
import type { Deployment } from '../config/deployment.ts';
import type { RuntimeEnv } from '../config/runtime-env.ts';
import type { CliOutput } from './cli-output.ts';
import { connect } from './connection.ts';
import { printTopics } from './topics-command.ts';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ApiKeyStore } from '../api/api-keys.ts';
import { BatchProducer } from '../app/adapters/batch-producer.ts';
import { DEFAULT_IDENTITY_STRATEGY } from '../identity/identity-strategy.ts';
import { StreamsProfileLookup } from '../app/adapters/streams-profile-lookup.ts';
import { StreamsDsrGateway } from '../app/adapters/streams-dsr-gateway.ts';
import { SeedProducer } from '../app/adapters/seed-producer.ts';
import { packageRoot } from '../config/package-root.ts';
import { rawTopicFor } from '../config/app-config.ts';
import { workspaceViewSources } from '../app/adapters/workspace-view-sources.ts';
import { describeKafkaSecurity } from '../streams/index.ts';

async function loadApiKeys(file: string, out: CliOutput): Promise<ApiKeyStore> {
  if (!existsSync(file)) {
    out.error(`warning: ${file} not found: the Profile API and ingestion will refuse every request (401)`);
    return new ApiKeyStore([]);
  }
  return ApiKeyStore.load(file);
}

/**
 * `profile-stream start`: stack (unless the user brought Kafka), topics, the stream processor, the HTTP API.
 * Resolves with -1 while running: the process stays up until SIGINT/SIGTERM, which close everything cleanly.
 */
export async function startCommand(env: RuntimeEnv, deployment: Deployment, options: { stopStack: boolean }, out: CliOutput): Promise<number> {
  const logger = pino({ level: env.logLevel, base: { app: deployment.app.applicationId } });
  const conn = await connect(env, out, { startStack: true });
  const outcomes = await ensureTopics(conn.brokers, planTopics(deployment), conn.security.kafka);
  const keys = await loadApiKeys(join(env.topologyDir, 'api-keys.yaml'), out);
  const applicationServer = env.applicationServer ?? (env.httpPort !== 0 ? `${env.httpHost}:${env.httpPort}` : undefined);
  const service = createService({ deployment, env, brokers: conn.brokers, schemaRegistryUrl: conn.schemaRegistryUrl, security: conn.security, logger, ...(applicationServer ? { applicationServer } : {}) });
  // The processor starts joining its group now, while the HTTP side connects and builds: a restarted
  // instance takes its tasks back sooner (the join, its producers and restore are round trips to Kafka).
  const starting = service.start();
  starting.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  try {
    return await serve(env, deployment, options, out, { logger, conn, outcomes, keys, applicationServer, service, starting });
  } catch (err) {
    // The HTTP side could not start (a port in use, a broker refusing the ingest producer): the processor
    // leaves its group at once instead of holding its tasks until its session expires.
    await service.close().catch(() => undefined);
    throw err;
  }
}

async function serve(
  env: RuntimeEnv,
  deployment: Deployment,
  options: { stopStack: boolean },
  out: CliOutput,
  ctx: {
    logger: pino.Logger;
    conn: Awaited<ReturnType<typeof connect>>;
    outcomes: Awaited<ReturnType<typeof ensureTopics>>;
    keys: Awaited<ReturnType<typeof loadApiKeys>>;
    applicationServer: string | undefined;
    service: ReturnType<typeof createService>;
    starting: Promise<void>;
  },
): Promise<number> {
  const { logger, conn, outcomes, keys, applicationServer, service } = ctx;
  const producer = new BatchProducer(conn.brokers, conn.schemaRegistryUrl, `${deployment.app.applicationId}-http-ingest`, conn.security);
  await producer.connect();
  const { app } = deployment;
  const dsr = new StreamsDsrGateway(service.app, conn.brokers, app.dsrTopic, `${app.applicationId}-http-dsr`, conn.security);
  await dsr.connect();
  const seeds = new SeedProducer(conn.brokers, app.seedsTopic, `${app.applicationId}-http-seeds`, conn.security);
  await seeds.connect();
  const lookup = new StreamsProfileLookup(service.app, app.rawTopics);
  const views = workspaceViewSources({ deployment, app: service.app, brokers: conn.brokers, schemaRegistryUrl: conn.schemaRegistryUrl, security: conn.security, logger, applicationServer });
  const api = await buildApi({
    readiness: service,
    lookup,
    dsr,
    seeds: { sink: seeds, calculatedAttributes: deployment.calculatedAttributes ?? [], maxSeeds: env.api.maxSeeds },
    immutableIdType: env.api.immutableIdType,
    bodyLimit: env.api.bodyLimitBytes,
    rateLimitPerMinute: env.api.rateLimitPerMinute,
    maxBulk: env.api.maxBulk,
    jsonMaxDepth: env.api.jsonMaxDepth,
    auth: env.auth,
    auditLogger: logger,
    activityView: { history: lookup, uiDir: join(packageRoot(), 'ui'), integrations: deployment.integrations },
    workspaceViews: views.options,
    keys,
    ingest: {
      sink: producer,
      rawTopicOf: (source) => (app.sources.includes(source) ? rawTopicFor(app.applicationId, source) : undefined),
      defaultSource: app.sources[0]!,
    },
    idsync: { sink: producer, strategy: deployment.identity ?? DEFAULT_IDENTITY_STRATEGY, rawTopic: rawTopicFor(app.applicationId, app.sources[0]!), source: app.sources[0]! },
    metricsRegistries: [service.app.metrics.registry],
  });
  // Listening while the processor restores: /ready answers 503 with what is restoring until it is done.
  const address = await api.listen({ host: env.httpHost, port: env.httpPort });
  await ctx.starting;

  out.info('');
  out.info('profile-stream is running');
  out.info(`  HTTP:            ${address}  (User Activity View at /, Profile API, /v1/dsr, /v1/calculated-attributes/seeds, /v2/events, IDSync /v1/identify|search|login|logout|{mpid}/modify, /health, /ready, /metrics, /openapi.json)`);
  out.info(`  Kafka:           ${conn.brokers.join(',')}${conn.localStack ? ' (local stack)' : ` ${describeKafkaSecurity(conn.security.kafka)}`}`);
  out.info(`  Schema registry: ${conn.schemaRegistryUrl}${conn.security.registry?.basicAuth ? ` (basic auth as ${conn.security.registry.basicAuth.username})` : ''}`);
  out.info(`  State:           ${env.stateDir}`);
  out.info('  Topics:');
  printTopics(outcomes, out);
  out.info('');
  out.info('  Try:  npx profile-stream produce --sample 10');
  out.info(`        npx profile-stream consume ${deployment.integrations[0]?.outputTopic ?? '<output topic>'} --count 10`);
  out.info(`  Stop: Ctrl-C (the stack keeps running${conn.localStack ? '; `npm run stack:down` stops it' : ''})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    out.info(`\n${signal}: stopping profile-stream (committing and closing state)...`);
    let code = 0;
    try {
      // The runtime leaves the group first, while the HTTP API still answers: until the other instances have
      // the tasks, requests they forward here get this instance's answer (its stores, or a 503 once its tasks
      // closed) instead of a refused connection.
      await views.close();
      await service.close();
      await api.close();
      await producer.disconnect();
      await dsr.disconnect();
      await seeds.disconnect();
      if (options.stopStack && conn.localStack) {
        await new LocalStack().down();
        out.info('local stack stopped');
      }
    } catch (error) {
      out.error(`error while stopping: ${(error as Error).message}`);
      code = 1;
    }
    out.info('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  service.onFatal((error: Error) => {
    out.error(`profile-stream stopped on a fatal error: ${error.message}`);
    void api.close().finally(() => process.exit(1));
  });
  return -1;
}
