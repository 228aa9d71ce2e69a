import type { KeyValueStore, Serde } from '../../streams/index.ts';
import { BadMagicByteError } from '../../schema/errors.ts';
import { historyRecordSchemaV1 } from '../../schema/avro/history-record-schema.ts';
import { avroTypeFor } from '../../schema/avro-type.ts';
import { encodeOnceFor } from '../../schema/encode-once.ts';
import type { HistoryRecord } from '../../schema/history-record.ts';
import { SCHEMAS } from '../../schema/schema-catalog.ts';

export const HISTORY_STORE = 'history';
/**
 * `<day start ms, 15 digits>|<mpid>` → mpid: which users have history processed on which (UTC) day, so
 * the retention sweep reads only the days past the cutoff instead of every batch of every user.
 */
export const HISTORY_DAYS_STORE = 'history-days';
const DAY_MS = 24 * 60 * 60 * 1000;

// Fixed widths keep byte order equal to time order within one user: `<mpid>|<ms, 15 digits>|<seq, 20 digits>`.
// `|` never occurs in an MPID (a decimal string), so one user's prefix never matches another's.
const SEP = '|';

/**
 * The history store's key (and the history topic's): per user, ordered by processing time, then by
 * a sequence (the input offset) that keeps two batches of one millisecond apart.
 */
export function historyKey(mpid: string, processedMs: number, sequence: number | bigint | string): string {
  return `${mpid}${SEP}${String(processedMs).padStart(15, '0')}${SEP}${String(sequence).padStart(20, '0')}`;
}

/** The `history-days` key of a batch processed at `processedMs`. */
export function historyDayKey(processedMs: number, mpid: string): string {
  return `${String(historyDay(processedMs)).padStart(15, '0')}${SEP}${mpid}`;
}

export function historyDay(processedMs: number): number {
  return Math.floor(processedMs / DAY_MS) * DAY_MS;
}

export function parseHistoryDayKey(key: string): { dayMs: number; mpid: string } {
  const at = key.indexOf(SEP);
  return { dayMs: Number(key.slice(0, at)), mpid: key.slice(at + 1) };
}

export function historyPrefix(mpid: string): string {
  return `${mpid}${SEP}`;
}

export function parseHistoryKey(key: string): { mpid: string; processedMs: number; sequence: string } {
  const [mpid, ms, sequence] = key.split(SEP);
  return { mpid: mpid!, processedMs: Number(ms), sequence: sequence ?? '' };
}

// The leading byte names the writer schema, as in the profiles store (`profile-state-serde.ts`):
// 1: snapshots with the embedded replay-dedup list (`historyRecordSchemaV1`), read only; 2: current.
const FORMAT_V1 = 1;
const FORMAT_V2 = 2;

/**
 * The history store's value: the history topic's own serde (Avro in Confluent wire format through the
 * registry), because the history topic is the store's changelog (`withChangelogTopic`): the store holds
 * the bytes the topic holds, and restore copies them across unchanged.
 *
 * A state directory from before that keeps values in the store's earlier format (`historyRecordSerde`:
 * format byte 1 or 2, never the wire format's 0x00); the topic serde rejects those with
 * `BadMagicByteError`, and they are read the old way until the retention sweep removes them.
 */
export function historyStoreSerde(topicSerde: Serde<HistoryRecord>): Serde<HistoryRecord> {
  const legacy = historyRecordSerde();
  return {
    serialize: (topic, value) => topicSerde.serialize(topic, value),
    deserialize: async (topic, data) => {
      try {
        return await topicSerde.deserialize(topic, data);
      } catch (error) {
        if (error instanceof BadMagicByteError && (data[0] === FORMAT_V1 || data[0] === FORMAT_V2)) return legacy.deserialize(topic, data);
        throw error;
      }
    },
  };
}

/**
 * The history store's value before the history topic became its changelog: Avro without the registry
 * behind a format byte. Read for state directories written then (`historyStoreSerde`).
 */
export function historyRecordSerde(): Serde<HistoryRecord> {
  const type = avroTypeFor(SCHEMAS['history-record']);
  const fromV1 = type.createResolver(avroTypeFor(historyRecordSchemaV1));
  // The history topic's serde encodes the same record object: whichever runs first encodes it.
  const once = encodeOnceFor(SCHEMAS['history-record']);
  return {
    serialize: (_topic, value) => {
      const body = once.encode(value);
      const out = Buffer.allocUnsafe(body.length + 1);
      out[0] = FORMAT_V2;
      body.copy(out, 1);
      return out;
    },
    deserialize: (topic, data) => {
      if (data[0] === FORMAT_V2) return type.fromBuffer(data.subarray(1)) as HistoryRecord;
      if (data[0] === FORMAT_V1) return type.fromBuffer(data.subarray(1), fromV1) as HistoryRecord;
      throw new Error(`history record on ${topic} has unknown format ${data[0]}`);
    },
  };
}

/** One user's history, oldest first. Finishes the iteration before returning (no iterator across awaits that commit). */
export async function historyOf(store: Pick<KeyValueStore<string, HistoryRecord>, 'prefix'>, mpid: string): Promise<Array<{ key: string; value: HistoryRecord }>> {
  const out: Array<{ key: string; value: HistoryRecord }> = [];
  for await (const { key, value } of store.prefix(historyPrefix(mpid))) out.push({ key, value });
  return out;
}
