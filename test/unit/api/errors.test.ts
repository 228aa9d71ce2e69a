import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from '../../../src/api/errors.ts';

describe('API error codes', () => {
  it('every code is documented in src/api/README.md with its status', () => {
    const readme = readFileSync('src/api/README.md', 'utf8');
    for (const [code, { statusCode }] of Object.entries(API_ERRORS)) {
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${statusCode} \\|`));
    }
  });
});
