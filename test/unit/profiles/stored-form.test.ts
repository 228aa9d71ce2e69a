import { describe, expect, it } from 'vitest';
import { enrich } from '../../../src/profiles/enrich.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import {
  T0, attrs, batch, consent, customEvent, decision, deviceInfo, identities, identityChange,
} from './support/batches.ts';

// The merge works on the stored form directly; these check its output really is that form, so the
// processor can write it to the store and the enriched batch to its topic without an adapter.
describe('the domain output and the Avro schemas', () => {
  const b = batch({
    id: 'r1',
    events: [customEvent('buy', T0), identityChange('email', null, T0)],
    user_attributes: attrs({ ['__proto__']: 'x', tags: ['a', 'b'], n: 1.5, flag: true, nothing: null }),
    deleted_user_attributes: ['old'],
    user_identities: identities({ customer_id: 'c1' }),
    consent_state: consent({ marketing: decision(true, T0) }, decision(false, T0)),
    device_info: deviceInfo({ device_application_stamp: 'das', att_authorization_status: 'denied', ios_idfv: 'v' }),
  });
  const { profile, recent } = mergeBatch(undefined, b);

  it('encodes a merged profile with schemas/profile-state.avsc and decodes it back equal', () => {
    const type = avroTypeFor(SCHEMAS['profile-state']);
    const decoded = type.fromBuffer(type.toBuffer(profile)) as ProfileState;
    expect(decoded).toEqual(profile);
    expect(mergeBatch(decoded, b, { recent }).changes.duplicate).toBe(true);
  });

  it('encodes an enriched batch with schemas/enriched-batch.avsc', () => {
    const [integration] = parseIntegrationsConfig('integrations:\n  - name: a\n', { file: 'x.yaml' }).integrations;
    const out = enrich(b, profile, integration!, { processedAtMs: T0 })!;
    const type = avroTypeFor(SCHEMAS['enriched-batch']);
    expect(type.fromBuffer(type.toBuffer(out))).toEqual(out);
  });
});
