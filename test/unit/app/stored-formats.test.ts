import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { recentBatchesSerde } from '../../../src/app/topology/batch-dedup-store.ts';
import { historyRecordSerde, historyStoreSerde } from '../../../src/app/topology/history-store.ts';
import { BadMagicByteError } from '../../../src/schema/errors.ts';
import { profileStateSerde } from '../../../src/app/topology/profile-state-serde.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { batch } from '../profiles/support/batches.ts';

// The schemas as released before the dedup list left the profile (copied from that commit's schemas/),
// read by plain avsc: old stored bytes are made here without the code under test.
const fixture = (name: string) => avro.Type.forSchema(JSON.parse(readFileSync(new URL(`./fixtures/${name}.avsc`, import.meta.url), 'utf8')), { wrapUnions: 'auto' });

const profileV1 = {
  mpid: 42, created_timestamp_ms: 1, last_seen_timestamp_ms: 2, is_opted_out: false, opt_out_updated_ms: null, limit_ad_tracking: false,
  user_identities: { email: { value: 'a@b.c', updated_ms: 1, source: 'web', batch_id: 'b1' } },
  workspaces: {}, audience_memberships: {},
  recent_batches: [{ batch_id: 'b1', seen_ms: 1 }, { batch_id: 'b2', seen_ms: 2 }],
};

describe('stored formats', () => {
  it('reads a profile stored before the dedup list moved out (format 1) without its list', () => {
    const old = Buffer.concat([Buffer.from([1]), fixture('profile-state-v1').toBuffer(profileV1)]);
    const read = profileStateSerde().deserialize('t', old) as ProfileState;
    expect(read.mpid).toBe('42');
    expect(read.user_identities.email).toEqual({ value: 'a@b.c', updated_ms: 1, source: 'web', batch_id: 'b1' });
    expect(Object.keys(read)).not.toContain('recent_batches');
  });

  it('writes profiles as format 2 and reads them back equal', () => {
    const serde = profileStateSerde();
    const { recent_batches: _, ...current } = profileV1;
    const value = { ...current, mpid: '42' } as unknown as ProfileState;
    const bytes = serde.serialize('t', value) as Buffer;
    expect(bytes[0]).toBe(2);
    expect(JSON.parse(JSON.stringify(serde.deserialize('t', bytes)))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(() => serde.deserialize('t', Buffer.from([9, 0]))).toThrow(/unknown format 9/);
  });

  it('reads a history record stored with a format-1 snapshot', () => {
    const b = batch({ id: 'b1', mpid: '42' });
    const oldType = fixture('history-record-v1');
    // Plain avsc sees the int64-as-string MPID as a long; the batch has no events (no event union to wrap).
    const encoded = oldType.toBuffer({ batch: { ...JSON.parse(JSON.stringify(b)), mpid: 42 }, processed_timestamp_ms: 3, profile: profileV1 });
    const read = historyRecordSerde().deserialize('t', Buffer.concat([Buffer.from([1]), encoded])) as HistoryRecord;
    expect(read.profile?.mpid).toBe('42');
    expect(Object.keys(read.profile!)).not.toContain('recent_batches');
    expect(read.processed_timestamp_ms).toBe(3);
  });

  it('packs remembered batches as 16 bytes each and rejects torn or unknown values', () => {
    const serde = recentBatchesSerde();
    const entries = [{ digest: '00112233445566ff', seen_ms: 1_780_000_000_000 }, { digest: 'ffeeddccbbaa9988', seen_ms: -5 }];
    const bytes = serde.serialize('t', entries) as Buffer;
    expect(bytes.length).toBe(1 + 16 * 2);
    expect(bytes.subarray(1, 9).toString('hex')).toBe('00112233445566ff');
    expect(bytes.readDoubleBE(9)).toBe(1_780_000_000_000);
    expect(serde.deserialize('t', bytes)).toEqual(entries);
    expect(() => serde.serialize('t', [{ digest: 'xyz', seen_ms: 1 }])).toThrow(RangeError);
    expect(() => serde.deserialize('t', bytes.subarray(0, 10))).toThrow(/torn length/);
    expect(() => serde.deserialize('t', Buffer.from([2]))).toThrow(/unknown format 2/);
  });

  it('the history store reads the topic\'s wire format, and values an older state directory kept in the format-byte form', async () => {
    // A stand-in for the registry serde: 0x00 + 4-byte id + JSON here; anything else is refused the way the real one refuses it.
    const topicSerde = {
      serialize: (_t: string, v: HistoryRecord) => Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from(JSON.stringify(v))]),
      deserialize: (t: string, b: Buffer) => {
        if (b[0] !== 0) throw new BadMagicByteError(t, b[0]);
        return JSON.parse(b.subarray(5).toString()) as HistoryRecord;
      },
    };
    const serde = historyStoreSerde(topicSerde);
    const b = batch({ id: 'b1', mpid: '42' });
    const current = { batch: JSON.parse(JSON.stringify(b)), processed_timestamp_ms: 3, profile: null } as HistoryRecord;
    const bytes = await serde.serialize('h', current);
    expect(bytes).toEqual(topicSerde.serialize('h', current));
    expect(await serde.deserialize('h', bytes)).toEqual(current);
    const encoded = fixture('history-record-v1').toBuffer({ batch: { ...JSON.parse(JSON.stringify(b)), mpid: 42 }, processed_timestamp_ms: 3, profile: profileV1 });
    const old = await serde.deserialize('h', Buffer.concat([Buffer.from([1]), encoded]));
    expect(old.processed_timestamp_ms).toBe(3);
    expect(old.profile?.mpid).toBe('42');
    await expect(Promise.resolve().then(() => serde.deserialize('h', Buffer.from([9, 1])))).rejects.toBeInstanceOf(BadMagicByteError);
  });
});
