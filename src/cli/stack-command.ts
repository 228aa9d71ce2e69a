import { LocalStack } from '../../stack/local-stack.ts';
import type { CliOutput } from './cli-output.ts';
import { CliError } from './errors.ts';

/** `profile-stream stack up|down|status`: the local Kafka and schema registry, without Docker. */
export async function stackCommand(action: string | undefined, out: CliOutput, brokersFlag?: string): Promise<number> {
  const stack = new LocalStack();
  const brokers = brokersFlag === undefined ? 1 : Number(brokersFlag);
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 9) throw new CliError('PS_ERR_CLI_USAGE', `--brokers ${brokersFlag}: expected a whole number from 1 to 9`);
  if (brokersFlag !== undefined && action !== 'up') throw new CliError('PS_ERR_CLI_USAGE', '--brokers goes with stack up');
  switch (action) {
    case 'up': {
      const e = await stack.up((line) => out.info(line), { brokers });
      out.info(`Kafka:           ${e.brokers} (${e.kafka}; log ${e.kafkaLog})`);
      out.info(`Schema registry: ${e.schemaRegistryUrl} (${e.registry}; log ${e.registryLog})`);
      out.info('Stop with: npm run stack:down');
      return 0;
    }
    case 'down': {
      const pids = await stack.down();
      out.info(pids.length > 0 ? `stopped the local stack (pids ${pids.join(', ')})` : 'the local stack was not running');
      return 0;
    }
    case 'status': {
      const s = await stack.status();
      out.info(`Kafka ${s.brokers}: ${s.kafka}`);
      out.info(`Schema registry ${s.schemaRegistryUrl}: ${s.registry}`);
      out.info(`Cache and logs: ${s.cacheDir}`);
      return s.kafkaAnswers && s.registryAnswers ? 0 : 1;
    }
    default:
      throw new CliError('PS_ERR_CLI_USAGE', `unknown stack action "${action ?? ''}": use up, down or status (profile-stream stack --help)`);
  }
}
