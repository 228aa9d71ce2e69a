import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logWarnings } from '../../../bench/chaos/loss-diagnosis.ts';

describe('chaos loss diagnosis: the service side', () => {
  it('counts each distinct warning and error of the instance logs, with its first reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-loss-'));
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    writeFileSync(a, [
      JSON.stringify({ level: 30, msg: 'streams state CREATED -> REBALANCING' }),
      JSON.stringify({ level: 40, msg: 'fetch failed; retrying', err: 'ECONNREFUSED' }),
      'not json',
      JSON.stringify({ level: 40, msg: 'fetch failed; retrying', err: 'timeout' }),
    ].join('\n'));
    writeFileSync(b, `${JSON.stringify({ level: 50, msg: 'commit failed', err: { message: 'fenced' } })}\n`);
    expect(logWarnings([a, b, join(dir, 'missing.log')])).toEqual([
      '2x 40 fetch failed; retrying (first: ECONNREFUSED)',
      '1x 50 commit failed (first: {"message":"fenced"})',
    ]);
  });
});
