import { describe, expect, it } from 'vitest';
import { sampleBatches, sampleJsonBatches } from '../../../src/generator/sample-batches.ts';
import type { SampleOptions } from '../../../src/generator/sample-batches.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import { checkBatchLimits } from '../../../src/schema/batch-limits.ts';
import { fromJsonBatch, toJsonBatch } from '../../../src/schema/json-batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';

const options: SampleOptions = { seed: 42, users: 200, batches: 300, sources: ['web', 'ios', 'android'], startTimeMs: 1_700_000_000_000, workspaceId: 'ws1' };
const batches = [...sampleBatches(options)];
const batchType = avroTypeFor(SCHEMAS.batch);

describe('sample batches', () => {
  it('are the same for the same seed and differ for another seed', () => {
    expect([...sampleBatches(options)]).toEqual(batches);
    const other = [...sampleBatches({ ...options, seed: 43 })];
    expect(other.map((b) => b.source_request_id)).not.toEqual(batches.map((b) => b.source_request_id));
  });

  it('do not depend on Math.random', () => {
    const original = Math.random;
    Math.random = () => { throw new Error('Math.random used'); };
    try {
      expect([...sampleJsonBatches({ ...options, batches: 20 })]).toHaveLength(20);
    } finally {
      Math.random = original;
    }
  });

  it('are valid batches: the converter accepts their JSON, they encode in Avro and break no limit', () => {
    for (const batch of batches) {
      expect(fromJsonBatch(JSON.parse(JSON.stringify(toJsonBatch(batch))))).toEqual(batch);
      expect(batchType.isValid(batch)).toBe(true);
      expect(checkBatchLimits(batch, batchType.toBuffer(batch).length)).toEqual([]);
    }
  });

  it('have 1-10 events, 5-30 user attributes and 2-4 identities, with unique request ids', () => {
    for (const batch of batches) {
      expect(batch.events.length).toBeGreaterThanOrEqual(1);
      expect(batch.events.length).toBeLessThanOrEqual(10);
      const attributes = Object.keys(batch.user_attributes).length;
      expect(attributes).toBeGreaterThanOrEqual(5);
      expect(attributes).toBeLessThanOrEqual(30);
      const identities = Object.values(batch.user_identities).filter((v) => v !== null).length;
      expect(identities).toBeGreaterThanOrEqual(2);
      expect(identities).toBeLessThanOrEqual(4);
      expect(batch.device_info?.device_application_stamp).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(new Set(batches.map((b) => b.source_request_id)).size).toBe(batches.length);
    expect(new Set(batches.flatMap((b) => b.events.map((e) => e.event_type))).size).toBeGreaterThanOrEqual(8);
    expect(batches.some((b) => b.consent_state !== null)).toBe(true);
  });

  it('are about 1-2 KB in Avro', () => {
    const sizes = batches.map((b) => batchType.toBuffer(b).length).sort((a, b) => a - b);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThan(1000);
    expect(mean).toBeLessThan(2000);
    expect(sizes[Math.floor(sizes.length * 0.05)]).toBeGreaterThan(650);
    expect(sizes[Math.floor(sizes.length * 0.95)]).toBeLessThan(2048);
  });

  it('spread users by Zipf and keep each user\'s MPID, identities and device per source stable', () => {
    const byMpid = new Map<string, typeof batches>();
    for (const b of batches) byMpid.set(b.mpid!, [...(byMpid.get(b.mpid!) ?? []), b]);
    const counts = [...byMpid.values()].map((list) => list.length).sort((a, b) => b - a);
    expect(counts[0]).toBeGreaterThan(8 * counts[Math.floor(counts.length / 2)]!);
    for (const list of byMpid.values()) {
      expect(new Set(list.map((b) => JSON.stringify(b.user_identities))).size).toBe(1);
      for (const source of options.sources) {
        expect(new Set(list.filter((b) => b.source === source).map((b) => b.device_info!.device_application_stamp)).size).toBeLessThanOrEqual(1);
      }
    }
    expect(batches.some((b) => BigInt(b.mpid!) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
  });

  it('rejects options it cannot honour, saying which', () => {
    expect(() => [...sampleBatches({ ...options, users: 0, sources: [] })]).toThrow(/users must be at least 1.*sources must name/);
  });
});
