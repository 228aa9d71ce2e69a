import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResults, targetMet, targetValue, type BenchResult } from './results.ts';

const fmt = (n: number | undefined | null): string => {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(n === Math.round(n) ? 0 : 2);
};

function figureTable(r: BenchResult): string {
  const rows = Object.keys(r.median).map((k) => {
    const spread = r.median[k] ? ((r.max[k]! - r.min[k]!) / r.median[k]!) * 100 : 0;
    return `| ${k} | ${r.units[k] ?? ''} | **${fmt(r.median[k])}** | ${fmt(r.min[k])} – ${fmt(r.max[k])} | ${spread.toFixed(0)}% |`;
  });
  return ['| figure | unit | median | min – max | spread |', '|---|---|---:|---:|---:|', ...rows].join('\n');
}

function ratioTable(r: BenchResult): string {
  const entries = Object.entries(r.ratios);
  if (entries.length === 0) return '';
  return ['| ratio (of medians, same run) | value |', '|---|---:|', ...entries.map(([k, v]) => `| ${k} | ${typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(2)}×` : '—'} |`)].join('\n');
}

function targetTable(r: BenchResult): string {
  if (r.targets.length === 0) return '';
  const rows = r.targets.map((t) => {
    const met = targetMet(r, t);
    return `| ${t.label} | ${t.op} ${t.value} | ${fmt(targetValue(r, t.key))} | ${met === undefined ? 'not measured' : met ? 'met' : '**missed**'} |`;
  });
  return ['| target (issue 8) | wanted | measured | |', '|---|---|---:|---|', ...rows].join('\n');
}

/** Horizontal bars, one per figure, scaled to the largest; a thin line marks min–max over the runs. */
export function barChart(title: string, bars: { label: string; median: number; min: number; max: number }[], unit: string): string {
  const width = 720;
  const left = 230;
  const barH = 22;
  const gap = 10;
  const top = 40;
  const height = top + bars.length * (barH + gap) + 30;
  const scaleMax = Math.max(1, ...bars.map((b) => b.max));
  const x = (v: number): number => left + ((width - left - 90) * v) / scaleMax;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = bars.map((b, i) => {
    const y = top + i * (barH + gap);
    return [
      `<text x="${left - 8}" y="${y + barH * 0.7}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, x(b.median) - left).toFixed(1)}" height="${barH}" fill="#3b7dd8"/>`,
      `<line x1="${x(b.min).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#111" stroke-width="2"/>`,
      `<text x="${(x(b.max) + 6).toFixed(1)}" y="${y + barH * 0.7}">${esc(fmt(b.median))}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)} (${esc(unit)}; bar = median, line = min–max)</text>
${parts.join('\n')}
</svg>
`;
}

function charts(results: BenchResult[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const made: string[] = [];
  const pick = (r: BenchResult | undefined, suffix: RegExp) =>
    r ? Object.keys(r.median).filter((k) => suffix.test(k)).map((k) => ({ label: k, median: r.median[k]!, min: r.min[k]!, max: r.max[k]! })) : [];
  const pipeline = results.find((r) => r.benchmark === 'pipeline');
  const ceilings = results.find((r) => r.benchmark === 'ceilings');
  const throughput = [...pick(pipeline, /_batches_per_s$/), ...pick(ceilings, /_records_per_s$/)];
  if (throughput.length) {
    writeFileSync(join(dir, 'throughput.svg'), barChart('Throughput', throughput, 'records per second'));
    made.push('throughput.svg');
  }
  const latency = results.find((r) => r.benchmark === 'latency');
  const lat = pick(latency, /_ms$/);
  if (lat.length) {
    writeFileSync(join(dir, 'latency.svg'), barChart('Latency at a fixed rate', lat, 'ms'));
    made.push('latency.svg');
  }
  const api = results.find((r) => r.benchmark === 'api');
  const apiLat = pick(api, /_ms$/);
  if (apiLat.length) {
    writeFileSync(join(dir, 'api-latency.svg'), barChart('API latency', apiLat, 'ms'));
    made.push('api-latency.svg');
  }
  return made;
}

/** Regenerates BENCHMARKS.md and the SVG charts from every results file. */
export function renderReport(resultsDir: string, markdownFile: string, intro: string, appendix = ''): void {
  const results = readResults(resultsDir);
  const svgs = charts(results, resultsDir);
  const sections = results.map((r) => {
    const m = r.machine;
    return [
      `## ${r.benchmark}`,
      '',
      `Size: **${r.size}**; ${r.runs.length} run(s); ${r.started_at}, ${Math.round(r.duration_s)} s. Machine: ${m.cores} cores (${m.cpu_model}), ${m.memory_gib} GiB, load average ${m.load_average_at_start} at start; Node ${m.node}, ${m.java}, Kafka ${m.kafka}.`,
      '',
      `Parameters: ${Object.entries(r.parameters).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}`,
      '',
      figureTable(r),
      '',
      ratioTable(r),
      '',
      targetTable(r),
      '',
      ...(r.notes.length ? ['Notes:', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
    ].join('\n');
  });
  const rel = 'bench/results';
  const md = [
    intro.trim(),
    '',
    ...svgs.map((s) => `![${s}](${rel}/${s})`),
    '',
    ...sections,
    appendix.trim(),
  ].join('\n');
  writeFileSync(markdownFile, `${md.replace(/\n{3,}/g, '\n\n').trim()}\n`);
}
