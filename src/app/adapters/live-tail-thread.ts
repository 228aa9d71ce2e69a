/**
 * The Live Stream's tail in a worker thread (started by `ThreadedLiveFeed`): reading Kafka, decoding and
 * serialising happen here, off the event loop the stream tasks run on. Each event goes to the main thread
 * already serialised as the Server-Sent Event the pages receive, with the entry minus its batch for the
 * filters.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { LiveEvent, LiveSubscription } from '../../api/live-feed.ts';
import { LiveTail, type LiveTailOptions } from './live-tail.ts';

export type LiveTailThreadData = Omit<LiveTailOptions, 'logger'> & { readonly logLevel: string };

/** Main thread → thread. */
export type ToLiveTailThread = { type: 'start' } | { type: 'stop' };
/** Thread → main thread. */
export type FromLiveTailThread =
  | { type: 'live' }
  | { type: 'failed'; message: string }
  | { type: 'event'; event: LiveEvent & { frame: string } }
  | { type: 'stats'; stats: ReturnType<LiveTail['stats']> };

const data = workerData as LiveTailThreadData;
const port = parentPort!;
const tail = new LiveTail({ ...data, logger: pino({ level: data.logLevel, base: { component: 'live-tail' } }, pino.destination(2)) });
let subscription: LiveSubscription | undefined;
let statsTimer: NodeJS.Timeout | undefined;
const post = (m: FromLiveTailThread) => port.postMessage(m);

function relay(e: LiveEvent): void {
  const frame = `event: ${e.kind}\ndata: ${JSON.stringify(e.entry)}\n\n`;
  post({ type: 'event', event: { kind: e.kind, entry: { ...e.entry, batch: null }, frame } });
}

port.on('message', (m: ToLiveTailThread) => {
  if (m.type === 'start') {
    if (subscription) return post({ type: 'live' });
    void tail.subscribe(undefined, relay).then((s) => {
      subscription = s;
      post({ type: 'live' });
      for (const e of s.tail) relay(e);
      statsTimer = setInterval(() => post({ type: 'stats', stats: tail.stats() }), 1000);
    }, (error: Error) => post({ type: 'failed', message: error.message }));
  } else {
    clearInterval(statsTimer);
    subscription?.unsubscribe();
    subscription = undefined;
    void tail.stop().finally(() => port.close());
  }
});
