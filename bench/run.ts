/**
 * `npm run bench [-- <pipeline|latency|restore|api>...] [--quick]`: runs the benchmarks of issue 8,
 * writes bench/results/<name>.json and regenerates BENCHMARKS.md with its SVG charts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBenchmarks } from './lib/harness.ts';
import { parseCommand } from './lib/options.ts';

const root = join(import.meta.dirname, '..');
let parsed;
try {
  parsed = parseCommand(process.argv.slice(2), process.env, join(root, 'bench', 'results'), join(root, 'BENCHMARKS.md'));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
// Hand-written analysis kept below the generated tables.
const appendixFile = join(root, 'bench', 'ANALYSIS.md');
const appendix = existsSync(appendixFile) ? readFileSync(appendixFile, 'utf8') : '';
const outcome = await runBenchmarks(parsed.names, parsed.options, appendix);
for (const f of outcome.files) process.stdout.write(`${f}\n`);
process.exit(0);
