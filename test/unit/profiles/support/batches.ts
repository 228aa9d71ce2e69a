import {
  DEVICE_IDENTITY_TYPES,
  IDENTITY_TYPES,
  type AttributeMap,
  type Batch,
  type BatchEvent,
  type CommonEventData,
  type ConsentDecision,
  type ConsentState,
  type DeviceInfo,
  type IdentityType,
  type UserAttributeValue,
  type UserIdentities,
} from '../../../../src/schema/batch.ts';
import { dict } from '../../../../src/shared/dictionary.ts';

/** Test batches with every field present (as after Avro decode) and only what a test cares about set. */

export const DAY = 24 * 60 * 60 * 1000;
export const T0 = Date.UTC(2025, 0, 1);

export function attrs(entries: Record<string, UserAttributeValue>): AttributeMap {
  return dict(Object.entries(entries));
}

export function identities(entries: Partial<Record<IdentityType, string>> = {}): UserIdentities {
  const out = Object.fromEntries(IDENTITY_TYPES.map((type) => [type, null])) as UserIdentities;
  return { ...out, ...entries };
}

export function deviceInfo(fields: Partial<DeviceInfo> = {}): DeviceInfo {
  const ids = Object.fromEntries(DEVICE_IDENTITY_TYPES.map((type) => [type, null]));
  return {
    ...ids,
    device_application_stamp: null, platform: null, brand: null, product: null, device: null,
    device_manufacturer: null, device_model: null, os_version: null, build_identifier: null,
    screen_height: null, screen_width: null, screen_dpi: null, device_country: null,
    locale_language: null, locale_country: null, network_country: null, network_carrier: null,
    timezone_offset: null, http_header_user_agent: null, is_tablet: null, is_dst: null,
    limit_ad_tracking: null, att_authorization_status: null, att_timestamp_unixtime_ms: null,
    ...fields,
  } as DeviceInfo;
}

export function decision(consented: boolean, at: number): ConsentDecision {
  return { consented, document: null, timestamp_unixtime_ms: at, location: null, hardware_id: null };
}

export function consent(gdpr: Record<string, ConsentDecision>, dataSaleOptOut: ConsentDecision | null = null): ConsentState {
  return { gdpr: dict(Object.entries(gdpr)), ccpa: { data_sale_opt_out: dataSaleOptOut } };
}

function common(at: number | null, custom: AttributeMap = dict()): CommonEventData {
  return {
    timestamp_unixtime_ms: at, source_message_id: null, session_id: null, session_uuid: null,
    session_start_unixtime_ms: null, custom_attributes: custom, location: null,
  };
}

export function customEvent(name: string, at: number | null, custom: AttributeMap = dict()): BatchEvent {
  return { event_type: 'custom_event', data: { ...common(at, custom), event_name: name, custom_event_type: 'other' } };
}

export function screenView(name: string, at: number | null): BatchEvent {
  return { event_type: 'screen_view', data: { ...common(at), screen_name: name, activity_type: null } };
}

export function attributeChange(name: string, value: UserAttributeValue, at: number | null, deleted = false): BatchEvent {
  return {
    event_type: 'user_attribute_change',
    data: { ...common(at), user_attribute_name: name, new: deleted ? null : value, old: null, deleted, is_new_attribute: false },
  };
}

export function identityChange(type: IdentityType, value: string | null, at: number | null): BatchEvent {
  return {
    event_type: 'user_identity_change',
    data: {
      ...common(at),
      new: { identity_type: type, identity: value, timestamp_unixtime_ms: at, created_this_batch: false },
      old: null,
    },
  };
}

export function optOut(isOptedOut: boolean, at: number | null): BatchEvent {
  return { event_type: 'opt_out', data: { ...common(at), is_opted_out: isOptedOut } };
}

export function batch(fields: Partial<Batch> & { id: string }): Batch {
  const { id, ...rest } = fields;
  return {
    source_request_id: id,
    mpid: '42',
    environment: 'production',
    timestamp_unixtime_ms: T0,
    ip: null,
    workspace_id: 'ws1',
    source: 'web',
    events: [],
    user_identities: identities(),
    user_attributes: dict(),
    deleted_user_attributes: [],
    device_info: null,
    application_info: null,
    consent_state: null,
    ...rest,
  };
}
