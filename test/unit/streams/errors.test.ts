import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STREAMS_ERROR_CODES, StreamsError } from '../../../src/streams/index.ts';

describe('streams error codes', () => {
  const readme = readFileSync(new URL('../../../src/streams/README.md', import.meta.url), 'utf8');
  it.each(STREAMS_ERROR_CODES)('documents %s in src/streams/README.md', (code) => {
    expect(readme).toContain(`\`${code}\``);
  });
  it('marks restoring as retriable with HTTP 503', () => {
    const e = new StreamsError('PS_ERR_STORE_RESTORING', 'x');
    expect([e.retriable, e.statusCode]).toEqual([true, 503]);
  });
});
