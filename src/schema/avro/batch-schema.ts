import { DEVICE_IDENTITY_TYPES, EVENT_TYPES, IDENTITY_TYPES } from '../batch.ts';
import type { EventType } from '../batch.ts';
import { EVENT_UNION } from '../avro-type.ts';
import {
  NAMESPACE, arrayOf, attributeValue, enumOf, int64String, mapOf, optional, record, required, withDefault,
} from './avro-fields.ts';
import type { AvroField } from './avro-fields.ts';

/**
 * The input batch schema (schemas/batch.avsc), field for field mParticle's server JSON batch.
 * The TypeScript shape after decode is `Batch` in `../batch.ts`; keep the two in step (the unit
 * tests round-trip generated batches through this schema, which catches drift).
 */

const q = (name: string) => `${NAMESPACE}.${name}`;
const attributes = (doc: string) => withDefault('custom_attributes', mapOf(attributeValue), {}, doc);

const geoLocation = record('GeoLocation', 'Where the device was when the event happened.', [
  required('latitude', 'double', 'Degrees north.'),
  required('longitude', 'double', 'Degrees east.'),
  optional('accuracy', 'double', 'Horizontal accuracy in meters.'),
]);

/** The common event fields; the first record to use them defines GeoLocation, later ones refer to it. */
function commonEventFields(defineTypes: boolean): AvroField[] {
  return [
    optional('timestamp_unixtime_ms', 'long', 'Event time (epoch ms); null means the batch timestamp.'),
    optional('source_message_id', 'string', 'Client-assigned unique id of the event.'),
    optional('session_id', int64String, 'Signed 64-bit session id; a decimal string in profile-stream.'),
    optional('session_uuid', 'string', 'Session UUID as the SDK reports it.'),
    optional('session_start_unixtime_ms', 'long', 'Start time of the session the event belongs to (epoch ms).'),
    attributes('Event attributes: name -> string, number, boolean, string list or null.'),
    optional('location', defineTypes ? geoLocation : q('GeoLocation'), 'Device location at event time.'),
  ];
}

function eventData(name: string, doc: string, fields: AvroField[], defineTypes = false) {
  return record(name, doc, [...commonEventFields(defineTypes), ...fields]);
}

const customEventType = enumOf('CustomEventType', 'mParticle custom event category.', [
  'navigation', 'location', 'search', 'transaction', 'user_content', 'user_preference', 'social', 'media',
  'attribution', 'other', 'unknown',
]);

const product = record('Product', 'A product in a commerce event.', [
  optional('id', 'string', 'Product id / SKU.'),
  optional('name', 'string', 'Product name.'),
  optional('brand', 'string', 'Brand.'),
  optional('category', 'string', 'Category.'),
  optional('variant', 'string', 'Variant (size, colour, ...).'),
  optional('position', 'int', 'Position in a list.'),
  optional('price', 'double', 'Unit price.'),
  optional('quantity', 'double', 'Quantity.'),
  optional('coupon_code', 'string', 'Coupon applied to this product.'),
  optional('total_product_amount', 'double', 'price x quantity, as the sender computed it.'),
  withDefault('custom_attributes', mapOf(attributeValue), {}, 'Product attributes.'),
]);

const productAction = record('ProductAction', 'What the user did with products.', [
  required('action', enumOf('ProductActionType', 'Kind of product action.', [
    'add_to_cart', 'remove_from_cart', 'checkout', 'checkout_option', 'click', 'view_detail', 'purchase',
    'refund', 'add_to_wishlist', 'remove_from_wish_list',
  ]), 'Kind of product action.'),
  optional('checkout_step', 'int', 'Checkout step number.'),
  optional('checkout_options', 'string', 'Checkout options chosen.'),
  optional('product_action_list', 'string', 'List the action happened in.'),
  optional('product_list_source', 'string', 'Source of that list.'),
  optional('transaction_id', 'string', 'Transaction id (purchase, refund).'),
  optional('affiliation', 'string', 'Store or affiliation.'),
  optional('total_amount', 'double', 'Total revenue.'),
  optional('tax_amount', 'double', 'Tax.'),
  optional('shipping_amount', 'double', 'Shipping.'),
  optional('coupon_code', 'string', 'Coupon applied to the transaction.'),
  withDefault('products', arrayOf(product), [], 'Products acted on.'),
]);

const promotionAction = record('PromotionAction', 'A promotion viewed or clicked.', [
  required('action', enumOf('PromotionActionType', 'view or click.', ['view', 'click']), 'view or click.'),
  withDefault('promotions', arrayOf(record('Promotion', 'An internal promotion.', [
    optional('id', 'string', 'Promotion id.'),
    optional('name', 'string', 'Promotion name.'),
    optional('creative', 'string', 'Creative shown.'),
    optional('position', 'string', 'Slot the promotion was shown in.'),
  ])), [], 'Promotions involved.'),
]);

const identityChangeSide = record('IdentityChangeSide', 'One side (old or new) of an identity change.', [
  required('identity_type', enumOf('IdentityType', 'mParticle user identity type.', IDENTITY_TYPES), 'Identity type.'),
  optional('identity', 'string', 'Identity value; null on the new side removes the identity.'),
  optional('timestamp_unixtime_ms', 'long', 'When the identity was set (epoch ms).'),
  withDefault('created_this_batch', 'boolean', false, 'True when the identity first appeared in this batch.'),
]);

/** event_type -> its data record. The order of EVENT_TYPES is the order of the union branches. */
const eventDataSchemas: Record<EventType, ReturnType<typeof record>> = {
  custom_event: eventData('CustomEventData', 'A custom event.', [
    required('event_name', 'string', 'Event name.'),
    withDefault('custom_event_type', customEventType, 'other', 'Event category.'),
  ], true),
  screen_view: eventData('ScreenViewData', 'A screen or page view.', [
    required('screen_name', 'string', 'Screen or page name.'),
    optional('activity_type', 'string', 'Android activity type.'),
  ]),
  commerce_event: eventData('CommerceEventData', 'A commerce event (product action, promotion or impressions).', [
    optional('product_action', productAction, 'Product action, if any.'),
    optional('promotion_action', promotionAction, 'Promotion action, if any.'),
    withDefault('product_impressions', arrayOf(record('ProductImpression', 'Products shown in a list.', [
      optional('product_impression_list', 'string', 'Name of the list.'),
      withDefault('products', arrayOf(q('Product')), [], 'Products shown.'),
    ])), [], 'Product impressions.'),
    optional('currency_code', 'string', 'ISO 4217 currency code.'),
    optional('screen_name', 'string', 'Screen the event happened on.'),
    optional('is_non_interactive', 'boolean', 'True when the user did not trigger the event.'),
    optional('event_name', 'string', 'Optional event name.'),
  ]),
  session_start: eventData('SessionStartData', 'A session started.', []),
  session_end: eventData('SessionEndData', 'A session ended.', [
    optional('session_duration_ms', 'long', 'Session length in milliseconds.'),
  ]),
  user_attribute_change: eventData('UserAttributeChangeData', 'A user attribute was set or removed.', [
    required('user_attribute_name', 'string', 'Attribute name (any string, including __proto__).'),
    withDefault('new', attributeValue, null, 'New value.'),
    withDefault('old', attributeValue, null, 'Previous value as the client knew it.'),
    withDefault('deleted', 'boolean', false, 'True when the attribute was removed.'),
    withDefault('is_new_attribute', 'boolean', false, 'True when the client had no previous value.'),
  ]),
  user_identity_change: eventData('UserIdentityChangeData', 'A user identity was set, changed or removed.', [
    optional('new', identityChangeSide, 'The identity after the change.'),
    optional('old', q('IdentityChangeSide'), 'The identity before the change.'),
  ]),
  opt_out: eventData('OptOutData', 'The user opted out of (or back into) tracking.', [
    required('is_opted_out', 'boolean', 'True when opted out.'),
  ]),
  application_state_transition: eventData('ApplicationStateTransitionData', 'App lifecycle transition.', [
    required('application_transition_type', enumOf('ApplicationTransitionType', 'Lifecycle transition.', [
      'application_initialized', 'application_exit', 'application_background', 'application_foreground',
    ]), 'Which transition.'),
    optional('is_first_run', 'boolean', 'First launch after install.'),
    optional('is_upgrade', 'boolean', 'First launch after an upgrade.'),
    optional('successfully_closed', 'boolean', 'Previous session closed without a crash.'),
    optional('push_notification_payload', 'string', 'Payload of the push that launched the app.'),
    optional('launch_referral', 'string', 'URL or referrer that launched the app.'),
  ]),
  crash_report: eventData('CrashReportData', 'An app crash or handled exception.', [
    withDefault('breadcrumbs', arrayOf('string'), [], 'Breadcrumbs leading to the crash.'),
    optional('class_name', 'string', 'Exception class.'),
    optional('severity', 'string', 'Severity.'),
    optional('message', 'string', 'Exception message.'),
    optional('stack_trace', 'string', 'Stack trace.'),
    optional('exception_handled', 'boolean', 'True when caught by the app.'),
    optional('topmost_context', 'string', 'Top-most screen or activity.'),
    optional('session_number', 'int', 'Session number on the device.'),
  ]),
  push_registration: eventData('PushRegistrationData', 'Push token registered or unregistered.', [
    required('register', 'boolean', 'True to register, false to unregister.'),
    optional('registration_token', 'string', 'The push token.'),
  ]),
  push_message: eventData('PushMessageData', 'A push message sent, received or acted on.', [
    optional('push_message_token', 'string', 'Push token the message went to.'),
    required('push_message_type', enumOf('PushMessageType', 'Push message stage.', ['sent', 'received', 'action']), 'Stage.'),
    optional('message', 'string', 'Message text.'),
    optional('network', 'string', 'Push network (apn, gcm, ...).'),
    optional('application_state', 'string', 'App state on receipt.'),
    optional('action_identifier', 'string', 'Action identifier.'),
    optional('action_name', 'string', 'Action name.'),
  ]),
  breadcrumb: eventData('BreadcrumbData', 'A breadcrumb for crash reports.', [
    optional('label', 'string', 'Breadcrumb label.'),
    optional('session_number', 'int', 'Session number on the device.'),
  ]),
  network_performance: eventData('NetworkPerformanceData', 'A measured network request.', [
    optional('http_verb', 'string', 'HTTP method.'),
    optional('url', 'string', 'Request URL.'),
    optional('time_elapsed', 'long', 'Duration in milliseconds.'),
    optional('bytes_in', 'long', 'Bytes received.'),
    optional('bytes_out', 'long', 'Bytes sent.'),
    optional('response_code', 'int', 'HTTP status.'),
  ]),
};

const eventRecord = record(
  'Event',
  'One event: event_type names the kind, data is the record of that kind (the union branch is chosen by event_type).',
  [
    required('event_type', enumOf('EventType', 'mParticle event type.', EVENT_TYPES), 'Kind of event; selects the data branch.'),
    required('data', EVENT_TYPES.map((t) => eventDataSchemas[t]), 'The event fields, a record of the kind event_type names.'),
  ],
  { logicalType: EVENT_UNION, eventTypes: Object.fromEntries(EVENT_TYPES.map((t) => [t, q(eventDataSchemas[t].name)])) },
);

const userIdentities = record('UserIdentities', 'Known user identities; null means not sent in this batch.',
  IDENTITY_TYPES.map((t) => optional(t, 'string', `The user's ${t} identity.`)));

const consentDecision = record('ConsentDecision', 'One consent decision.', [
  required('consented', 'boolean', 'True when consent was given (for CCPA: true means opted out of data sale).'),
  optional('document', 'string', 'Consent document / version the user agreed to.'),
  required('timestamp_unixtime_ms', 'long', 'When the decision was made (epoch ms); newer decisions win.'),
  optional('location', 'string', 'Where the decision was collected (URL, screen).'),
  optional('hardware_id', 'string', 'Device the decision was collected on.'),
]);

export const consentStateSchema = record('ConsentState', 'GDPR and CCPA consent.', [
  withDefault('gdpr', mapOf(consentDecision), {}, 'GDPR purpose name -> decision.'),
  withDefault('ccpa', record('CcpaConsent', 'CCPA consent.', [
    optional('data_sale_opt_out', q('ConsentDecision'), 'Data sale opt-out decision.'),
  ]), { data_sale_opt_out: null }, 'CCPA consent.'),
]);

export const deviceInfoSchema = record('DeviceInfo', 'The device the batch came from, with its device identities.', [
  ...DEVICE_IDENTITY_TYPES.map((t) => optional(t, 'string', `Device identity ${t}${t === 'ios_advertising_id' ? ' (IDFA)' : ''}.`)),
  optional('device_application_stamp', 'string', 'mParticle per-install stamp; profiles key devices by it.'),
  optional('platform', 'string', 'iOS, Android, web, tvOS, roku, ...'),
  optional('brand', 'string', 'Device brand.'),
  optional('product', 'string', 'Device product name.'),
  optional('device', 'string', 'Device name.'),
  optional('device_manufacturer', 'string', 'Manufacturer.'),
  optional('device_model', 'string', 'Model.'),
  optional('os_version', 'string', 'OS version.'),
  optional('build_identifier', 'string', 'OS build identifier.'),
  optional('screen_height', 'int', 'Screen height in pixels.'),
  optional('screen_width', 'int', 'Screen width in pixels.'),
  optional('screen_dpi', 'int', 'Screen density.'),
  optional('device_country', 'string', 'Device country.'),
  optional('locale_language', 'string', 'Locale language.'),
  optional('locale_country', 'string', 'Locale country.'),
  optional('network_country', 'string', 'Mobile network country.'),
  optional('network_carrier', 'string', 'Mobile carrier.'),
  optional('timezone_offset', 'int', 'Offset from UTC in hours.'),
  optional('http_header_user_agent', 'string', 'User agent of the web client.'),
  optional('is_tablet', 'boolean', 'True for tablets.'),
  optional('is_dst', 'boolean', 'Daylight saving time in effect.'),
  optional('limit_ad_tracking', 'boolean', 'The OS limit-ad-tracking flag.'),
  optional('att_authorization_status', enumOf('AttAuthorizationStatus', 'Apple ATT status.', [
    'authorized', 'denied', 'not_determined', 'restricted',
  ]), 'Apple App Tracking Transparency status.'),
  optional('att_timestamp_unixtime_ms', 'long', 'When the ATT status was last set (epoch ms).'),
]);

export const applicationInfoSchema = record('ApplicationInfo', 'The app that sent the batch.', [
  optional('application_name', 'string', 'App name.'),
  optional('application_version', 'string', 'App version.'),
  optional('application_build_number', 'string', 'App build number.'),
  optional('package', 'string', 'Bundle id / package name.'),
  optional('os', 'string', 'OS family of the build (IOS, Android, web, ...).'),
  optional('install_referrer', 'string', 'Install referrer / attribution given by the store or SDK.'),
  optional('is_upgrade', 'boolean', 'True when this launch followed an upgrade.'),
]);

/** The complete input batch record; other schemas embed it, which defines every type above once. */
export const batchSchema = record('Batch', 'A batch of one user\'s events and state from one input source (mParticle server JSON batch).', [
  optional('source_request_id', 'string', 'Client-chosen request id; the batch id used for replay dedup.'),
  optional('mpid', int64String, 'mParticle id of the user (signed 64-bit; decimal string in profile-stream). Null only when identities are given.'),
  withDefault('environment', enumOf('Environment', 'Data environment.', ['production', 'development']), 'production', 'Data environment.'),
  optional('timestamp_unixtime_ms', 'long', 'Batch time (epoch ms); events without a time inherit it.'),
  optional('ip', 'string', 'Client IP address.'),
  required('workspace_id', 'string', 'Workspace the batch belongs to; attributes, consent and devices are per workspace.'),
  required('source', 'string', 'Input source the batch came from (the raw topic\'s source name, e.g. web, ios).'),
  withDefault('events', arrayOf(eventRecord), [], 'Events of the batch, in client order.'),
  withDefault('user_identities', userIdentities, {}, 'User identities sent with the batch.'),
  withDefault('user_attributes', mapOf(attributeValue), {}, 'User attributes to set: name -> value.'),
  withDefault('deleted_user_attributes', arrayOf('string'), [], 'Names of user attributes to remove.'),
  optional('device_info', deviceInfoSchema, 'Device the batch came from.'),
  optional('application_info', applicationInfoSchema, 'App the batch came from.'),
  optional('consent_state', consentStateSchema, 'Consent decisions sent with the batch.'),
]);
