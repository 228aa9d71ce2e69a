import pino from 'pino';
import { LocalStack } from '../../stack/local-stack.ts';
import { buildApi } from '../api/build-app.ts';
import { planTopics } from '../app/topic-plan.ts';
import { ensureTopics } from '../app/topic-admin.ts';
import { createService } from '../app/create-service.ts';
import type { Deployment } from '../config/deployment.ts';
import type { RuntimeEnv } from '../config/runtime-env.ts';
import type { CliOutput } from './cli-output.ts';
import { connect } from './connection.ts';
import { printTopics } from './topics-command.ts';

/**
 * `profile-stream start`: stack (unless the user brought Kafka), topics, the stream processor, the HTTP API.
 * Resolves with -1 while running: the process stays up until SIGINT/SIGTERM, which close everything cleanly.
 */
export async function startCommand(env: RuntimeEnv, deployment: Deployment, options: { stopStack: boolean }, out: CliOutput): Promise<number> {
  const logger = pino({ level: env.logLevel, base: { app: deployment.app.applicationId } });
  const conn = await connect(env, out, { startStack: true });
  const outcomes = await ensureTopics(conn.brokers, planTopics(deployment));
  const service = createService({ deployment, env, brokers: conn.brokers, schemaRegistryUrl: conn.schemaRegistryUrl, logger });
  await service.start();
  const api = await buildApi({ readiness: service });
  const address = await api.listen({ host: env.httpHost, port: env.httpPort });

  out.info('');
  out.info('profile-stream is running');
  out.info(`  HTTP:            ${address}  (/health, /ready)`);
  out.info(`  Kafka:           ${conn.brokers.join(',')}${conn.localStack ? ' (local stack)' : ''}`);
  out.info(`  Schema registry: ${conn.schemaRegistryUrl}`);
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
      await api.close();
      await service.close();
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
