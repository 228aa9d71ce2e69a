/**
 * Summarizes a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): self time per function and total
 * (inclusive) time per function, top N. `npx tsx bench/lib/cpu-profile-summary.ts <file> [N]`.
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

export function summarizeProfile(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const label = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1')}:${n.callFrame.lineNumber + 1}`;
  const selfBy = new Map<string, number>();
  const totalBy = new Map<string, number>();
  let total = 0;
  for (const [id, t] of self) {
    total += t;
    const n = byId.get(id)!;
    selfBy.set(label(n), (selfBy.get(label(n)) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      totalBy.set(l, (totalBy.get(l) ?? 0) + t);
    }
  }
  const fmt = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([l, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${l}`).join('\n');
  return `total ${(total / 1e6).toFixed(1)} s sampled\n-- self --\n${fmt(selfBy)}\n-- inclusive --\n${fmt(totalBy)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? 25))}\n`);
}
