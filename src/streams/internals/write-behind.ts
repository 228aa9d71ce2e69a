/**
 * Writes that run behind the reads feeding them: restore hands a fetched changelog batch to RocksDB and
 * goes back to fetching the next one while the native write runs (on libuv's thread pool), instead of
 * idling the fetch for every write.
 *
 * - Writes of one lane (a changelog partition) run one after another, in the order given, so a key's
 *   later value always lands last and a stored offset never gets ahead of the data written with it.
 * - At most `maxPendingBytes` are queued: `enqueue` waits once more are pending, so a fast fetch cannot
 *   buffer a whole changelog in memory.
 * - After a write fails, no further write runs; the failure is thrown by the next `enqueue` and by `drain`.
 */
export class WriteBehind {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #waiters: Array<() => void> = [];
  #pendingBytes = 0;
  #failed: { error: unknown } | undefined;

  constructor(private readonly maxPendingBytes: number) {}

  async enqueue(lane: string, bytes: number, write: () => Promise<void>): Promise<void> {
    this.#throwIfFailed();
    this.#pendingBytes += bytes;
    const previous = this.#tails.get(lane) ?? Promise.resolve();
    const tail = previous
      .then(() => (this.#failed ? undefined : write()))
      .catch((error: unknown) => {
        this.#failed ??= { error };
      })
      .finally(() => {
        this.#pendingBytes -= bytes;
        for (const wake of this.#waiters.splice(0)) wake();
      });
    this.#tails.set(lane, tail);
    while (this.#pendingBytes > this.maxPendingBytes && !this.#failed) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#throwIfFailed();
  }

  /** Waits for every queued write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.#tails.values());
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failed) throw this.#failed.error;
  }
}
