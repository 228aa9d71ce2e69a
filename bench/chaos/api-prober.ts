import { sleep } from '../lib/kafka.ts';
import { judgeBody, mpidOf, unknownMpid, type HeldBatches } from './reference.ts';

export const CHAOS_API_KEY = { key: 'chaos-key-0001', secret: 'chaos-secret', workspace: '1' };
const AUTH = `Basic ${Buffer.from(`${CHAOS_API_KEY.key}:${CHAOS_API_KEY.secret}`).toString('base64')}`;

export function profileUrl(port: number, mpid: string): string {
  return `http://127.0.0.1:${port}/userprofile/v1/o/a/${CHAOS_API_KEY.workspace}/${mpid}?fields=user_identities,user_attributes`;
}

export async function getProfile(port: number, mpid: string, timeoutMs = 5000): Promise<{ status: number; body: unknown; text: string; retryAfter: number | undefined }> {
  const res = await fetch(profileUrl(port, mpid), { headers: { authorization: AUTH }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  const retryAfter = res.headers.get('retry-after') === null ? undefined : Number(res.headers.get('retry-after'));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, retryAfter };
}

/** A 503's error code and message, host:ports, numbers and times blanked (its kind, for counting). */
function reasonOf(body: unknown, text: string): string {
  const b = body as { error?: unknown; message?: unknown } | undefined;
  const raw = b && typeof b === 'object' ? `${String(b.error)}: ${String(b.message)}` : text;
  return raw.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/[\w.-]+:\d{2,5}/g, '<host:port>').replace(/\d+/g, '#').slice(0, 200);
}

/** Counts of Profile API answers by what they were. Only the first three kinds are allowed. */
export interface ApiCounts {
  /** 200 whose body is the oracle's profile after some batch the producer had sent. */
  ok_200: number;
  /** 404 for an MPID no batch names, or for a user the API had never shown yet. */
  not_found_404: number;
  not_ready_503: number;
  /** 200 with a body the oracle rejects: a failure. */
  wrong_body: number;
  /** Any other status (a failure): status -> count. */
  other_status: Record<string, number>;
  /** 404 for a user this run had already seen answered with 200 (a read of uncommitted state rolled back after a crash, or an empty answer). */
  not_found_after_200: number;
  /** 200 showing an older batch than an earlier 200 did for the same user (read of uncommitted state, then rolled back). */
  went_back: number;
  /** No HTTP answer: the instance asked was down (killed, restarting) or did not answer within 5 s. */
  no_answer: number;
  /** 503s by error code and message (numbers and hosts blanked). */
  not_ready_reasons: Record<string, number>;
  /**
   * A client that follows Retry-After once: each 503 asked again (another instance in rotation, after the
   * seconds the 503 said), and how that second answer ended.
   */
  retried_503: { right: number; not_ready_503: number; other: number };
  /**
   * 200s first judged wrong that are right for the batches the input topic holds (a batch the producer saw
   * acknowledged was not written): counted in `ok_200` after `rejudge`.
   */
  right_given_input?: number;
  wrong_examples: string[];
}

/** How one request ended, for availability over a window: `right` is the answer a client wanted. */
export type ProbeOutcome = 'right' | '503' | '404_known' | 'wrong' | 'no_answer';

/** Answers to requests sent within a window (see `ApiProber.tally`). */
export interface ApiTally {
  readonly requests: number;
  /** 200 with a right body for a user of the run, or 404 for an MPID no batch names. */
  readonly right: number;
  readonly not_ready_503: number;
  /** 404 for a user of the run (whose profile exists once its first batch was processed). */
  readonly not_found_known: number;
  readonly wrong: number;
  readonly no_answer: number;
}

export interface ApiTarget {
  /** Ports of instances whose API should answer now. */
  livePorts(): number[];
  /** How many batches of `user` were handed to the producer so far. */
  sentUpTo(user: number): number;
  readonly users: number;
  readonly partitionOfUser: readonly number[];
}

/**
 * Polls the Profile API all through a scenario, one request at a time, each for a random user of the run
 * (or, one time in five, an MPID no batch names) at a random live instance, and judges every answer
 * against the oracle. Also keeps, per partition, when a request sent then was first answered with a right
 * 200 (for "the API answers 200 again" after a fault).
 */
export class ApiProber {
  readonly counts: ApiCounts = { ok_200: 0, not_found_404: 0, not_ready_503: 0, wrong_body: 0, other_status: {}, not_found_after_200: 0, went_back: 0, no_answer: 0, not_ready_reasons: {}, retried_503: { right: 0, not_ready_503: 0, other: 0 }, wrong_examples: [] };
  readonly #retries = new Set<Promise<void>>();
  /** 200s for a user of the run judged wrong, kept to be judged again against what the input holds. */
  readonly #wrong200: Array<{ outcome: [number, ProbeOutcome]; user: number; body: unknown; sentUpTo: number; example: string }> = [];
  readonly #seen = new Map<number, number>();
  /** [sentAt, partition] of every right 200. */
  readonly #ok: Array<[number, number]> = [];
  /** [sentAt, outcome] of every request. */
  readonly #outcomes: Array<[number, ProbeOutcome]> = [];
  #running = false;
  #loop: Promise<void> | undefined;
  #n = 0;

  constructor(private readonly target: ApiTarget, private readonly o: { runTag: string; mpidBase: bigint; pauseMs: number }) {}

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#retries);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const ports = this.target.livePorts();
      if (ports.length > 0) await this.probeOnce(ports[Math.floor(Math.random() * ports.length)]!);
      await sleep(this.o.pauseMs);
    }
  }

  async probeOnce(port: number): Promise<void> {
    const n = this.#n++;
    const known = n % 5 !== 4;
    const user = known ? Math.floor(Math.random() * this.target.users) : -1;
    const mpid = known ? mpidOf(this.o.mpidBase, user) : unknownMpid(this.o.mpidBase, n);
    const sentAt = Date.now();
    let answer;
    try {
      answer = await getProfile(port, mpid);
    } catch {
      this.counts.no_answer++;
      this.#outcomes.push([sentAt, 'no_answer']);
      return;
    }

    const c = this.counts;
    const wrong = (why: string): string => {
      this.#outcomes.push([sentAt, 'wrong']);
      c.wrong_body++;
      const example = `${new Date(sentAt).toISOString()} port ${port} mpid ${mpid}: ${answer.status} ${why}: ${answer.text.slice(0, 300)}`;
      if (c.wrong_examples.length < 10) c.wrong_examples.push(example);
      return example;
    };
    if (answer.status === 503) {
      c.not_ready_503++;
      this.#outcomes.push([sentAt, '503']);
      const reason = reasonOf(answer.body, answer.text);
      c.not_ready_reasons[reason] = (c.not_ready_reasons[reason] ?? 0) + 1;
      // Beside the loop, so the retry's wait does not thin out the requests sent while 503s happen.
      const retry = this.#retry(mpid, known ? user : undefined, (answer.retryAfter ?? 1) * 1000);
      this.#retries.add(retry);
      void retry.finally(() => this.#retries.delete(retry));
    } else if (answer.status === 404) {
      if (known && this.#seen.has(user)) c.not_found_after_200++;
      else c.not_found_404++;
      this.#outcomes.push([sentAt, known ? '404_known' : 'right']);
    } else if (answer.status === 200) {
      if (!known) {
        wrong('a profile for an MPID no batch names');
        return;
      }
      // A batch handed to the producer while the request was on its way can already show.
      const sentUpTo = this.target.sentUpTo(user);
      const verdict = judgeBody(answer.body, this.o.runTag, this.o.mpidBase, user, sentUpTo);
      if (!verdict.right) {
        const example = wrong(verdict.why);
        this.#wrong200.push({ outcome: this.#outcomes.at(-1)!, user, body: answer.body, sentUpTo, example });
        return;
      }
      c.ok_200++;
      this.#outcomes.push([sentAt, 'right']);
      const before = this.#seen.get(user) ?? 0;
      if (verdict.k < before) c.went_back++;
      this.#seen.set(user, Math.max(before, verdict.k));
      this.#ok.push([sentAt, this.target.partitionOfUser[user]!]);
    } else {
      this.#outcomes.push([sentAt, 'wrong']);
      c.other_status[String(answer.status)] = (c.other_status[String(answer.status)] ?? 0) + 1;
      if (c.wrong_examples.length < 10) c.wrong_examples.push(`${new Date(sentAt).toISOString()} port ${port} mpid ${mpid}: ${answer.status} ${answer.text.slice(0, 300)}`);
    }
  }

  async #retry(mpid: string, user: number | undefined, afterMs: number): Promise<void> {
    await sleep(afterMs);
    const ports = this.target.livePorts();
    const r = this.counts.retried_503;
    if (ports.length === 0) {
      r.other++;
      return;
    }
    try {
      const answer = await getProfile(ports[Math.floor(Math.random() * ports.length)]!, mpid);
      if (answer.status === 503) r.not_ready_503++;
      else if (user === undefined ? answer.status === 404 : answer.status === 200 && judgeBody(answer.body, this.o.runTag, this.o.mpidBase, user, this.target.sentUpTo(user)).right) r.right++;
      else r.other++;
    } catch {
      r.other++;
    }
  }

  /**
   * Judges the wrong 200s again against the batches the input topic holds: one that is right for those was
   * the service answering correctly about a batch the load producer's acknowledgement did not deliver.
   */
  rejudge(held: HeldBatches): void {
    const c = this.counts;
    c.right_given_input = 0;
    for (const w of this.#wrong200) {
      if (!judgeBody(w.body, this.o.runTag, this.o.mpidBase, w.user, w.sentUpTo, held).right) continue;
      c.wrong_body--;
      c.ok_200++;
      c.right_given_input++;
      w.outcome[1] = 'right';
      const i = c.wrong_examples.indexOf(w.example);
      if (i >= 0) c.wrong_examples.splice(i, 1);
    }
  }

  /** The requests sent from `from` until `to`, by how they ended. */
  tally(from: number, to: number): ApiTally {
    const n = { requests: 0, right: 0, not_ready_503: 0, not_found_known: 0, wrong: 0, no_answer: 0 };
    for (const [t, o] of this.#outcomes) {
      if (t < from || t >= to) continue;
      n.requests++;
      if (o === 'right') n.right++;
      else if (o === '503') n.not_ready_503++;
      else if (o === '404_known') n.not_found_known++;
      else if (o === 'wrong') n.wrong++;
      else n.no_answer++;
    }
    return n;
  }

  /**
   * Milliseconds from `since` until a request sent after it was answered with a right 200 for every
   * partition (undefined while one has none).
   */
  answeredAfter(since: number, partitions: number): number | undefined {
    const first = new Map<number, number>();
    for (const [t, p] of this.#ok) if (t >= since && !first.has(p)) first.set(p, t);
    if (first.size < partitions) return undefined;
    return Math.max(...first.values()) - since;
  }
}

