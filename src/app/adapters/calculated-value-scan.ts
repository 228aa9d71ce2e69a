import type { StreamsApp } from '../../streams/index.ts';
import { countValue, emptyCounts, emptyValueCounts, type CalculatedValueSource, type ValueCounts } from '../../api/calculated-value-counts.ts';
import type { Unavailable } from '../../api/profile-lookup.ts';
import type { ProfileState } from '../../schema/profile-state.ts';
import { PROFILES_STORE } from '../topology/profile-node-names.ts';
import { unavailable } from './streams-profile-lookup.ts';

/**
 * Counts calculated-attribute values by scanning the profiles this instance owns (the profiles store of its
 * tasks). A scan reads every local profile, so its answer is kept for `cacheMs` per workspace: a page
 * reloaded by many people costs one scan, and the pipeline's tasks share the disk with it.
 */
export class CalculatedValueScan implements CalculatedValueSource {
  private readonly cache = new Map<string, { at: number; counts: Promise<ValueCounts | Unavailable> }>();

  constructor(
    private readonly app: StreamsApp,
    /** This instance's `host:port`, left out of `peers()`; undefined when it serves no HTTP to others. */
    private readonly applicationServer: string | undefined,
    private readonly cacheMs = 10_000,
  ) {}

  peers(): string[] {
    // Members that advertise no address (no HTTP for other instances) cannot be asked; they are not peers.
    return [...new Set(this.app.hostMap().values())].filter((h) => h && h !== this.applicationServer);
  }

  localCounts(workspace: string): Promise<ValueCounts | Unavailable> {
    const hit = this.cache.get(workspace);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.counts;
    const counts = this.scan(workspace);
    this.cache.set(workspace, { at: Date.now(), counts });
    // A failed scan is not kept: the next request tries again.
    void counts.then((c) => {
      if ('unavailable' in c) this.cache.delete(workspace);
    }, () => this.cache.delete(workspace));
    return counts;
  }

  private async scan(workspace: string): Promise<ValueCounts | Unavailable> {
    try {
      const { attributes } = emptyValueCounts();
      let scanned = 0;
      for await (const { value } of this.app.store<string, ProfileState>(PROFILES_STORE).range()) {
        scanned++;
        const w = value.workspaces[workspace];
        if (!w) continue;
        for (const [name, c] of Object.entries(w.calculated_attributes)) countValue((attributes[name] ??= emptyCounts()), c.value, c.definition_version);
      }
      return { attributes, profiles_scanned: scanned };
    } catch (error) {
      return unavailable(error);
    }
  }
}
