import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROFILE_ERROR_CODES } from '../../../src/profiles/errors.ts';

describe('profile domain errors', () => {
  it('documents every error code in src/profiles/README.md', () => {
    const readme = readFileSync(new URL('../../../src/profiles/README.md', import.meta.url), 'utf8');
    for (const code of PROFILE_ERROR_CODES) expect(readme, code).toContain(`\`${code}\``);
  });
});
