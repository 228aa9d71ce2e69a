import type { KeyOwner, ProfileLookup, Unavailable } from '../../../../src/api/profile-lookup.ts';
import type { ProfileState } from '../../../../src/schema/profile-state.ts';

/**
 * The Profile API's lookup held in memory: profiles by MPID, the identity index derived from them, and
 * `owner` saying which instance answers for which key (`mpid` or `type:value`), the runtime's job in
 * production. `state` puts every local read into restore or mid-rebalance.
 */
export class MemoryLookup implements ProfileLookup {
  state: 'ready' | 'restoring' | 'moved' = 'ready';
  readonly reads: string[] = [];
  constructor(
    readonly profiles: Map<string, ProfileState>,
    private readonly owner: (key: string) => KeyOwner = () => ({ local: true }),
    private readonly freshness = 'raw.web:0@41',
  ) {}

  async ownerOfProfile(mpid: string): Promise<KeyOwner> {
    return this.owner(mpid);
  }

  async ownerOfIdentity(type: string, value: string): Promise<KeyOwner> {
    return this.owner(`${type}:${value}`);
  }

  private unavailable(): Unavailable | undefined {
    if (this.state === 'restoring') return { unavailable: 'restoring', detail: 'task 0_1 is restoring' };
    if (this.state === 'moved') return { unavailable: 'moved', detail: 'task 0_1 moved to another instance' };
    return undefined;
  }

  async getProfile(mpid: string): Promise<{ profile: ProfileState | undefined; freshness: string } | Unavailable> {
    this.reads.push(`profile:${mpid}`);
    return this.unavailable() ?? { profile: this.profiles.get(mpid), freshness: this.freshness };
  }

  async resolveIdentity(type: string, value: string): Promise<{ mpid: string | undefined } | Unavailable> {
    this.reads.push(`identity:${type}:${value}`);
    const down = this.unavailable();
    if (down) return down;
    for (const p of this.profiles.values()) if (p.user_identities[type]?.value === value) return { mpid: p.mpid };
    return { mpid: undefined };
  }
}

export const basic = (key: string, secret: string): string => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

export const alwaysReady = { readiness: () => ({ ready: true, detail: {} }) };
