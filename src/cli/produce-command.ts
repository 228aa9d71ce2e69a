import { readFile } from 'node:fs/promises';
import { BatchProducer } from '../app/batch-producer.ts';
import { rawTopicFor } from '../config/app-config.ts';
import type { Deployment } from '../config/deployment.ts';
import { sampleBatches } from '../generator/sample-batches.ts';
import type { Batch } from '../schema/batch.ts';
import { InvalidBatchError } from '../schema/errors.ts';
import { parseJsonBatch } from '../schema/json-batch.ts';
import type { CliOutput } from './cli-output.ts';
import type { Connection } from './connection.ts';

export interface ProduceOptions {
  sample?: string | undefined;
  seed?: string | undefined;
  file?: string | undefined;
  source?: string | undefined;
}

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} ${raw}: expected a positive integer`);
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
        throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message}); expected a batch, an array of batches, or one batch per line`);
      }
    });
  }
}

/** `profile-stream produce`: generated or file batches to the raw topics, keyed by MPID. */
export async function produceCommand(deployment: Deployment, conn: Connection, options: ProduceOptions, out: CliOutput): Promise<number> {
  const { app } = deployment;
  if (options.source !== undefined && !app.sources.includes(options.source)) {
    out.error(`--source ${options.source}: not a source in topology/app.yaml (${app.sources.join(', ')})`);
    return 2;
  }
  let batches: Batch[];
  if (options.sample !== undefined) {
    const count = positiveInt('sample', options.sample);
    const seed = options.seed !== undefined ? positiveInt('seed', options.seed) : 1;
    const sources = options.source !== undefined ? [options.source] : app.sources;
    batches = [...sampleBatches({ seed, users: Math.max(1, Math.ceil(count / 2)), batches: count, sources, startTimeMs: Date.now() - count * 1000, workspaceId: '1' })];
  } else if (options.file !== undefined) {
    const docs = jsonDocuments(await readFile(options.file, 'utf8'), options.file);
    const problems: string[] = [];
    batches = [];
    docs.forEach((doc, i) => {
      try {
        batches.push(parseJsonBatch(doc, { source: options.source ?? app.sources[0]!, workspaceId: '1' }).batch);
      } catch (error) {
        if (!(error instanceof InvalidBatchError)) throw error;
        for (const p of error.problems) problems.push(`batch ${i}: ${p.path}: ${p.message}`);
      }
    });
    if (problems.length > 0) {
      out.error(`${options.file}: nothing produced, ${problems.length} problem(s):`);
      for (const p of problems) out.error(`  ${p}`);
      return 1;
    }
  } else {
    out.error('produce needs --sample N or --file F');
    return 2;
  }

  const bySource = new Map<string, Batch[]>();
  for (const b of batches) {
    const source = app.sources.includes(b.source) ? b.source : (options.source ?? app.sources[0]!);
    bySource.set(source, [...(bySource.get(source) ?? []), b]);
  }
  const producer = new BatchProducer(conn.brokers, conn.schemaRegistryUrl);
  await producer.connect();
  try {
    for (const [source, list] of bySource) {
      const topic = rawTopicFor(app.applicationId, source);
      await producer.send(topic, list);
      out.info(`produced ${list.length} batch(es) to ${topic}`);
    }
  } finally {
    await producer.disconnect();
  }
  const users = new Set(batches.map((b) => b.mpid)).size;
  out.info(`${batches.length} batch(es) for ${users} user(s) acknowledged by Kafka`);
  const first = deployment.integrations[0];
  if (first) out.info(`see them enriched: npx profile-stream consume ${first.outputTopic} --count ${batches.length}`);
  return 0;
}
