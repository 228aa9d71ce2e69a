import { parseArgs } from 'node:util';
import { readRuntimeEnv } from '../config/runtime-env.ts';
import { loadDeployment } from '../config/deployment.ts';
import { consoleOutput, type CliOutput } from './cli-output.ts';
import { connect } from './connection.ts';
import { stackCommand } from './stack-command.ts';
import { topicsCommand } from './topics-command.ts';
import { produceCommand } from './produce-command.ts';
import { consumeCommand } from './consume-command.ts';
import { startCommand } from './start-command.ts';
import { hashSecret } from '../api/api-keys.ts';

const USAGE = `profile-stream <command> [options]

Commands:
  start [--stop-stack]            run the service (starts the local stack unless KAFKA_BROKERS and
                                  SCHEMA_REGISTRY_URL are set); Ctrl-C stops it, --stop-stack also stops the stack
  stack up|down|status            the local Kafka and schema registry (no Docker needed)
  topics                          create the topics topology/ declares and print them
  produce --sample N [--seed S]   produce N generated sample batches to a raw topic
  produce --file F                produce the JSON batches in F (one batch, an array, or one per line)
          [--source NAME]         which raw topic (default: the first source in topology/app.yaml)
  hash-secret SECRET              print the scrypt hash to put in topology/api-keys.yaml
  consume TOPIC [--count N] [--timeout SECONDS]
                                  print records of a topic (Avro decoded) as JSON lines

Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, HTTP_HOST (127.0.0.1), HTTP_PORT (8080), STATE_DIR,
TOPOLOGY_DIR (./topology), PROCESSING_GUARANTEE (exactly_once | at_least_once), LOG_LEVEL (info),
APPLICATION_SERVER (host:port other instances forward Profile API requests to; default HTTP_HOST:HTTP_PORT).`;

export async function main(argv: string[], out: CliOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out.info(USAGE);
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      sample: { type: 'string' },
      seed: { type: 'string' },
      file: { type: 'string' },
      source: { type: 'string' },
      count: { type: 'string' },
      timeout: { type: 'string' },
      'stop-stack': { type: 'boolean' },
    },
  });
  if (command === 'stack') return stackCommand(positionals[0], out);
  if (command === 'hash-secret') {
    if (!positionals[0]) {
      out.error('hash-secret needs the secret: profile-stream hash-secret \'my secret\'');
      return 2;
    }
    out.info(hashSecret(positionals[0]));
    return 0;
  }
  const env = readRuntimeEnv();
  const deployment = await loadDeployment(env.topologyDir);
  switch (command) {
    case 'topics': {
      const conn = await connect(env, out, { startStack: false });
      return topicsCommand(deployment, conn.brokers, out);
    }
    case 'produce': {
      const conn = await connect(env, out, { startStack: false });
      return produceCommand(deployment, conn, values, out);
    }
    case 'consume': {
      const conn = await connect(env, out, { startStack: false });
      return consumeCommand(conn, positionals[0], values, out);
    }
    case 'start':
      return startCommand(env, deployment, { stopStack: values['stop-stack'] === true }, out);
    default:
      out.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2), consoleOutput).then(
  (code) => {
    // `start` keeps the process alive itself; other commands end here.
    if (code !== -1) process.exit(code);
  },
  (error: unknown) => {
    const e = error as { code?: string; message?: string };
    consoleOutput.error(`profile-stream: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(error)}`);
    process.exit(1);
  },
);
