import { RESOLUTION_INTENTS, type Claim, type ResolutionIntent } from './resolution.ts';

/**
 * Where a batch is on its way through the identity partitions, carried in a record header so the batch
 * itself stays the Avro record it arrived as. `lookup`: visiting `hops` (read only) collecting claims, the
 * last hop decides; `link`: the user is decided (`mpid`), `hops` are the identities whose claims are written.
 */
export interface ResolutionState {
  readonly intent: ResolutionIntent;
  readonly phase: 'lookup' | 'link';
  readonly hops: readonly string[];
  readonly at: number;
  readonly claims: { readonly [key: string]: Claim };
  readonly mpid?: string;
  readonly known?: boolean;
  /** Identity keys left out of the batch (`drop_identity`). */
  readonly dropped?: readonly string[];
}

export const RESOLUTION_STATE_HEADER = 'x-idsync-state';
/** Set by the IDSync HTTP API on the batches it produces: `identify`, `login` or `logout`. */
export const RESOLUTION_INTENT_HEADER = 'x-idsync-intent';

export function encodeResolutionState(state: ResolutionState): string {
  return JSON.stringify(state);
}

/** The state of a record on the resolution topic, or undefined when the header is missing or malformed. */
export function decodeResolutionState(header: Buffer | string | undefined): ResolutionState | undefined {
  if (header === undefined) return undefined;
  try {
    const state = JSON.parse(header.toString()) as ResolutionState;
    const valid = RESOLUTION_INTENTS.includes(state.intent) && (state.phase === 'lookup' || state.phase === 'link')
      && Array.isArray(state.hops) && Number.isInteger(state.at) && state.at >= 0 && state.at < state.hops.length
      && typeof state.claims === 'object' && state.claims !== null && (state.phase === 'lookup' || typeof state.mpid === 'string');
    return valid ? state : undefined;
  } catch {
    return undefined;
  }
}

export function intentOf(header: Buffer | string | undefined): ResolutionIntent {
  const value = header?.toString();
  return RESOLUTION_INTENTS.find((i) => i === value) ?? 'batch';
}
