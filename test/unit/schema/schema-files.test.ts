import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import { EVENT_TYPES } from '../../../src/schema/batch.ts';
import { SCHEMAS, schemaFileText } from '../../../src/schema/schema-catalog.ts';
import type { SchemaName } from '../../../src/schema/schema-catalog.ts';

const names = Object.keys(SCHEMAS) as SchemaName[];
const fileText = (name: SchemaName) => readFileSync(new URL(`../../../schemas/${name}.avsc`, import.meta.url), 'utf8');

/** A record of the given schema with every defaulted field filled (avsc's clone applies defaults). */
const sample = (name: SchemaName, partial: object) => avroTypeFor(fileText(name)).clone(partial, {});

function fieldsWithoutDoc(node: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(node)) node.forEach((n, i) => fieldsWithoutDoc(n, `${path}|${i}`, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'record') {
      for (const f of o.fields as { name: string; doc?: string; type: unknown }[]) {
        if (!f.doc) out.push(`${path}.${f.name}`);
        fieldsWithoutDoc(f.type, `${path}.${f.name}`, out);
      }
    }
    fieldsWithoutDoc(o.items, path, out);
    fieldsWithoutDoc(o.values, path, out);
  }
  return out;
}

const batch = {
  mpid: '9223372036854775807', workspace_id: 'ws1', source: 'ios', source_request_id: 'r1',
  user_attributes: Object.assign(Object.create(null), { ['__proto__']: 'kept', constructor: ['a', 'b'], age: 42, vip: true, gone: null }),
  user_identities: { customer_id: 'c1', email: 'a@b.c' },
  events: EVENT_TYPES.map((event_type) => ({
    event_type,
    data: {
      custom_event: { event_name: 'tap', custom_event_type: 'navigation' }, screen_view: { screen_name: 'home' },
      commerce_event: { product_action: { action: 'purchase', products: [{ id: 'p1', price: 9.5 }] } },
      session_start: {}, session_end: { session_duration_ms: 1000 },
      user_attribute_change: { user_attribute_name: 'drink', new: 'Coke' },
      user_identity_change: { new: { identity_type: 'email', identity: 'x@y.z' } }, opt_out: { is_opted_out: true },
      application_state_transition: { application_transition_type: 'application_foreground' }, crash_report: {},
      push_registration: { register: true }, push_message: { push_message_type: 'received' }, breadcrumb: {}, network_performance: {},
    }[event_type],
  })),
  device_info: { ios_advertising_id: 'idfa', att_authorization_status: 'authorized', device_application_stamp: 'das' },
  consent_state: { gdpr: { marketing: { consented: true, timestamp_unixtime_ms: 5 } }, ccpa: { data_sale_opt_out: { consented: false, timestamp_unixtime_ms: 6 } } },
};

describe('schemas/*.avsc', () => {
  it.each(names)('%s.avsc is what the schema module writes (regenerate with write-schema-files.ts)', (name) => {
    expect(fileText(name)).toBe(schemaFileText(name));
  });

  it.each(names)('%s.avsc parses with plain avsc, as any Avro reader would', (name) => {
    expect(() => avro.Type.forSchema(JSON.parse(fileText(name)))).not.toThrow();
  });

  it.each(names)('%s.avsc documents every field and is in the dev.profilestream namespace', (name) => {
    const schema = JSON.parse(fileText(name));
    expect(fieldsWithoutDoc(schema, '$', [])).toEqual([]);
    expect(schema.namespace).toBe('dev.profilestream');
  });

  it('round-trips a batch with every event type, a max-int64 MPID and prototype-named attributes', () => {
    const type = avroTypeFor(fileText('batch'));
    const value = sample('batch', batch);
    const back = type.fromBuffer(type.toBuffer(value));
    expect(back).toEqual(value);
    expect(back.mpid).toBe('9223372036854775807');
    expect(back.events.map((e: { event_type: string }) => e.event_type)).toEqual([...EVENT_TYPES]);
    expect(back.events[0].data.event_name).toBe('tap');
    expect(Object.getPrototypeOf(back.user_attributes)).toBeNull();
    expect(Object.keys(back.user_attributes)).toEqual(['__proto__', 'constructor', 'age', 'vip', 'gone']);
    expect(back.user_attributes['__proto__']).toBe('kept');
  });

  it('rejects an event whose data does not fit its event_type', () => {
    const type = avroTypeFor(fileText('batch'));
    const value = sample('batch', batch);
    value.events[0] = { event_type: 'custom_event', data: { screen_name: 'home' } };
    expect(type.isValid(value)).toBe(false);
  });

  it('reads old batches with a newer reader schema that adds an optional field', () => {
    const writer = avroTypeFor(fileText('batch'));
    const evolved = JSON.parse(fileText('batch'));
    evolved.fields.push({ name: 'country', type: ['null', 'string'], default: null, doc: 'new' });
    const reader = avroTypeFor(evolved);
    const back = reader.fromBuffer(writer.toBuffer(sample('batch', batch)), reader.createResolver(writer));
    expect(back.country).toBeNull();
    expect(back.events[1]).toMatchObject({ event_type: 'screen_view', data: { screen_name: 'home' } });
  });

  const profile = {
    mpid: '-42', created_timestamp_ms: 1, last_seen_timestamp_ms: 2,
    user_identities: { email: { value: 'a@b.c', updated_ms: 1, source: 'web', batch_id: 'b1' } },
    workspaces: {
      ws1: {
        user_attributes: { drink: { value: 'Coke', updated_ms: 2, source: 'ios', batch_id: 'b2' } },
        attribute_tombstones: { old: { deleted_ms: 3, source: 'web', batch_id: null } },
        devices: { das: { device_info: {}, device_identities: { ios_advertising_id: 'idfa' }, first_seen_ms: 1, last_seen_ms: 2, att_status: 'denied' } },
        calculated_attributes: { purchases: { value: 3, updated_ms: 2 } },
      },
    },
    audience_memberships: { a1: { added_ms: 1, expiration_ms: 10 } },
  };
  const samples: Record<Exclude<SchemaName, 'batch'>, object> = {
    'profile-state': profile,
    'enriched-batch': {
      batch, integration: 'braze', processed_timestamp_ms: 3,
      profile: { mpid: '1', created_timestamp_ms: 1, last_seen_timestamp_ms: 2, user_attributes: { a: { value: 1, updated_ms: 1, source: 'web' } },
        audience_memberships: [{ audience_id: 'a1', added_ms: 1 }], device_info: { ios_idfv: 'v' } },
    },
    'history-record': { batch, processed_timestamp_ms: 3, profile },
    'audience-membership-change': {
      mpid: '1', user_identities: [{ type: 'email', value: 'a@b.c' }], device_identities: [{ type: 'ios_advertising_id', value: 'i' }],
      audiences: [{ audience_id: 'a1', audience_name: 'Buyers', action: 'add' }], timestamp_ms: 4,
    },
  };
  it.each(Object.keys(samples) as (keyof typeof samples)[])('round-trips a %s sample', (name) => {
    const type = avroTypeFor(fileText(name));
    const value = sample(name, samples[name]);
    expect(type.fromBuffer(type.toBuffer(value))).toEqual(value);
  });
});
