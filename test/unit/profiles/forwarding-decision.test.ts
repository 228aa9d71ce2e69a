import { describe, expect, it } from 'vitest';
import { enrich } from '../../../src/profiles/enrich.ts';
import { forwardingDecision } from '../../../src/profiles/forwarding-decision.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { type IntegrationConfig } from '../../../src/profiles/integration.ts';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { DAY, T0, attrs, batch, consent, customEvent, decision, screenView } from './support/batches.ts';

function integration(yaml: string): IntegrationConfig {
  const text = `integrations:\n  - name: test\n${yaml.replace(/^/gm, '    ')}\n`;
  return parseIntegrationsConfig(text, { file: 'test.yaml' }).integrations[0]!;
}

const profileAfter = (b: Batch) => mergeBatch(undefined, b).profile;
const NOW = { processedAtMs: T0 + DAY };

const marketingOnly = integration('consent:\n  require_gdpr_purposes: [marketing]');
const customOnly = integration('filters:\n  event_types:\n    mode: allow\n    list: [custom_event]');
const takesProfileOnly = integration('forward_profile_only_batches: true');

const consented = batch({ id: 'c', timestamp_unixtime_ms: T0, consent_state: consent({ marketing: decision(true, T0) }), events: [customEvent('play', T0), screenView('home', T0)] });
const notConsented = batch({ id: 'n', timestamp_unixtime_ms: T0, events: [customEvent('play', T0)] });
const screensOnly = batch({ id: 's', timestamp_unixtime_ms: T0, events: [screenView('home', T0), screenView('search', T0)] });
const profileOnly = batch({ id: 'p', timestamp_unixtime_ms: T0, user_attributes: attrs({ tier: 'gold' }) });

describe('forwardingDecision', () => {
  it('says forwarded with how many of the batch\'s events passed the filter', () => {
    expect(forwardingDecision(consented, profileAfter(consented), customOnly)).toEqual({ integration: 'test', forwarded: true, events_forwarded: 1, events_total: 2 });
  });

  it('names consent when the user did not consent to a purpose the integration requires', () => {
    expect(forwardingDecision(notConsented, profileAfter(notConsented), marketingOnly)).toMatchObject({ forwarded: false, reason: 'consent', detail: 'requires GDPR consent to "marketing"' });
    expect(forwardingDecision(consented, profileAfter(consented), marketingOnly)).toMatchObject({ forwarded: true });
  });

  it('names the filter when it removed every event, and profile-only when there were none', () => {
    expect(forwardingDecision(screensOnly, profileAfter(screensOnly), customOnly)).toMatchObject({ forwarded: false, reason: 'filter', detail: 'its filter removed all 2 event(s)' });
    expect(forwardingDecision(profileOnly, profileAfter(profileOnly), customOnly)).toMatchObject({ forwarded: false, reason: 'profile-only' });
    expect(forwardingDecision(profileOnly, profileAfter(profileOnly), takesProfileOnly)).toEqual({ integration: 'test', forwarded: true, events_forwarded: 0, events_total: 0 });
  });

  it('agrees with enrich on every combination above (forwarded exactly when enrich returns a batch)', () => {
    for (const b of [consented, notConsented, screensOnly, profileOnly]) {
      for (const i of [marketingOnly, customOnly, takesProfileOnly]) {
        const p = profileAfter(b);
        expect(forwardingDecision(b, p, i).forwarded, `${b.source_request_id} → ${JSON.stringify(i.filters.eventTypes)}`).toBe(enrich(b, p, i, NOW) !== undefined);
      }
    }
  });
});
