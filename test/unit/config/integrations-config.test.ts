import { describe, expect, it } from 'vitest';
import { IntegrationsConfigError } from '../../../src/profiles/errors.ts';
import { loadIntegrationsConfig, parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';

const FILE = 'topology/integrations.yaml';

function parse(text: string, applicationId?: string) {
  return parseIntegrationsConfig(text, { file: FILE, ...(applicationId === undefined ? {} : { applicationId }) });
}

function errorOf(text: string): IntegrationsConfigError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof IntegrationsConfigError) return error;
    throw error;
  }
  throw new Error('expected the file to be rejected');
}

describe('integrations config', () => {
  it('loads the example file shipped in topology/', async () => {
    const config = await loadIntegrationsConfig(FILE);
    expect(config.integrations.map((i) => [i.name, i.outputTopic])).toEqual([
      ['analytics', 'profile-stream.enriched.analytics'],
      ['ads', 'profile-stream.enriched.ads'],
    ]);
    const ads = config.integrations[1]!;
    expect(ads.filters.userAttributes.mode).toBe('allow');
    expect([...ads.filters.userAttributes.list]).toContain('favourite_drink');
    expect(ads.consent).toEqual({ blockOnCcpaDataSaleOptOut: true, requiredGdprPurposes: ['marketing'] });
    expect(config.integrations[0]!.forwardProfileOnlyBatches).toBe(true);
  });

  it('fills defaults: output topic from the application id, pass-everything filters, no consent rule, no profile-only batches', () => {
    const [only] = parse('integrations:\n  - name: crm\n', 'shop').integrations;
    expect(only).toEqual({
      name: 'crm',
      outputTopic: 'shop.enriched.crm',
      forwardProfileOnlyBatches: false,
      consent: { blockOnCcpaDataSaleOptOut: false, requiredGdprPurposes: [] },
      filters: {
        eventTypes: { mode: 'deny', list: new Set() },
        eventNames: { mode: 'deny', list: new Set() },
        userAttributes: { mode: 'deny', list: new Set() },
        identities: { mode: 'deny', list: new Set() },
      },
    });
  });

  it('names the path, the expected values and the line of a bad filter mode', () => {
    const text = [
      'integrations:', //                       1
      '  - name: a', //                          2
      '  - name: b', //                          3
      '    filters:', //                         4
      '      user_attributes:', //               5
      '        mode: alow', //                   6
      '        list: [tier]', //                 7
    ].join('\n');
    const error = errorOf(text);
    expect(error.code).toBe('PS_ERR_INTEGRATIONS_CONFIG_INVALID');
    expect(error.path).toBe('integrations[1].filters.user_attributes.mode');
    expect(error.location).toEqual({ file: FILE, line: 6, column: 15 });
    expect(error.message).toBe(
      'integrations[1].filters.user_attributes.mode: expected allow|deny at topology/integrations.yaml:6',
    );
  });

  it('points an unknown key at the key itself, so typos of optional fields do not pass silently', () => {
    const error = errorOf('integrations:\n  - name: a\n    forward_profile_only_batch: true\n');
    expect(error.path).toBe('integrations[0].forward_profile_only_batch');
    expect(error.problem).toBe('unknown key');
    expect(error.location.line).toBe(3);
  });

  it('points a missing required field at the map it belongs in', () => {
    const error = errorOf('integrations:\n  - output_topic: x\n');
    expect(error.path).toBe('integrations[0].name');
    expect(error.problem).toMatch(/^required/);
    expect(error.location.line).toBe(2);
  });

  it('rejects event and identity types that do not exist', () => {
    const events = errorOf('integrations:\n  - name: a\n    filters:\n      event_types: { mode: allow, list: [custom_evnt] }\n');
    expect(events.path).toBe('integrations[0].filters.event_types.list[0]');
    expect(events.problem).toContain('custom_event');
    expect(events.location.line).toBe(4);

    const identities = errorOf('integrations:\n  - name: a\n    filters:\n      identities: { mode: deny, list: [e-mail] }\n');
    expect(identities.path).toBe('integrations[0].filters.identities.list[0]');
  });

  it('rejects duplicate names and two integrations writing one topic', () => {
    const names = errorOf('integrations:\n  - name: a\n  - name: a\n');
    expect(names.path).toBe('integrations[1].name');
    expect(names.location.line).toBe(3);

    const topics = errorOf('integrations:\n  - name: a\n  - name: b\n    output_topic: profile-stream.enriched.a\n');
    expect(topics.path).toBe('integrations[1].output_topic');
    expect(topics.problem).toContain('integrations[0]');
  });

  it('rejects names and topics Kafka would not accept', () => {
    expect(errorOf('integrations:\n  - name: "my crm"\n').path).toBe('integrations[0].name');
    expect(errorOf('integrations:\n  - name: a\n    output_topic: "a/b"\n').path).toBe('integrations[0].output_topic');
  });

  it('reports YAML syntax errors and wrong types with their line', () => {
    const syntax = errorOf('integrations:\n  - name: a\n    filters: [\n');
    expect(syntax.code).toBe('PS_ERR_INTEGRATIONS_CONFIG_INVALID');
    expect(syntax.problem).toMatch(/^invalid YAML/);
    expect(syntax.location.line).toBeGreaterThanOrEqual(3);

    const type = errorOf('integrations:\n  - name: a\n    forward_profile_only_batches: "yes"\n');
    expect(type.path).toBe('integrations[0].forward_profile_only_batches');
    expect(type.problem).toBe('expected boolean, got string "yes"');
    expect(type.location.line).toBe(3);

    expect(errorOf('').path).toBe('integrations');
  });

  it('lower-cases GDPR purposes, as batches carry them', () => {
    const [only] = parse('integrations:\n  - name: a\n    consent: { require_gdpr_purposes: [Marketing, marketing] }\n').integrations;
    expect(only!.consent.requiredGdprPurposes).toEqual(['marketing']);
  });

  it('says which file could not be read', async () => {
    await expect(loadIntegrationsConfig('topology/nope.yaml')).rejects.toMatchObject({
      code: 'PS_ERR_INTEGRATIONS_CONFIG_UNREADABLE',
      file: 'topology/nope.yaml',
    });
  });
});
