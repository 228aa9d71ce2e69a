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
import { commandHelp, commandSpec, mainHelp, parseArgsOptions } from './command-specs.ts';
import { CliError } from './errors.ts';
import { kafkaSecurityFailure } from '../streams/index.ts';

/**
 * kafkajs 2.2.4 (in maintenance; still the local stack's broker checks in `stack/`)
 * schedules its throttle check with `throttledUntil - Date.now()`, negative when nothing is throttled; Node 24
 * clamps that to 1 ms, as older Nodes did, but now also prints a TimeoutNegativeWarning on every request.
 * Only that warning is dropped, so a command's stderr is its own.
 */
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'TimeoutNegativeWarning' || (warning instanceof Error && warning.name === 'TimeoutNegativeWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

export async function main(argv: string[], out: CliOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    // `help produce` reads as naturally as `produce --help`.
    const spec = command === 'help' && rest[0] ? commandSpec(rest[0]) : undefined;
    out.info(spec ? commandHelp(spec) : mainHelp());
    return command ? 0 : 2;
  }
  const spec = commandSpec(command);
  if (!spec) throw new CliError('PS_ERR_CLI_USAGE', `unknown command "${command}"\n\n${mainHelp()}`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: parseArgsOptions(spec) });
  } catch (error) {
    // node:util's ERR_PARSE_ARGS_* messages name the flag; the command's usage says what it takes.
    throw new CliError('PS_ERR_CLI_USAGE', `${(error as Error).message}\n\n${commandHelp(spec)}`, { cause: error });
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  if (values.help === true) {
    out.info(commandHelp(spec));
    return 0;
  }
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  if (command === 'stack') return stackCommand(positionals[0], out, text('brokers'));
  if (command === 'hash-secret') {
    if (!positionals[0]) throw new CliError('PS_ERR_CLI_USAGE', `hash-secret needs the secret\n\n${commandHelp(spec)}`);
    out.info(hashSecret(positionals[0]));
    return 0;
  }
  const env = readRuntimeEnv();
  const deployment = await loadDeployment(env.topologyDir);
  switch (command) {
    case 'topics': {
      const conn = await connect(env, out, { startStack: false });
      return topicsCommand(deployment, conn.brokers, out, conn.security.kafka);
    }
    case 'produce': {
      const conn = await connect(env, out, { startStack: false });
      return produceCommand(deployment, conn, { sample: text('sample'), seed: text('seed'), file: text('file'), source: text('source') }, out);
    }
    case 'consume': {
      const conn = await connect(env, out, { startStack: false });
      return consumeCommand(conn, positionals[0], { count: text('count'), timeout: text('timeout'), from: text('from'), follow: values.follow === true }, out);
    }
    default:
      return startCommand(env, deployment, { stopStack: values['stop-stack'] === true }, out);
  }
}

main(process.argv.slice(2), consoleOutput).then(
  (code) => {
    // `start` keeps the process alive itself; other commands end here.
    if (code !== -1) process.exit(code);
  },
  (error: unknown) => {
    // A refused password or an untrusted certificate reaches here as whichever client's connection error.
    const e = (kafkaSecurityFailure(error) ?? error) as { code?: string; message?: string; exitCode?: number };
    consoleOutput.error(`profile-stream: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(error)}`);
    process.exit(error instanceof CliError ? error.exitCode : 1);
  },
);
