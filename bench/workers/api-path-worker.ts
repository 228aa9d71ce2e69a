/**
 * The Profile API's request path without Kafka, for profiling it alone (`bench/api-path.ts` drives it):
 * the real `buildApi`, the real `StreamsProfileLookup`, and behind it a stand-in for the runtime's
 * interactive queries that answers `metadataForKey` as the runtime does (murmur2 of the serialized key)
 * and reads the profiles store through the runtime's typed store layer and the topology's own value serde.
 * `node dist/bench/workers/api-path-worker.js <port> <users> <hit|miss>`; prints {"event":"api","port":…}.
 * `miss`: every read returns a fresh copy of the stored bytes, as RocksDB does after a commit emptied the
 * write cache (so every request decodes); `hit`: the same Buffer each time, as the write cache's clean
 * entries do between two commits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { ApiKeyStore, hashSecret } from '../../src/api/api-keys.ts';
import { buildApi } from '../../src/api/build-app.ts';
import { StreamsProfileLookup } from '../../src/app/adapters/streams-profile-lookup.ts';
import { decodeOnce } from '../../src/app/topology/decode-once.ts';
import { PROFILES_STORE } from '../../src/app/topology/profile-node-names.ts';
import { profileStateSerde } from '../../src/app/topology/profile-state-serde.ts';
import { sampleBatches } from '../../src/generator/sample-batches.ts';
import { mergeBatch } from '../../src/profiles/merge-batch.ts';
import type { ProfileState } from '../../src/schema/profile-state.ts';
import { stringSerde, type StreamsApp } from '../../src/streams/index.ts';
import type { BytesStore } from '../../src/streams/internals/bytes-store.ts';
import { InMemoryBytesStore } from '../../src/streams/internals/memory-store.ts';
import { TypedKeyValueStore } from '../../src/streams/internals/typed-store.ts';
import { partitionForKey } from '../../src/streams/partitioner.ts';

const API_PATH_KEY = { key: 'bench-key-0001', secret: 'bench-secret', workspace: '1' };
const PARTITIONS = 8;
const RAW_TOPIC = 'bench.raw.web';

const [portArg, usersArg, readsArg] = process.argv.slice(2);
const port = Number(portArg);
const users = Number(usersArg ?? 1000);
const fresh = (readsArg ?? 'miss') === 'miss';

// The bench's workload: the same generator, two batches per user on average, merged by the domain.
const profiles = new Map<string, ProfileState>();
for (const batch of sampleBatches({ seed: 43, users, batches: users * 2, sources: ['web'], startTimeMs: 1_780_000_000_000, workspaceId: API_PATH_KEY.workspace, batchIntervalMs: 1 })) {
  profiles.set(batch.mpid!, mergeBatch(profiles.get(batch.mpid!), batch).profile);
}
const bytes = new InMemoryBytesStore(PROFILES_STORE);
const serde = decodeOnce(profileStateSerde());
const seed = new TypedKeyValueStore<string, ProfileState>(bytes, stringSerde, serde, 'profiles-changelog');
await seed.putAll([...profiles].map(([key, value]) => ({ key, value })));
const below: BytesStore = fresh
  ? { name: bytes.name, get: async (k) => copy(await bytes.get(k)), getMany: async (ks) => (await bytes.getMany(ks)).map(copy), putAll: (e) => bytes.putAll(e), range: (b) => bytes.range(b), approximateCount: () => bytes.approximateCount() }
  : bytes;
const store = new TypedKeyValueStore<string, ProfileState>(below, stringSerde, serde, 'profiles-changelog');

function copy(b: Buffer | undefined): Buffer | undefined {
  return b === undefined ? undefined : Buffer.from(b);
}

// What StreamsProfileLookup uses of the runtime, answered as InteractiveQueries does for a task this instance runs.
const offsets = new Map([...Array(PARTITIONS).keys()].map((p) => [`${RAW_TOPIC}:${p}`, '41']));
const metadataForKey = async (_store: string, key: string) => {
  const partition = partitionForKey(await stringSerde.serialize('profiles-changelog', key), PARTITIONS);
  return { applicationServer: `127.0.0.1:${port}`, partition, taskId: `1_${partition}`, local: true };
};
const app = {
  metadataForKey,
  store: () => ({ name: PROFILES_STORE, get: async (key: string) => (await metadataForKey(PROFILES_STORE, key), store.get(key)) }),
  lastProcessedOffsets: () => offsets,
} as unknown as StreamsApp;

const keys = new ApiKeyStore([{ key: API_PATH_KEY.key, workspaces: [API_PATH_KEY.workspace], secretHash: hashSecret(API_PATH_KEY.secret) }]);
const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup: new StreamsProfileLookup(app, [RAW_TOPIC]), keys, rateLimitPerMinute: 1_000_000_000 });
await api.listen({ host: '127.0.0.1', port });
// Profiles only the serving (`API_PATH_CPU_PROFILE=<file>`), not the start-up that builds the profiles.
const profileFile = process.env.API_PATH_CPU_PROFILE;
const session = profileFile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
process.stdout.write(`${JSON.stringify({ event: 'api', port, mpids: [...profiles.keys()], t: Date.now() })}\n`);
// The driver asks for this process's CPU time around each measurement: CPU per request holds up on a
// shared machine, where requests per second say as much about the neighbours as about the code.
process.on('message', () => process.send?.(process.cpuUsage()));
process.on('SIGTERM', () => void (async () => {
  if (session) writeFileSync(profileFile!, JSON.stringify((await session.post('Profiler.stop')).profile));
  await api.close();
  process.exit(0);
})());
