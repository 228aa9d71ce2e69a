import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BenchChild, REPO_ROOT } from '../lib/child.ts';
import { log } from '../lib/progress.ts';

export const PEER_DIR = join(REPO_ROOT, 'bench', 'peer-kafka-streams');
const JAR = join(PEER_DIR, 'target', 'peer-kafka-streams.jar');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** `mvn -q package` when the jar is missing or older than its sources. */
export async function buildPeer(): Promise<void> {
  const stale = !existsSync(JAR) || statSync(JAR).mtimeMs < Math.max(newestSource(join(PEER_DIR, 'src')), statSync(join(PEER_DIR, 'pom.xml')).mtimeMs);
  if (!stale) return;
  log('building the Kafka Streams peer (mvn -q package)');
  await promisify(execFile)('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: PEER_DIR, maxBuffer: 16 * 1024 * 1024 });
}

export interface PeerConfig {
  applicationId: string;
  brokers: string[];
  registryUrl: string;
  input: string;
  outputAll: string;
  outputAds: string;
  guarantee: 'at_least_once' | 'exactly_once';
  commitIntervalMs: number;
  stateDir: string;
  threads?: number;
  /**
   * `merge` (default): profile merge and enrichment only. `full`: also replay dedup, the history store and its
   * changelog, history-days and the identity index through `identityTopic` (created by the caller with the
   * input's partition count): profile-stream's per-batch work, for the equal-work comparison.
   */
  work?: 'merge' | 'full';
  identityTopic?: string;
  /** The producer's linger.ms; unset = Kafka Streams' default (100 ms, for throughput). */
  producerLingerMs?: number;
}

/** The peer's JVM: heap capped at 1 GiB (Kafka Streams' RocksDB lives off-heap, so RSS exceeds it). */
export function peerChild(config: PeerConfig): BenchChild {
  mkdirSync(config.stateDir, { recursive: true });
  const json = JSON.stringify({ ...config, brokers: config.brokers.join(','), enrichedSchemaFile: join(REPO_ROOT, 'schemas', 'enriched-batch.avsc'), threads: config.threads ?? 1 });
  return new BenchChild(`peer ${config.applicationId}`, 'java', ['-Xmx1g', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', `${JAR}:${join(PEER_DIR, 'target', 'lib')}/*`, 'dev.profilestream.peer.PeerApp', json]);
}
