import { Record, type KeyValueStore, type Processor, type ProcessorContext } from '../../streams/index.ts';
import { applyDsrEvent, type DsrEvent, type DsrRequested, type DsrStatus, type ErasureCommand } from '../../profiles/erasure.ts';
import { checkedDsrEvent } from '../../profiles/dsr-event-check.ts';
import { identityKey } from '../../profiles/identity-merge.ts';
import { EXPIRED_IDENTITIES_STORE, IDENTITY_INDEX_STORE, type ExpiredIdentity, type IdentityOwner } from './identity-index-processor.ts';
import { ERASURE_REPARTITION } from './profile-node-names.ts';

export const DSR_STATUS_STORE = 'dsr-status';
export const DSR_IDENTITY_REPARTITION = 'dsr-identity';
/** `Topology.addRepartition(name)` names the sink that writes the repartition topic `<name>-sink`. */
export const ERASURE_REPARTITION_SINK = `${ERASURE_REPARTITION}-sink`;
const DSR_IDENTITY_REPARTITION_SINK = `${DSR_IDENTITY_REPARTITION}-sink`;

function commandOf(event: DsrRequested, mpid: string | undefined): ErasureCommand {
  return { request_id: event.request_id, workspace_id: event.workspace_id, requested_ms: event.requested_ms, mpid };
}

/**
 * Reads the DSR topic (JSON events keyed by request id): keeps each request's status in `dsr-status`
 * (so `GET /v1/dsr/:id` asks the task that owns the id), and sends each request towards its user — by
 * MPID straight to the `erasures` repartition topic, by identity first to the task that owns the
 * identity in the index.
 */
export class DsrRouterProcessor implements Processor<string, DsrEvent, string, unknown> {
  private ctx!: ProcessorContext<string, unknown>;
  private status!: KeyValueStore<string, DsrStatus>;

  init(context: ProcessorContext<string, unknown>): void {
    this.ctx = context;
    this.status = context.store(DSR_STATUS_STORE);
  }

  async process(record: Record<string, DsrEvent>): Promise<void> {
    // Anyone may produce to the DSR topic: a malformed record goes to the dead-letter topic with its problems.
    const event = checkedDsrEvent(record.value);
    const current = await this.status.get(event.request_id);
    if (event.kind === 'requested' && current !== undefined) return; // a replayed request: already on its way
    await this.status.put(event.request_id, applyDsrEvent(current, event));
    if (event.kind !== 'requested') return;
    if ('mpid' in event.target) {
      await this.ctx.forward(new Record(event.target.mpid, commandOf(event, event.target.mpid), record.timestamp), ERASURE_REPARTITION_SINK);
    } else {
      const { type, value } = event.target.identity;
      await this.ctx.forward(new Record(identityKey(type, value), event, record.timestamp), DSR_IDENTITY_REPARTITION_SINK);
    }
  }
}

/**
 * Resolves an erasure request by identity through the identity index (this task owns the identity's
 * key), or, when no live profile holds it, through the identities of expired profiles whose history is kept.
 */
export class DsrIdentityResolveProcessor implements Processor<string, DsrRequested, string, ErasureCommand> {
  private ctx!: ProcessorContext<string, ErasureCommand>;
  private index!: KeyValueStore<string, IdentityOwner>;
  private expired!: KeyValueStore<string, ExpiredIdentity>;

  init(context: ProcessorContext<string, ErasureCommand>): void {
    this.ctx = context;
    this.index = context.store(IDENTITY_INDEX_STORE);
    this.expired = context.store(EXPIRED_IDENTITIES_STORE);
  }

  async process(record: Record<string, DsrRequested>): Promise<void> {
    const owner = (await this.index.get(record.key)) ?? (await this.expired.get(record.key));
    // Nobody holds the identity: the completion still has to be reported, by any task (keyed by request id).
    const key = owner?.mpid ?? record.value.request_id;
    await this.ctx.forward(new Record(key, commandOf(record.value, owner?.mpid), record.timestamp), ERASURE_REPARTITION_SINK);
  }
}
