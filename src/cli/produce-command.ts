import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BatchProducer } from '../app/adapters/batch-producer.ts';
import type { RecordPosition } from '../app/kafka/keyed-producer.ts';
import { rawTopicFor } from '../config/app-config.ts';
import type { Deployment } from '../config/deployment.ts';
import { sampleBatches } from '../generator/sample-batches.ts';
import { batchIdOf } from '../profiles/batch-dedup.ts';
import type { Batch } from '../schema/batch.ts';
import { InvalidBatchError } from '../schema/errors.ts';
import { parseJsonBatch } from '../schema/json-batch.ts';
import type { CliOutput } from './cli-output.ts';
import type { Connection } from './connection.ts';
import { CliError } from './errors.ts';

export interface ProduceOptions {
  sample?: string | undefined;
  seed?: string | undefined;
  file?: string | undefined;
  source?: string | undefined;
}

/** Seeds run up to 2^31 so a printed seed reads as a plain number and fits the generator's int math. */
const MAX_SEED = 2 ** 31 - 1;

function positiveInt(name: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new CliError('PS_ERR_CLI_USAGE', `--${name} ${raw}: expected a whole number from 1 to ${max}`);
  return n;
}

/** A file holds one JSON batch, an array of batches, or one batch per line. */
function jsonDocuments(text: string, file: string): unknown[] {
  const trimmed = text.trim();
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return trimmed.split('\n').filter((l) => l.trim() !== '').map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (e) {
        throw new CliError('PS_ERR_CLI_INVALID_BATCHES', `${file}:${i + 1}: not JSON (${(e as Error).message}); expected a batch, an array of batches, or one batch per line`);
      }
    });
  }
}

/**
 * The batches of a file, each for the source it names (a declared one; anything else is a problem, never
 * rerouted), else `--source`, else the first declared source: the same rule as `POST /v2/events`.
 */
function fileBatches(docs: unknown[], sources: readonly string[], fallback: string, file: string): Batch[] {
  const problems: string[] = [];
  const batches: Batch[] = [];
  docs.forEach((doc, i) => {
    const named = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).source : undefined;
    if (named !== undefined && named !== null && (typeof named !== 'string' || !sources.includes(named))) {
      problems.push(`batch ${i}: $.source: is ${JSON.stringify(named)}, not a source declared in topology/app.yaml (${sources.join(', ')})`);
      return;
    }
    try {
      batches.push(parseJsonBatch(doc, { source: typeof named === 'string' ? named : fallback, workspaceId: '1' }).batch);
    } catch (error) {
      if (!(error instanceof InvalidBatchError)) throw error;
      for (const p of error.problems) problems.push(`batch ${i}: ${p.path}: ${p.message}`);
    }
  });
  if (problems.length > 0) {
    throw new CliError('PS_ERR_CLI_INVALID_BATCHES', `${file}: nothing produced, ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return batches;
}

/** `profile-stream produce`: generated or file batches to the raw topics, keyed by MPID; prints where each landed. */
export async function produceCommand(deployment: Deployment, conn: Connection, options: ProduceOptions, out: CliOutput): Promise<number> {
  const { app } = deployment;
  if (options.source !== undefined && !app.sources.includes(options.source)) {
    throw new CliError('PS_ERR_CLI_USAGE', `--source ${options.source}: not a source in topology/app.yaml (${app.sources.join(', ')})`);
  }
  const source = options.source ?? app.sources[0]!;
  let batches: Batch[];
  if (options.sample !== undefined && options.file !== undefined) {
    throw new CliError('PS_ERR_CLI_USAGE', 'produce takes --sample N or --file F, not both');
  } else if (options.sample !== undefined) {
    const count = positiveInt('sample', options.sample, 100_000);
    // A new seed per run unless one is given: new users and new source_request_ids, so a second run is new
    // data rather than replays the processor would drop.
    const seed = options.seed !== undefined ? positiveInt('seed', options.seed, MAX_SEED) : randomInt(1, MAX_SEED);
    batches = [...sampleBatches({ seed, users: Math.max(1, Math.ceil(count / 2)), batches: count, sources: [source], startTimeMs: Date.now() - count * 1000, workspaceId: '1' })];
    out.info(`seed ${seed}: ${count} sample batch(es) for source ${source}`);
    if (options.seed !== undefined) {
      out.info(`note: the same --seed sends the same batches (same source_request_id); batches already processed are dropped as replays. Leave out --seed for new data.`);
    }
  } else if (options.file !== undefined) {
    batches = fileBatches(jsonDocuments(await readFile(options.file, 'utf8'), options.file), app.sources, source, options.file);
  } else {
    throw new CliError('PS_ERR_CLI_USAGE', 'produce needs --sample N or --file F (profile-stream produce --help)');
  }

  const bySource = new Map<string, Batch[]>();
  for (const b of batches) bySource.set(b.source, [...(bySource.get(b.source) ?? []), b]);
  const producer = new BatchProducer(conn.brokers, conn.schemaRegistryUrl, undefined, conn.security);
  await producer.connect();
  const sent: { batch: Batch; position: RecordPosition }[] = [];
  try {
    for (const [batchSource, list] of bySource) {
      const positions = await producer.send(rawTopicFor(app.applicationId, batchSource), list);
      list.forEach((batch, i) => sent.push({ batch, position: positions[i]! }));
    }
  } finally {
    await producer.disconnect();
  }
  for (const { batch, position } of sent) {
    out.info(`${position.topic}:${position.partition}@${position.offset}  mpid ${batch.mpid}  source_request_id ${batchIdOf(batch)}`);
  }
  const topics = [...new Set(sent.map((s) => s.position.topic))];
  const users = new Set(batches.map((b) => b.mpid)).size;
  out.info(`${batches.length} batch(es) for ${users} user(s) acknowledged by Kafka on ${topics.join(', ')}`);
  const first = deployment.integrations[0];
  if (first) out.info(`see them enriched: npx profile-stream consume ${first.outputTopic} --count ${batches.length}`);
  return 0;
}
