import { Record, type KeyValueStore, type ProcessorContext } from '../../streams/index.ts';
import { compileDefinitions, hasDefinitions, type Definitions } from '../../audiences/definitions.ts';
import { leaveAllAudiences } from '../../audiences/user-refresh.ts';
import type { Deployment } from '../../config/deployment.ts';
import type { AudienceMembershipChange } from '../../schema/audience-membership-change.ts';
import type { ProfileState } from '../../schema/profile-state.ts';
import { AGGREGATES_STORE, AUDIENCE_DUE_STORE, AUDIENCE_MEMBERSHIPS_SINK, dueKey, type StoredAggregates } from './audience-step.ts';

/**
 * A user's way out of the audience stores, for the profile-lifecycle processor: when a profile expires
 * or is erased, every membership ends (one `delete` per audience on the audience-memberships topic, so
 * downstream audiences drop the user) and the user's event aggregates and due-index entry are deleted.
 * The aggregates go on expiry too: a returning user's calculated attributes and audiences start afresh.
 */
export class AudienceExit {
  private ctx!: ProcessorContext<unknown, unknown>;
  private aggregates!: KeyValueStore<string, StoredAggregates>;
  private due!: KeyValueStore<string, string>;

  constructor(private readonly definitions: Definitions) {}

  init(context: ProcessorContext<unknown, unknown>): void {
    this.ctx = context;
    this.aggregates = context.store(AGGREGATES_STORE);
    this.due = context.store(AUDIENCE_DUE_STORE);
  }

  /** `profile` is undefined when only aggregates may be left (an erasure after expiry). */
  async leave(mpid: string, profile: ProfileState | undefined, nowMs: number): Promise<void> {
    const stored = await this.aggregates.get(mpid);
    if (stored !== undefined) {
      if (stored.due_ms !== null) await this.due.delete(dueKey(stored.due_ms, mpid));
      await this.aggregates.delete(mpid);
    }
    if (profile === undefined) return;
    await Promise.all(leaveAllAudiences(profile, this.definitions, nowMs).map((change) =>
      this.ctx.forward(new Record<string, AudienceMembershipChange>(mpid, change, nowMs), AUDIENCE_MEMBERSHIPS_SINK)));
  }
}

/** Undefined when the deployment defines no calculated attributes and no audiences (no audience stores exist). */
export function audienceExitSupplier(deployment: Deployment): (() => AudienceExit) | undefined {
  const definitions = compileDefinitions(deployment.calculatedAttributes ?? [], deployment.audiences ?? []);
  if (!hasDefinitions(definitions)) return undefined;
  return () => new AudienceExit(definitions);
}
