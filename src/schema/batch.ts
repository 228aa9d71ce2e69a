/**
 * The input batch as the application sees it after Avro decode (schemas/batch.avsc).
 *
 * Field names follow mParticle's server JSON batch reference, so a batch a user already sends to
 * mParticle converts field for field (see `json-batch.ts`). Shape rules that hold for every type here:
 *
 * - Every field is present after decode. Optional fields are `T | null`, never `undefined`
 *   (Avro has no "missing", only defaults). Build records from JSON with `fromJsonBatch` rather
 *   than by hand, so defaults are filled in one place.
 * - 64-bit ids (`mpid`, `session_id`) are strings of decimal digits (`"-8329043290432"` is allowed:
 *   MPIDs are signed longs). JSON numbers and JS numbers lose precision above 2^53, and a string is
 *   what Kafka keys and HTTP paths carry anyway. Other longs (timestamps, durations) are JS numbers:
 *   epoch milliseconds stay far below 2^53.
 * - Attribute maps (`user_attributes`, `custom_attributes`) are null-prototype objects: attribute
 *   names are data, so `__proto__` or `constructor` are ordinary keys. Never index them with `in` or
 *   read them through `{}`-prototype helpers; use `Object.hasOwn` / `Object.keys`.
 * - Numbers in attribute values are Avro doubles (one numeric branch keeps the union unambiguous).
 */

/** A signed 64-bit MPID as a string of decimal digits, e.g. `"8723478234823482374"`. */
export type Mpid = string;

/** One user or custom attribute value: mParticle allows string, number, boolean, string list, null. */
export type UserAttributeValue = string | number | boolean | string[] | null;

/** Attribute name -> value. A null-prototype object after decode (see the module comment). */
export type AttributeMap = { [name: string]: UserAttributeValue };

/** Data environment the batch belongs to; profiles are kept apart per environment upstream. */
export type Environment = 'production' | 'development';

/** The user identity types mParticle defines, as they appear as keys of `user_identities`. */
export const IDENTITY_TYPES = [
  'customer_id',
  'email',
  'other',
  'other_id_2',
  'other_id_3',
  'other_id_4',
  'other_id_5',
  'other_id_6',
  'other_id_7',
  'other_id_8',
  'other_id_9',
  'other_id_10',
  'mobile_number',
  'phone_number_2',
  'phone_number_3',
  'facebook',
  'facebook_custom_audience_id',
  'google',
  'twitter',
  'microsoft',
  'yahoo',
  'alias',
] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** Known user identities of the batch; a null field means "not sent" (not "remove"). */
export type UserIdentities = { [K in IdentityType]: string | null };

/** Apple App Tracking Transparency status, as mParticle names it. */
export type AttAuthorizationStatus = 'authorized' | 'denied' | 'not_determined' | 'restricted';

/** The device identity fields of `device_info`: what identifies this device to ad and push networks. */
export const DEVICE_IDENTITY_TYPES = [
  'ios_advertising_id',
  'ios_idfv',
  'android_advertising_id',
  'android_uuid',
  'push_token',
  'roku_advertising_id',
  'roku_publisher_id',
  'microsoft_advertising_id',
  'microsoft_publisher_id',
  'fire_advertising_id',
  'amp_id',
] as const;
export type DeviceIdentityType = (typeof DEVICE_IDENTITY_TYPES)[number];

/**
 * The device the batch came from. Device identities are flat fields, as in mParticle's reference
 * (`ios_advertising_id` is the IDFA, `ios_idfv` the IDFV).
 */
export type DeviceInfo = { [K in DeviceIdentityType]: string | null } & {
  /** mParticle's per-install stamp; profiles key devices by it. */
  device_application_stamp: string | null;
  platform: string | null;
  brand: string | null;
  product: string | null;
  device: string | null;
  device_manufacturer: string | null;
  device_model: string | null;
  os_version: string | null;
  build_identifier: string | null;
  screen_height: number | null;
  screen_width: number | null;
  screen_dpi: number | null;
  device_country: string | null;
  locale_language: string | null;
  locale_country: string | null;
  network_country: string | null;
  network_carrier: string | null;
  timezone_offset: number | null;
  http_header_user_agent: string | null;
  is_tablet: boolean | null;
  is_dst: boolean | null;
  limit_ad_tracking: boolean | null;
  att_authorization_status: AttAuthorizationStatus | null;
  att_timestamp_unixtime_ms: number | null;
};

export type ApplicationInfo = {
  application_name: string | null;
  application_version: string | null;
  application_build_number: string | null;
  package: string | null;
  /** Operating system family of the app build (`IOS`, `Android`, `web`, ...). */
  os: string | null;
  /** Install referrer / attribution string given by the store or SDK. */
  install_referrer: string | null;
  is_upgrade: boolean | null;
};

/** One consent decision (a GDPR purpose, or CCPA data-sale opt-out). */
export type ConsentDecision = {
  consented: boolean;
  document: string | null;
  timestamp_unixtime_ms: number;
  location: string | null;
  hardware_id: string | null;
};

export type ConsentState = {
  /** Purpose name -> decision. Null-prototype object, like attribute maps. */
  gdpr: { [purpose: string]: ConsentDecision };
  ccpa: { data_sale_opt_out: ConsentDecision | null };
};

export type GeoLocation = { latitude: number; longitude: number; accuracy: number | null };

/** Fields every event carries (mParticle's "common event data"). */
export type CommonEventData = {
  /** Event time; null means "the batch's timestamp_unixtime_ms". */
  timestamp_unixtime_ms: number | null;
  /** Client-assigned unique id of the event, for dedup downstream. */
  source_message_id: string | null;
  /** Signed 64-bit session id as decimal digits (see module comment). */
  session_id: string | null;
  session_uuid: string | null;
  session_start_unixtime_ms: number | null;
  custom_attributes: AttributeMap;
  location: GeoLocation | null;
};

export type CustomEventType =
  | 'navigation'
  | 'location'
  | 'search'
  | 'transaction'
  | 'user_content'
  | 'user_preference'
  | 'social'
  | 'media'
  | 'attribution'
  | 'other'
  | 'unknown';

export type CustomEventData = CommonEventData & { event_name: string; custom_event_type: CustomEventType };
export type ScreenViewData = CommonEventData & { screen_name: string; activity_type: string | null };

export type Product = {
  id: string | null;
  name: string | null;
  brand: string | null;
  category: string | null;
  variant: string | null;
  position: number | null;
  price: number | null;
  quantity: number | null;
  coupon_code: string | null;
  total_product_amount: number | null;
  custom_attributes: AttributeMap;
};

export type ProductActionType =
  | 'add_to_cart'
  | 'remove_from_cart'
  | 'checkout'
  | 'checkout_option'
  | 'click'
  | 'view_detail'
  | 'purchase'
  | 'refund'
  | 'add_to_wishlist'
  | 'remove_from_wish_list';

export type ProductAction = {
  action: ProductActionType;
  checkout_step: number | null;
  checkout_options: string | null;
  product_action_list: string | null;
  product_list_source: string | null;
  transaction_id: string | null;
  affiliation: string | null;
  total_amount: number | null;
  tax_amount: number | null;
  shipping_amount: number | null;
  coupon_code: string | null;
  products: Product[];
};

export type Promotion = { id: string | null; name: string | null; creative: string | null; position: string | null };
export type PromotionAction = { action: 'view' | 'click'; promotions: Promotion[] };
export type ProductImpression = { product_impression_list: string | null; products: Product[] };

export type CommerceEventData = CommonEventData & {
  product_action: ProductAction | null;
  promotion_action: PromotionAction | null;
  product_impressions: ProductImpression[];
  currency_code: string | null;
  screen_name: string | null;
  is_non_interactive: boolean | null;
  event_name: string | null;
};

export type SessionStartData = CommonEventData;
export type SessionEndData = CommonEventData & { session_duration_ms: number | null };

export type UserAttributeChangeData = CommonEventData & {
  user_attribute_name: string;
  new: UserAttributeValue;
  old: UserAttributeValue;
  /** True when the attribute was removed; the profile writes a tombstone at the event's time. */
  deleted: boolean;
  is_new_attribute: boolean;
};

export type IdentityChangeSide = {
  identity_type: IdentityType;
  /** Null on the `new` side removes the identity from the profile. */
  identity: string | null;
  timestamp_unixtime_ms: number | null;
  created_this_batch: boolean;
};

export type UserIdentityChangeData = CommonEventData & {
  new: IdentityChangeSide | null;
  old: IdentityChangeSide | null;
};

export type OptOutData = CommonEventData & { is_opted_out: boolean };

export type ApplicationTransitionType =
  | 'application_initialized'
  | 'application_exit'
  | 'application_background'
  | 'application_foreground';

export type ApplicationStateTransitionData = CommonEventData & {
  application_transition_type: ApplicationTransitionType;
  is_first_run: boolean | null;
  is_upgrade: boolean | null;
  successfully_closed: boolean | null;
  push_notification_payload: string | null;
  launch_referral: string | null;
};

export type CrashReportData = CommonEventData & {
  breadcrumbs: string[];
  class_name: string | null;
  severity: string | null;
  message: string | null;
  stack_trace: string | null;
  exception_handled: boolean | null;
  topmost_context: string | null;
  session_number: number | null;
};

export type PushRegistrationData = CommonEventData & { register: boolean; registration_token: string | null };

export type PushMessageData = CommonEventData & {
  push_message_token: string | null;
  push_message_type: 'sent' | 'received' | 'action';
  message: string | null;
  network: string | null;
  application_state: string | null;
  action_identifier: string | null;
  action_name: string | null;
};

export type BreadcrumbData = CommonEventData & { label: string | null; session_number: number | null };

export type NetworkPerformanceData = CommonEventData & {
  http_verb: string | null;
  url: string | null;
  time_elapsed: number | null;
  bytes_in: number | null;
  bytes_out: number | null;
  response_code: number | null;
};

/** event_type -> the type of its `data`. The single place that lists event types. */
export interface EventDataByType {
  custom_event: CustomEventData;
  screen_view: ScreenViewData;
  commerce_event: CommerceEventData;
  session_start: SessionStartData;
  session_end: SessionEndData;
  user_attribute_change: UserAttributeChangeData;
  user_identity_change: UserIdentityChangeData;
  opt_out: OptOutData;
  application_state_transition: ApplicationStateTransitionData;
  crash_report: CrashReportData;
  push_registration: PushRegistrationData;
  push_message: PushMessageData;
  breadcrumb: BreadcrumbData;
  network_performance: NetworkPerformanceData;
}

export type EventType = keyof EventDataByType;

export const EVENT_TYPES = [
  'custom_event',
  'screen_view',
  'commerce_event',
  'session_start',
  'session_end',
  'user_attribute_change',
  'user_identity_change',
  'opt_out',
  'application_state_transition',
  'crash_report',
  'push_registration',
  'push_message',
  'breadcrumb',
  'network_performance',
] as const satisfies readonly EventType[];

/** One event: a discriminated union on `event_type`, so `switch (e.event_type)` narrows `e.data`. */
export type BatchEvent = { [K in EventType]: { event_type: K; data: EventDataByType[K] } }[EventType];

/** The event of one given type, e.g. `EventOf<'custom_event'>`. */
export type EventOf<K extends EventType> = Extract<BatchEvent, { event_type: K }>;

/** One input batch: a user's events and state from one source, keyed by MPID on the raw topic. */
export type Batch = {
  /** Client-chosen id of the request; the batch id for replay dedup. Null when the sender gave none. */
  source_request_id: string | null;
  /** The user; null only when identities are given and resolution happens upstream. */
  mpid: Mpid | null;
  environment: Environment;
  /** Batch time; events without their own timestamp inherit it. */
  timestamp_unixtime_ms: number | null;
  ip: string | null;
  /** Workspace the batch belongs to; attributes, consent and devices are kept per workspace. */
  workspace_id: string;
  /** Which input it came from (the raw topic's source name, e.g. `web`, `ios`). */
  source: string;
  events: BatchEvent[];
  user_identities: UserIdentities;
  user_attributes: AttributeMap;
  deleted_user_attributes: string[];
  device_info: DeviceInfo | null;
  application_info: ApplicationInfo | null;
  consent_state: ConsentState | null;
};
