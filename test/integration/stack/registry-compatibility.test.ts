import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findJava } from '../../../stack/java-runtime.ts';
import { STACK_COMPATIBILITY, startRegistry, stopRegistry } from '../../../stack/registry-node.ts';
import { ensureArtifacts } from '../../../stack/stack-artifacts.ts';
import { registryUrlOf, stackConfig, stackPaths } from '../../../stack/stack-config.ts';

// A registry of its own (port and run directory; the jars from the shared cache), so the shared one,
// started before this fix, is neither stopped nor changed.
describe('the local stack\'s schema registry', async () => {
  const runDir = await mkdtemp(join(tmpdir(), 'ps-registry-'));
  const config = { ...stackConfig(), registryPort: 28181 };
  const shared = stackPaths(stackConfig());
  const paths = { ...shared, registryDir: runDir, registryLog: join(runDir, 'registry.log'), registryPid: join(runDir, 'registry.pid') };

  afterAll(async () => {
    await stopRegistry(paths);
    await rm(runDir, { recursive: true, force: true });
  });

  it('reports the BACKWARD compatibility it enforces on its Confluent-compatible API', async () => {
    await ensureArtifacts(stackConfig(), shared, () => undefined);
    expect(await startRegistry(config, paths, await findJava())).toBe('started');
    const url = registryUrlOf(config);
    expect(STACK_COMPATIBILITY).toBe('BACKWARD');
    expect(await (await fetch(`${url}/config`)).json()).toEqual({ compatibilityLevel: 'BACKWARD' });
    // And it is what is enforced: an unrelated schema under an existing subject is refused.
    const post = (schema: object) => fetch(`${url}/subjects/s-value/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema: JSON.stringify(schema) }) });
    expect((await post({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] })).status).toBe(200);
    expect((await post({ type: 'record', name: 'A', fields: [{ name: 'y', type: 'string' }] })).status).toBe(409);
  }, 300_000);
});
