import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' || name.startsWith('.') ? [] : files(path, ext);
    return path.endsWith(ext) ? [path] : [];
  });
}

/** Whole codes only: `PS_ERR_API_` in a comment or a prefix check is not a code. */
function codesIn(paths: readonly string[]): Set<string> {
  const codes = new Set<string>();
  for (const path of paths) for (const m of readFileSync(path, 'utf8').matchAll(/PS_ERR_[A-Z0-9_]*[A-Z0-9]\b/g)) codes.add(m[0]);
  return codes;
}

describe('error codes', () => {
  const inCode = codesIn([...files('src', '.ts'), ...files('stack', '.ts')]);
  const readmes = ['README.md', ...files('src', '.md'), ...files('schemas', '.md')];
  const inDocs = codesIn(readmes);

  it('every PS_ERR_ code the code can emit appears in a README', () => {
    expect(inCode.size).toBeGreaterThan(50);
    expect([...inCode].filter((c) => !inDocs.has(c)).sort()).toEqual([]);
  });

  it('every PS_ERR_ code a README names exists in the code', () => {
    expect([...inDocs].filter((c) => !inCode.has(c)).sort()).toEqual([]);
  });
});
