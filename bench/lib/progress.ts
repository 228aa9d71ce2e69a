/**
 * A progress line every few seconds on stderr (never on stdout, which stays clean for piping): long runs
 * show they are alive and how far they got.
 */
export class Progress {
  private last = 0;
  constructor(private readonly label: string, private readonly everyMs = 3000) {}

  /** Prints when the interval has passed since the last line (or `force`). */
  update(done: number, total: number | undefined, extra = '', force = false): void {
    const now = Date.now();
    if (!force && now - this.last < this.everyMs) return;
    this.last = now;
    const pct = total ? ` ${((100 * done) / total).toFixed(1)}%` : '';
    process.stderr.write(`[bench] ${this.label}: ${done.toLocaleString('en-US')}${total ? `/${total.toLocaleString('en-US')}` : ''}${pct}${extra ? ` ${extra}` : ''}\n`);
  }
}

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
