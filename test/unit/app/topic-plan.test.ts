import { describe, expect, it } from 'vitest';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';

describe('the topics a deployment needs', () => {
  const app = parseAppConfig('application_id: shop\npartitions: 6\nsources: [web, ios]\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: crm\n', { file: 'i.yaml', applicationId: 'shop' });

  it('co-partitions raw and output topics and keeps history for the retention period', () => {
    const plan = planTopics({ app, integrations });
    const byName = new Map(plan.map((t) => [t.topic, t]));
    expect(byName.get('shop.raw.web')?.partitions).toBe(6);
    expect(byName.get('shop.raw.ios')?.partitions).toBe(6);
    expect(byName.get('shop.enriched.crm')?.partitions).toBe(6);
    expect(byName.get('shop.history')?.config['retention.ms']).toBe(String(730 * 24 * 3600 * 1000));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(['shop.dlq', 'shop.audience-memberships', 'shop.dsr']));
  });
});
