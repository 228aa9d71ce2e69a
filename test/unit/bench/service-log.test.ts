import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logWarnings, servicePauses } from '../../../bench/chaos/service-log.ts';

describe('chaos: what the instances logged', () => {
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

  it('lists each pause of processing the service began by itself, with its reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-pauses-'));
    const a = join(dir, 'a.log');
    writeFileSync(a, [
      JSON.stringify({ level: 40, msg: 'fetch failed; retrying', err: 'timeout' }),
      JSON.stringify({ level: 40, msg: 'Kafka is unavailable; processing paused until it answers again', err: 'commit failed 21 times. [broker: NOT_COORDINATOR]' }),
      JSON.stringify({ level: 40, msg: 'leaving and joining the group again', err: 'tasks 0_1 were dropped' }),
    ].join('\n'));
    expect(servicePauses([a])).toEqual([
      'Kafka is unavailable; processing paused until it answers again: commit failed 21 times. [broker: NOT_COORDINATOR]',
      'leaving and joining the group again: tasks 0_1 were dropped',
    ]);
  });
});
