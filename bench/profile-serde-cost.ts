/**
 * Per-record serde cost on the profile path, without Kafka: profiles and history records built by the real
 * merge from generated batches (Zipf users, so profiles grow as in the pipeline benchmark), then encoded and
 * decoded through the stores' serdes. Runs against any checkout (older ones keep the dedup list in the
 * profile), so before/after can be compared in one command:
 *   npx tsx bench/profile-serde-cost.ts [batches] [users]
 */
import { historyRecordSerde } from '../src/app/topology/history-store.ts';
import { profileStateSerde } from '../src/app/topology/profile-state-serde.ts';
import { sampleBatches } from '../src/generator/sample-batches.ts';
import { mergeBatch, type MergeOptions } from '../src/profiles/merge-batch.ts';
import type { HistoryRecord } from '../src/schema/history-record.ts';
import type { ProfileState } from '../src/schema/profile-state.ts';

const batches = Number(process.argv[2] ?? 4000);
const users = Number(process.argv[3] ?? 200);
const at = 1_780_000_000_000;
const profiles = new Map<string, ProfileState>();
const recents = new Map<string, unknown>();
const snapshots: HistoryRecord[] = [];
for (const batch of sampleBatches({ seed: 8, users, batches, sources: ['web'], startTimeMs: at, workspaceId: '1' })) {
  const mpid = batch.mpid!;
  // `recent` is ignored by checkouts whose profile still carries the dedup list.
  const result = mergeBatch(profiles.get(mpid), batch, { recordTimestampMs: at, recent: recents.get(mpid) } as MergeOptions) as { profile: ProfileState; recent?: unknown };
  profiles.set(mpid, result.profile);
  if (result.recent !== undefined) recents.set(mpid, result.recent);
  snapshots.push({ batch, processed_timestamp_ms: at, profile: result.profile });
}
const profileSerde = profileStateSerde();
const historySerde = historyRecordSerde();
const encoded = snapshots.map((s) => profileSerde.serialize('t', s.profile!) as Buffer);
const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);

/** CPU time (not wall time) per record: the machine is shared, and a busy neighbour should not count. */
function perRecordUs(f: () => void): number {
  for (let i = 0; i < 2; i++) f();
  const rounds = 5;
  const started = process.cpuUsage();
  for (let i = 0; i < rounds; i++) f();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / rounds / snapshots.length;
}

const out = {
  records: snapshots.length,
  mean_profile_bytes: mean(encoded.map((b) => b.length)),
  mean_history_bytes: mean(snapshots.map((s) => (historySerde.serialize('t', { ...s }) as Buffer).length)),
  profile_encode_us: perRecordUs(() => snapshots.forEach((s) => profileSerde.serialize('t', s.profile!))),
  profile_decode_us: perRecordUs(() => encoded.forEach((b) => profileSerde.deserialize('t', b))),
  // A fresh object each time: the history serde encodes a given record object only once.
  history_encode_us: perRecordUs(() => snapshots.forEach((s) => historySerde.serialize('t', { ...s }))),
};
process.stdout.write(`${JSON.stringify(out, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(2)) : v))}\n`);
