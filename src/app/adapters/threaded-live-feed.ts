import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { LiveEvent, LiveFeed, LiveFeedStats, LiveSubscription } from '../../api/live-feed.ts';
import type { FromLiveTailThread, LiveTailThreadData, ToLiveTailThread } from './live-tail-thread.ts';
import type { LiveTailOptions } from './live-tail.ts';

type Subscriber = { readonly workspaces: ReadonlySet<string>; readonly listener: (event: LiveEvent) => void };

/**
 * The Live Stream's feed for the HTTP routes, with the tail (`LiveTail`) running in a worker thread: the
 * stream tasks share the main thread's event loop, so the Kafka reads, Avro decodes and JSON of the tail
 * would take their time from the pipeline. Here the main thread only keeps the latest event of the last
 * `tailSize` batches per workspace and hands the thread's ready-made frames to the open pages. The
 * thread starts with the first page and ends `idleStopMs` after the last.
 */
export class ThreadedLiveFeed implements LiveFeed {
  readonly sources: readonly string[];
  readonly integrations: readonly string[];
  private readonly tailSize: number;
  private readonly idleStopMs: number;
  private readonly subscribers = new Set<Subscriber>();
  /** workspace → batch id → its latest event, in order of arrival. */
  private readonly tails = new Map<string, Map<string, LiveEvent>>();
  private worker: Worker | undefined;
  private live: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastStats: LiveFeedStats = { state: 'stopped', skipped: 0, decoded: 0, subscribers: 0 };

  constructor(private readonly options: Omit<LiveTailOptions, 'logger'> & { logger: Logger }) {
    this.sources = options.app.sources;
    this.integrations = options.integrations.map((i) => i.name);
    this.tailSize = options.tailSize ?? 300;
    this.idleStopMs = options.idleStopMs ?? 60_000;
  }

  stats(): LiveFeedStats {
    return { ...this.lastStats, state: this.worker === undefined ? 'stopped' : this.lastStats.state, subscribers: this.subscribers.size };
  }

  async subscribe(workspaces: readonly string[], listener: (event: LiveEvent) => void): Promise<LiveSubscription> {
    const subscriber: Subscriber = { workspaces: new Set(workspaces), listener };
    this.subscribers.add(subscriber);
    clearTimeout(this.idleTimer);
    try {
      await this.start();
    } catch (error) {
      this.subscribers.delete(subscriber);
      throw error;
    }
    const tail = workspaces.flatMap((w) => [...(this.tails.get(w)?.values() ?? [])]).sort((a, b) => a.entry.received_ms - b.entry.received_ms);
    return {
      tail,
      unsubscribe: () => {
        this.subscribers.delete(subscriber);
        if (this.subscribers.size > 0) return;
        this.idleTimer = setTimeout(() => void this.stop(), this.idleStopMs);
        this.idleTimer.unref();
      },
    };
  }

  private start(): Promise<void> {
    this.live ??= new Promise<void>((resolve, reject) => {
      const { logger, ...tailOptions } = this.options;
      const data: LiveTailThreadData = { ...tailOptions, logLevel: logger.level };
      // Run from TypeScript sources (tsx, tests) the thread needs tsx's loader too; from dist/ it is JavaScript.
      const ts = import.meta.url.endsWith('.ts');
      const worker = new Worker(new URL(ts ? './live-tail-thread.ts' : './live-tail-thread.js', import.meta.url), { workerData: data, ...(ts ? { execArgv: ['--import', 'tsx'] } : {}) });
      this.worker = worker;
      worker.postMessage({ type: 'start' } satisfies ToLiveTailThread);
      const timer = setTimeout(() => reject(new Error('the Live Stream tail did not start within 30 s')), 30_000);
      worker.on('message', (m: FromLiveTailThread) => {
        if (m.type === 'live') {
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(m.message));
        } else if (m.type === 'stats') this.lastStats = m.stats;
        else this.receive(m.event);
      });
      worker.on('error', (error) => {
        clearTimeout(timer);
        logger.error({ err: error }, 'live tail thread failed');
        reject(error);
      });
      worker.on('exit', () => {
        clearTimeout(timer);
        reject(new Error('the Live Stream tail thread ended'));
        if (this.worker === worker) this.reset();
      });
    }).catch((error: unknown) => {
      void this.stop();
      throw error;
    });
    return this.live;
  }

  private receive(event: LiveEvent): void {
    const { workspace_id: workspace, id } = event.entry;
    let tail = this.tails.get(workspace);
    if (!tail) this.tails.set(workspace, (tail = new Map()));
    // Map.set keeps an existing key's place: an update stays where its batch arrived.
    tail.set(id, event);
    if (tail.size > this.tailSize) tail.delete(tail.keys().next().value!);
    for (const s of this.subscribers) if (s.workspaces.has(workspace)) s.listener(event);
  }

  private reset(): void {
    this.worker = undefined;
    this.live = undefined;
    this.tails.clear();
  }

  /** Ends the thread (its consumer leaves and its group is removed first). */
  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    if (!worker) return;
    this.reset();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies ToLiveTailThread);
    const timeout = setTimeout(() => void worker.terminate(), 10_000);
    await exited;
    clearTimeout(timeout);
  }
}
