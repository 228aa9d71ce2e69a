import type { BenchContext } from '../lib/context.ts';
import type { BenchResult } from '../lib/results.ts';
export async function apiBenchmark(_ctx: BenchContext): Promise<BenchResult> {
  throw new Error('api: not yet');
}
