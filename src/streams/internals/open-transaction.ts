/**
 * The transaction a producer's early outputs go into until the commit ends it, and whether a send in it
 * failed. Kafka clients let a transaction commit after one of its produce requests failed (kafkajs and
 * @platformatic/kafka keep no error state; Java's producer moves to an abortable error): committing it would
 * commit the task's input offsets without those outputs, so they would never be produced. A transaction
 * with a failed send can only be aborted, and the records since the last commit are read again.
 */
export class OpenTransaction<T> {
  readonly #begin: () => Promise<T>;
  #open: Promise<T> | undefined;
  #failure: { error: unknown } | undefined;

  constructor(begin: () => Promise<T>) {
    this.#begin = begin;
  }

  /** The open transaction, begun now if there is none. */
  current(): Promise<T> {
    this.#open ??= this.#begin();
    return this.#open;
  }

  /** A send into the current transaction failed: it must not commit. The first failure is kept. */
  sendFailed(error: unknown): void {
    this.#failure ??= { error };
  }

  /**
   * Hands the open transaction (begun now if none) to the commit that ends it; the next send begins a new
   * one. `failure` is set when a send in it failed, and the commit must abort instead.
   */
  take(): { transaction: Promise<T>; failure: { error: unknown } | undefined } {
    const taken = { transaction: this.current(), failure: this.#failure };
    this.#open = undefined;
    this.#failure = undefined;
    return taken;
  }
}
