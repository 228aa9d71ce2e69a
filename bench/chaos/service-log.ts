import { readFileSync } from 'node:fs';

/** The JSON lines (pino) of the instances' logs, oldest first per file; a missing file or another line is skipped. */
function logEntries(files: readonly string[]): Array<{ level?: number; msg?: string; err?: unknown; time?: number }> {
  const out: Array<{ level?: number; msg?: string; err?: unknown; time?: number }> = [];
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as { level?: number; msg?: string; err?: unknown; time?: number });
      } catch {
        // not a log line
      }
    }
  }
  return out;
}

const errText = (err: unknown): string => (typeof err === 'string' ? err : err === undefined ? '' : JSON.stringify(err));

/**
 * What the instances warned about: each distinct warning or error message of their logs (pino JSON lines,
 * level 40 and up) with how often it came and its first `err`, so a CI log shows the service's side too.
 */
export function logWarnings(files: readonly string[], max = 12): string[] {
  const seen = new Map<string, { count: number; err: string }>();
  for (const o of logEntries(files)) {
    if ((o.level ?? 0) < 40) continue;
    const key = `${o.level} ${o.msg ?? ''}`;
    const entry = seen.get(key) ?? { count: 0, err: errText(o.err) };
    entry.count++;
    seen.set(key, entry);
  }
  return [...seen].slice(0, max).map(([k, v]) => `${v.count}x ${k}${v.err ? ` (first: ${v.err.slice(0, 200)})` : ''}`);
}

/**
 * Every time an instance stopped processing although nobody stopped it (its outage recovery began: Kafka
 * or the registry unreachable, or a rejoin after its tasks were dropped), with the reason it logged.
 */
export function servicePauses(files: readonly string[]): string[] {
  return logEntries(files)
    .filter((o) => (o.level ?? 0) >= 40 && /processing paused until it answers again|leaving and joining the group again/.test(o.msg ?? ''))
    .map((o) => `${o.msg}: ${errText(o.err).slice(0, 300)}`);
}
