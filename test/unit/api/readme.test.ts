import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { MemoryLookup, alwaysReady } from './support/memory-lookup.ts';

describe('src/api/README.md', () => {
  it('shows a curl example for every route /openapi.json describes', async () => {
    const lookup = new MemoryLookup(new Map());
    const app = await buildApi({
      readiness: alwaysReady,
      lookup,
      keys: new ApiKeyStore([]),
      ingest: { sink: { send: async () => {} }, rawTopicOf: () => 't', defaultSource: 'web' },
      dsr: { submit: async () => {}, ownerOfRequest: async () => ({ local: true }), getStatus: async () => ({ status: undefined }) },
      seeds: { sink: { sendSeeds: async () => {} }, calculatedAttributes: [] },
      activityView: { history: { getHistory: async () => ({ entries: [] }) }, uiDir: 'ui' },
      workspaceViews: {
        liveStream: { feed: { sources: ['web'], integrations: ['all'], stats: () => ({ state: 'stopped', skipped: 0, decoded: 0, subscribers: 0 }), subscribe: async () => ({ tail: [], unsubscribe: () => {} }) } },
        audiences: { definitions: [], memberships: { caughtUp: async () => true, size: () => 0, hourly: () => [], members: () => ({ total: 0, members: [] }) } },
        calculatedAttributes: { definitions: [], values: { localCounts: async () => ({ attributes: {}, profiles_scanned: 0 }), peers: () => [] } },
      },
    });
    const paths = Object.keys((await app.inject({ url: '/openapi.json' })).json().paths as object);
    await app.close();
    const curls = readFileSync('src/api/README.md', 'utf8').split('\n').filter((line) => /curl|^\s+'?http|`(GET|POST) /.test(line)).join('\n');
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) {
      // The static part of the path, before its first parameter: `/userprofile/v1/resolve/`, `/v1/dsr/`, ...
      const prefix = path.split('{')[0]!;
      expect(curls, path).toContain(prefix === '/' ? 'http://127.0.0.1:8080/' : prefix);
    }
  });
});
