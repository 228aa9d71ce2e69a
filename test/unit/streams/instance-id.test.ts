import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupInstanceId } from '../../../src/streams/internals/instance-id.ts';

describe('group instance id (static membership per state directory)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'ps-instance-id-'));
    dirs.push(d);
    return d;
  };

  it('is created once and read back by every later start with the same state directory', async () => {
    const d = await dir();
    const first = await groupInstanceId(d, 'app');
    expect(first).toMatch(/^app-\S+$/);
    expect(await groupInstanceId(d, 'app')).toBe(first);
    expect((await readFile(join(d, '.group-instance-id'), 'utf8')).trim()).toBe(first);
  });

  it('differs between state directories, and replaces an empty or broken file', async () => {
    const [a, b] = [await dir(), await dir()];
    expect(await groupInstanceId(a, 'app')).not.toBe(await groupInstanceId(b, 'app'));
    await writeFile(join(b, '.group-instance-id'), 'two words');
    const replaced = await groupInstanceId(b, 'app');
    expect(replaced).toMatch(/^app-\S+$/);
  });
});
