import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES } from '../../../src/config/environment-variables.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('environment variables', () => {
  const listed = ENVIRONMENT_VARIABLES.map((v) => v.name).sort();

  it('the list names every variable the code reads', () => {
    const read = new Set<string>();
    for (const path of [...files('src'), ...files('stack'), 'test/support/global-setup.ts']) {
      const text = readFileSync(path, 'utf8');
      // env.NAME, process.env.NAME, and the helpers that take the name as a string: intVar(env, 'NAME'), port('NAME').
      for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|(?:intVar|identityTypeVar|certificateFileVar|privateKeyFileVar)\(env, '([A-Z][A-Z0-9_]+)'|\bport\('([A-Z][A-Z0-9_]+)'/g)) read.add(m[1] ?? m[2] ?? m[3]!);
      // A secret comes from NAME or from the file NAME_FILE names (env-files.ts).
      for (const m of text.matchAll(/\bsecretVar\(env, '([A-Z][A-Z0-9_]+)'/g)) read.add(m[1]!).add(`${m[1]}_FILE`);
    }
    // Set by profile-stream itself to quiet kafkajs, never read from the user.
    read.delete('KAFKAJS_NO_PARTITIONER_WARNING');
    expect([...read].sort()).toEqual(listed);
  });

  it('the README configuration table names every variable', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## How it works'));
    for (const name of listed) expect(table, name).toContain(`\`${name}\``);
  });
});
