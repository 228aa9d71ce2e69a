import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { API_ERRORS } from '../../../src/api/errors.ts';
import { MemoryLookup, alwaysReady } from './support/memory-lookup.ts';

/** Every route as fastify registered it: `METHOD /path/:param`, read from printRoutes' tree (no HEAD). */
function registeredRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: { depth: number; path: string }[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)(?:[└├]── )?(\S+) \(([A-Z, ]+)\)$/.exec(line.replace(/\s+$/, ''));
    if (!match) continue;
    const depth = match[1]!.length;
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const path = (stack[stack.length - 1]?.path ?? '') + match[2]!;
    stack.push({ depth, path });
    for (const method of match[3]!.split(', ')) if (method !== 'HEAD') routes.push(`${method} ${path.startsWith('/') ? path : `/${path}`}`);
  }
  return routes.sort();
}

describe('/openapi.json', () => {
  let app: FastifyInstance;
  let doc: OpenAPIV3.Document;

  beforeAll(async () => {
    app = await buildApi({
      readiness: alwaysReady,
      lookup: new MemoryLookup(new Map()),
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
    doc = (await app.inject({ url: '/openapi.json' })).json() as OpenAPIV3.Document;
  });
  afterAll(async () => app.close());

  it('passes the OpenAPI validator', async () => {
    // The validator dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('describes exactly the registered routes, apart from the page files and itself', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item ?? {}).filter((k) => ['get', 'post', 'put', 'delete', 'patch'].includes(k)).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    // The page and its static files (every file of ui/) are not API operations.
    const hidden = (r: string): boolean => r === 'GET /' || r === 'GET /openapi.json' || r.startsWith('GET /ui/');
    expect(registeredRoutes(app)).toEqual(expect.arrayContaining(['GET /', 'GET /ui/app.js', 'GET /ui/style.css', 'GET /openapi.json', 'GET /health', 'GET /v1/dsr/:id', 'POST /userprofile/v1/resolve/:orgId/:accountId/:workspaceId']));
    expect(documented.sort()).toEqual(registeredRoutes(app).filter((r) => !hidden(r)));
  });

  it('declares exactly the path parameters each path has, all required', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const op of [item?.get, item?.post].filter((o): o is OpenAPIV3.OperationObject => o !== undefined)) {
        const params = (op.parameters ?? []) as OpenAPIV3.ParameterObject[];
        const pathParams = params.filter((p) => p.in === 'path');
        expect(pathParams.map((p) => p.name).sort(), path).toEqual(inPath);
        for (const p of pathParams) expect(p.required, `${path} ${p.name}`).toBe(true);
      }
    }
  });

  it('marks fields required on both profile routes', () => {
    const fieldsOf = (op: OpenAPIV3.OperationObject | undefined) => ((op?.parameters ?? []) as OpenAPIV3.ParameterObject[]).find((p) => p.name === 'fields');
    expect(fieldsOf(doc.paths['/userprofile/v1/{orgId}/{accountId}/{workspaceId}/{mpid}']?.get)?.required).toBe(true);
    expect(fieldsOf(doc.paths['/userprofile/v1/resolve/{orgId}/{accountId}/{workspaceId}']?.post)?.required).toBe(true);
  });

  it('asks for Basic auth everywhere except the operations routes', () => {
    expect(doc.security).toEqual([{ basic: [] }, { mpKey: [], mpSignature: [] }]);
    for (const path of ['/health', '/ready', '/metrics']) expect(doc.paths[path]?.get?.security, path).toEqual([]);
    expect(doc.paths['/v2/events']?.post?.security).toBeUndefined();
  });

  it('describes the response headers and the error responses of the routes', () => {
    const byMpid = doc.paths['/userprofile/v1/{orgId}/{accountId}/{workspaceId}/{mpid}']!.get!;
    const ok = byMpid.responses['200'] as OpenAPIV3.ResponseObject;
    expect(Object.keys(ok.headers ?? {})).toEqual(expect.arrayContaining(['x-profile-stream-offsets', 'x-profile-stream-answered-by', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']));
    expect(Object.keys(byMpid.responses).sort()).toEqual(['200', '400', '401', '403', '404', '429', '500', '503']);
    expect(Object.keys((byMpid.responses['503'] as OpenAPIV3.ResponseObject).headers ?? {})).toContain('retry-after');
    expect(Object.keys((byMpid.responses['401'] as OpenAPIV3.ResponseObject).headers ?? {})).toContain('www-authenticate');
    const events = doc.paths['/v2/events']!.post!;
    expect(Object.keys(events.responses).sort()).toEqual(['202', '400', '401', '403', '413', '415', '429', '500', '503']);
    const accepted = (events.responses['202'] as OpenAPIV3.ResponseObject).content!['application/json']!.schema as OpenAPIV3.SchemaObject;
    expect(Object.keys(accepted.properties ?? {})).toEqual(['accepted', 'offsets']);
    const dsr = doc.paths['/v1/dsr']!.post!.responses['202'] as OpenAPIV3.ResponseObject;
    expect(Object.keys(dsr.headers ?? {})).toContain('location');
    expect(Object.keys(doc.paths['/ready']!.get!.responses).sort()).toEqual(['200', '500', '503']);
  });

  it('names in each error response description only codes with that status', () => {
    for (const item of Object.values(doc.paths)) {
      for (const op of [item?.get, item?.post].filter((o): o is OpenAPIV3.OperationObject => o !== undefined)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || status === '503' && op === doc.paths['/ready']?.get) continue;
          const codes = (response as OpenAPIV3.ResponseObject).description.match(/PS_ERR_\w+/g) ?? [];
          expect(codes.length, `${op.summary} ${status}`).toBeGreaterThan(0);
          for (const code of codes) expect(API_ERRORS[code as keyof typeof API_ERRORS].statusCode).toBe(Number(status));
        }
      }
    }
  });
});
