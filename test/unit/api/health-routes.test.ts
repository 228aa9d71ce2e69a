import { describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { MemoryLookup } from './support/memory-lookup.ts';

describe('/health and /ready during an outage', () => {
  it('/health stays 200 and lists what is down; /ready is 503 with the reason', async () => {
    const outage = { part: 'kafka', since: '2026-12-01T10:00:00.000Z', reason: 'Kafka consumer crashed: connect ECONNREFUSED 127.0.0.1:9092' };
    const api = await buildApi({
      readiness: {
        readiness: () => ({ ready: false, detail: { state: 'REBALANCING', reason: `Kafka unavailable since ${outage.since} (${outage.reason})` } }),
        down: () => [outage],
      },
      lookup: new MemoryLookup(new Map()),
      keys: new ApiKeyStore([]),
    });
    try {
      const health = await api.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok', down: [outage] });
      const ready = await api.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().reason).toContain('Kafka unavailable since');
    } finally {
      await api.close();
    }
  });

  it('/health says nothing is down when nothing is', async () => {
    const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }), down: () => [] }, lookup: new MemoryLookup(new Map()), keys: new ApiKeyStore([]) });
    try {
      expect((await api.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok', down: [] });
    } finally {
      await api.close();
    }
  });
});
