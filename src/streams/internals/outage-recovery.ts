import type { Clock } from '../clock.ts';
import type { StreamsLogger } from './logger.ts';
import { errorMessage } from './stream-task.ts';

/** Why the app is not processing although nobody asked it to stop. */
export interface Outage {
  readonly since: number;
  readonly reason: string;
  /** What is away: the brokers, what the decoder needs (the schema registry), or nothing (a rejoin). */
  readonly part: OutagePart;
}

export type OutagePart = 'kafka' | 'schema registry' | 'group membership';

/** What recovering needs of the app; each hook does one step. */
export interface OutageHooks {
  readonly clock: Clock;
  readonly logger: StreamsLogger;
  /** True once the app is closing: recovery stops where it is. */
  closing(): boolean;
  /** The brokers could not be reached or answer in time (the port's classification). */
  isUnavailable(err: unknown): boolean;
  /** Called once when an outage begins (state, metrics). */
  paused(): void;
  /**
   * Stops the consumer and processing; the tasks stay open so interactive queries answer from local state
   * during the outage. Nothing is committed from here on.
   */
  stopProcessing(): Promise<void>;
  /** One round trip that succeeds only when a broker answers. */
  probe(): Promise<void>;
  /**
   * Closes the tasks without committing, then a fresh producer and group member; the assignment recreates
   * the tasks from RocksDB and the changelog.
   */
  rejoin(): Promise<void>;
  /** An error recovery itself cannot get past (not an outage). */
  fatal(err: unknown): void;
}

/**
 * Kafka became unreachable (a broker restart, a network cut): wait it out instead of stopping, as Kafka
 * Streams does. The consumer stops and nothing more is processed or committed; the tasks stay open, so
 * the Profile API keeps answering from local state (as far as processing got) while readiness reports
 * `outage`. Once a broker answers, every task closes without committing (its RocksDB stays at its last
 * commit; records processed since are above the committed input offsets, and an exactly-once transaction
 * still open is aborted when the next producer for the task fences it), a new member joins and the
 * assignment recreates the tasks from RocksDB and the changelog, exactly as after a rebalance.
 */
export class OutageRecovery {
  #outage: Outage | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  /** A report counts again only once the rejoin began: what fails before it is the work being stopped. */
  #rejoining = false;
  /** Set before the first step runs (a step may report synchronously), cleared when recovery ends. */
  #active = false;

  constructor(private readonly hooks: OutageHooks) {}

  get outage(): Outage | undefined {
    return this.#outage;
  }

  /** Resolves when no recovery is running (close waits for it). */
  async settled(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }

  /** Something failed because Kafka is unavailable: start recovering, or note it if already doing so. */
  /**
   * `part`: what is away. `group membership` is not an outage but a member that must leave and join again
   * (its tasks were dropped and no rebalance gave them back): the same steps, logged as what they are.
   */
  report(err: unknown, what: string, part: OutagePart = 'kafka'): void {
    const h = this.hooks;
    this.#outage = { since: this.#outage?.since ?? h.clock.now(), reason: `${what}: ${errorMessage(err)}`, part: this.#outage?.part ?? part };
    // A new member can crash while the recovery that made it is still finishing: go round again. Failures
    // of the old work while it is being stopped (a commit, a heartbeat) are the same outage.
    if (this.#active) {
      if (this.#rejoining) this.#again = true;
      return;
    }
    this.#active = true;
    this.#again = true;
    h.logger.warn({ err: this.#outage.reason }, part === 'group membership' ? 'leaving and joining the group again' : `${part === 'kafka' ? 'Kafka' : 'the schema registry'} is unavailable; processing paused until it answers again`);
    h.paused();
    this.#running = (async () => {
      while (this.#again && !h.closing()) {
        this.#again = false;
        this.#rejoining = false;
        await h.stopProcessing();
        await this.#rejoinWhenBack();
      }
      this.#rejoining = false;
      if (h.closing()) return;
      h.logger.info({ downForMs: h.clock.now() - (this.#outage?.since ?? 0) }, 'Kafka answers again; rejoined the group');
      this.#outage = undefined;
    })()
      .catch((e: unknown) => {
        this.#running = undefined;
        this.#active = false;
        h.fatal(e);
      })
      .finally(() => {
        this.#running = undefined;
        this.#active = false;
      });
  }

  async #rejoinWhenBack(): Promise<void> {
    const h = this.hooks;
    for (let attempt = 0; !h.closing(); attempt++) {
      try {
        await h.probe();
        if (h.closing()) return;
        this.#rejoining = true;
        await h.rejoin();
        return;
      } catch (e) {
        if (!h.isUnavailable(e)) throw e;
        this.#outage = { since: this.#outage?.since ?? h.clock.now(), reason: `waiting for Kafka: ${errorMessage(e)}`, part: 'kafka' };
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
      }
    }
  }
}
