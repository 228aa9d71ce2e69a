import type { ParseArgsConfig } from 'node:util';
import { environmentHelp, type EnvironmentVariable } from '../config/environment-variables.ts';

type Part = EnvironmentVariable['usedBy'][number];

export interface FlagSpec {
  readonly name: string;
  readonly type: 'string' | 'boolean';
  /** Shown after the flag, e.g. `N`. */
  readonly value?: string;
  readonly meaning: string;
}

/** One subcommand: what `--help` prints for it and which flags `parseArgs` accepts (strictly). */
export interface CommandSpec {
  readonly name: string;
  readonly synopsis: string;
  readonly summary: string;
  readonly details?: string;
  readonly flags: readonly FlagSpec[];
  /** Which environment variables apply, by the part that reads them. */
  readonly env: readonly Part[];
  readonly examples: readonly string[];
}

const help: FlagSpec = { name: 'help', type: 'boolean', meaning: 'print this help' };

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    synopsis: 'profile-stream start [--stop-stack]',
    summary: 'run the service: topics, stream processor, HTTP API',
    details:
      'Starts the local stack first unless KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set. Ctrl-C stops the\n' +
      'service cleanly; the stack keeps running unless --stop-stack is given.',
    flags: [{ name: 'stop-stack', type: 'boolean', meaning: 'stop the local stack too when the service stops' }, help],
    env: ['service', 'stack'],
    examples: ['npm start', 'HTTP_PORT=8090 STATE_DIR=/tmp/ps-state npx profile-stream start'],
  },
  {
    name: 'stack',
    synopsis: 'profile-stream stack up|down|status [--brokers N]',
    summary: 'the local Kafka and schema registry (no Docker needed)',
    details:
      'up: fetch (first time) and start both, idempotent. down: stop them. status: what listens on the\n' +
      'configured ports, checked by asking Kafka and the registry, not only by the pid files.\n' +
      'up --brokers 3: a KRaft cluster of 3 brokers instead of one (ports STACK_KAFKA_PORT, +10, +20; replication\n' +
      'factor 3, min.insync.replicas 2), so one broker can be stopped without losing acknowledged data.',
    flags: [{ name: 'brokers', type: 'string', meaning: 'up: how many brokers (1-9; default 1)' }, help],
    env: ['stack'],
    examples: ['npm run stack:status', 'STACK_KAFKA_PORT=19092 npx profile-stream stack status'],
  },
  {
    name: 'topics',
    synopsis: 'profile-stream topics',
    summary: 'create the topics topology/ declares and print them',
    flags: [help],
    env: ['clients', 'stack'],
    examples: ['npx profile-stream topics'],
  },
  {
    name: 'produce',
    synopsis: 'profile-stream produce (--sample N [--seed S] | --file F) [--source NAME]',
    summary: 'produce batches to the raw topics and print where each landed',
    details:
      '--sample N generates N batches for the source given by --source (default: the first source in\n' +
      'topology/app.yaml). Without --seed every run draws a new seed, so its batches are new users and new\n' +
      'source_request_ids; the seed is printed. With --seed S the same batches come again: the processor\n' +
      'drops batches it has seen (same source_request_id) as replays, and produce says so.\n' +
      '--file F sends the mParticle-style JSON batches in F (one batch, an array, or one per line); each\n' +
      'batch goes to its own "source", else to --source, else to the first source, as HTTP ingestion does.\n' +
      'Each batch is printed with its source_request_id, topic, partition and offset (compare with the\n' +
      'Profile API\'s x-profile-stream-offsets header).',
    flags: [
      { name: 'sample', type: 'string', value: 'N', meaning: 'generate N sample batches' },
      { name: 'seed', type: 'string', value: 'S', meaning: 'seed of the generated batches (a positive integer); same seed, same batches' },
      { name: 'file', type: 'string', value: 'F', meaning: 'JSON batches to send' },
      { name: 'source', type: 'string', value: 'NAME', meaning: 'input source (raw topic <app>.raw.NAME) for batches that name none' },
      help,
    ],
    env: ['clients', 'stack'],
    examples: ['npx profile-stream produce --sample 10', 'npx profile-stream produce --sample 5 --source ios --seed 7', 'npx profile-stream produce --file batches.json'],
  },
  {
    name: 'consume',
    synopsis: 'profile-stream consume TOPIC [--count N] [--from beginning|end] [--follow] [--timeout S]',
    summary: 'print a topic\'s records (Avro decoded) as JSON lines',
    details:
      'Where it starts: without --from, the records already on the topic, and with --count N only the N\n' +
      'latest of them (the N highest offsets per partition, the latest N of those printed oldest first).\n' +
      '--from beginning: from the first record. --from end: only records that arrive after it started (it\n' +
      'prints "waiting for new records" to stderr once it is ready).\n' +
      'When it stops: after N records with --count N (when fewer are there, it waits for the rest); without\n' +
      '--count, at the end of the topic (--from end: never); with --follow not before Ctrl-C or N records;\n' +
      'and, unless --follow, after --timeout seconds without a new record (default 10).\n' +
      'Reads committed records only, from every partition by direct assignment: it joins no consumer group\n' +
      'and commits nothing. Exit code 0, or 1 when --count N was given and fewer than N records came.',
    flags: [
      { name: 'count', type: 'string', value: 'N', meaning: 'print N records: the latest N, or the first N from --from' },
      { name: 'from', type: 'string', value: 'beginning|end', meaning: 'start at the first record, or at the end (only new records)' },
      { name: 'follow', type: 'boolean', meaning: 'keep printing new records until Ctrl-C' },
      { name: 'timeout', type: 'string', value: 'S', meaning: 'seconds without a new record before stopping (default 10)' },
      help,
    ],
    env: ['clients', 'stack'],
    examples: [
      'npx profile-stream consume profile-stream.enriched.analytics --count 10',
      'npx profile-stream consume profile-stream.dlq --from end --follow',
    ],
  },
  {
    name: 'hash-secret',
    synopsis: 'profile-stream hash-secret SECRET',
    summary: 'print the scrypt hash to put in topology/api-keys.yaml',
    flags: [help],
    env: [],
    examples: ["npx profile-stream hash-secret 'my secret'"],
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function parseArgsOptions(spec: CommandSpec): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(spec.flags.map((f) => [f.name, { type: f.type, ...(f.name === 'help' ? { short: 'h' } : {}) }]));
}

export function commandHelp(spec: CommandSpec): string {
  const flagText = (f: FlagSpec) => `--${f.name}${f.value ? ` ${f.value}` : ''}`;
  const width = Math.max(...spec.flags.map((f) => flagText(f).length));
  const lines = [`usage: ${spec.synopsis}`, '', spec.summary + '.'];
  if (spec.details) lines.push('', spec.details);
  lines.push('', 'Options:', ...spec.flags.map((f) => `  ${flagText(f).padEnd(width)}  ${f.meaning}`));
  if (spec.env.length > 0) lines.push('', 'Environment:', environmentHelp(spec.env));
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: profile-stream <command> [options]     (profile-stream <command> --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Environment:',
    environmentHelp(['service', 'clients', 'stack', 'tests']),
  ].join('\n');
}
