import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

/** Where each relative import of `dir`'s files lands, as paths relative to the repository. */
function resolvedImports(dir: string): Array<{ file: string; target: string }> {
  return sourceFiles(dir).flatMap((file) =>
    importsOf(file).map((spec) => ({ file, target: spec.startsWith('.') ? relative(process.cwd(), resolve(dirname(file), spec)) : spec })),
  );
}

// The dependency direction STYLE.md asks for: src/streams ← src/profiles, src/audiences ← src/app, src/api.
describe('dependencies point one way', () => {
  it('src/streams imports nothing of the project outside src/streams', () => {
    const offending = resolvedImports('src/streams').filter(({ target }) => target.startsWith('src') && !target.startsWith('src/streams'));
    expect(offending).toEqual([]);
  });

  it('the domain (src/profiles, src/audiences) never imports a client library, the runtime or the HTTP layer', () => {
    const forbidden = /^(kafkajs|@platformatic\/kafka|rocksdb-native|fastify|@fastify\/|undici|@kafkajs\/|src\/streams|src\/api|src\/app)/;
    const offending = ['src/profiles', 'src/audiences'].flatMap((dir) => resolvedImports(dir)).filter(({ target }) => forbidden.test(target));
    expect(offending).toEqual([]);
  });
});
