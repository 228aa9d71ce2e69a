/**
 * The chaos suite's oracle. It shares no code with `src/profiles`: it is written from the merge rule in
 * DESIGN.md (user attributes are last-write-wins by event time) for a load whose answer is trivially
 * known. User `u`'s batch number `k` (k = 1, 2, ...) is the only one with its event time, later than
 * the user's batch k-1, and sets three user attributes:
 *
 * - `seq` = k,
 * - `slot_<k mod 3>` = k (so after k batches, slot j holds the last number up to k that is j mod 3),
 * - `last_batch` = the batch's id,
 *
 * and the constant identity `customer_id = chaos-<u>`. The profile after any k batches is therefore a
 * function of k alone, and a Profile API answer is right exactly when it is that function of the k it
 * shows, for a k the producer has sent.
 */

/**
 * Which of a user's batches the input topic holds (`undefined`: all that were sent). The load producer's
 * acknowledgements are not proof: a kafkajs producer can see a batch acknowledged that a leader change then
 * dropped, and the service can only be asked to have processed what the input holds.
 */
export type HeldBatches = ((user: number, k: number) => boolean) | undefined;

/** Attributes the Profile API shows after a user's batches up to `k` (those the input holds; mParticle's API gives strings). */
export function expectedAttributes(runTag: string, user: number, k: number, held?: HeldBatches): Record<string, string> {
  const out: Record<string, string> = { seq: String(k), last_batch: batchId(runTag, user, k) };
  for (let slot = 0; slot < 3; slot++) {
    let last = k - ((((k - slot) % 3) + 3) % 3);
    while (last >= 1 && held && !held(user, last)) last -= 3;
    if (last >= 1) out[`slot_${slot}`] = String(last);
  }
  return out;
}

export function batchId(runTag: string, user: number, k: number): string {
  return `${runTag}-u${user}-k${k}`;
}

export function customerId(runTag: string, user: number): string {
  return `${runTag}-${user}`;
}

/** MPIDs of the run's users: `base + user`; `unknownMpid` gives MPIDs no batch ever names. */
export function mpidOf(base: bigint, user: number): string {
  return String(base + BigInt(user));
}

export function unknownMpid(base: bigint, i: number): string {
  return String(base + 500_000_000n + BigInt(i));
}

/** Batch `k` of `user` as mParticle-style JSON, at event time `timeMs`. */
export function batchJson(runTag: string, base: bigint, user: number, k: number, timeMs: number): Record<string, unknown> {
  const id = batchId(runTag, user, k);
  const slot = `slot_${k % 3}`;
  return {
    source_request_id: id,
    mpid: mpidOf(base, user),
    environment: 'production',
    timestamp_unixtime_ms: timeMs,
    workspace_id: '1',
    source: 'web',
    // One custom event, so the `ads` integration (custom events only) gets every batch too.
    events: [{ event_type: 'custom_event', data: { event_name: 'chaos', custom_event_type: 'other', timestamp_unixtime_ms: timeMs, source_message_id: id } }],
    user_identities: { customer_id: customerId(runTag, user) },
    user_attributes: { seq: String(k), [slot]: String(k), last_batch: id },
  };
}

/** What a Profile API body (`fields=user_identities,user_attributes`) says, judged against the oracle. */
export type BodyVerdict = { right: true; k: number } | { right: false; why: string };

export function judgeBody(body: unknown, runTag: string, base: bigint, user: number, sentUpTo: number, held?: HeldBatches): BodyVerdict {
  const b = body as { mpid?: unknown; user_identities?: unknown; user_attributes?: Record<string, unknown> } | null;
  if (!b || typeof b !== 'object') return { right: false, why: 'not a JSON object' };
  if (b.mpid !== mpidOf(base, user)) return { right: false, why: `mpid ${String(b.mpid)}` };
  const ids = JSON.stringify(b.user_identities);
  const wantIds = JSON.stringify([{ type: 'customer_id', encoding: 'none', value: customerId(runTag, user) }]);
  if (ids !== wantIds) return { right: false, why: `user_identities ${ids}` };
  const attrs = b.user_attributes ?? {};
  const k = Number(attrs.seq);
  if (!Number.isInteger(k) || k < 1) return { right: false, why: `seq ${String(attrs.seq)}` };
  if (k > sentUpTo) return { right: false, why: `seq ${k} but only ${sentUpTo} batches were sent` };
  if (held && !held(user, k)) return { right: false, why: `seq ${k}, a batch the input topic does not hold` };
  const want = expectedAttributes(runTag, user, k, held);
  const got = Object.fromEntries(Object.entries(attrs).sort(([a], [b2]) => a.localeCompare(b2)));
  const exp = Object.fromEntries(Object.entries(want).sort(([a], [b2]) => a.localeCompare(b2)));
  if (JSON.stringify(got) !== JSON.stringify(exp)) return { right: false, why: `attributes ${JSON.stringify(got)} for seq ${k}, expected ${JSON.stringify(exp)}` };
  return { right: true, k };
}
