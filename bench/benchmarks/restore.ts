import type { BenchContext } from '../lib/context.ts';
import type { BenchResult } from '../lib/results.ts';
export async function restoreBenchmark(_ctx: BenchContext): Promise<BenchResult> {
  throw new Error('restore: not yet');
}
