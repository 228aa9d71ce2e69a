/**
 * `allow`: only the listed data points pass; anything new is held back until someone lists it
 * ("send new data points by default" off). `deny`: everything passes except the listed ones, so new
 * event names or attributes flow without a config change ("send new data points by default" on).
 */
export type FilterMode = 'allow' | 'deny';

export interface DataPointFilter {
  readonly mode: FilterMode;
  readonly list: ReadonlySet<string>;
}

export interface IntegrationFilters {
  /** Matched against `event_type` (`custom_event`, `screen_view`, ...). */
  readonly eventTypes: DataPointFilter;
  /** Matched against an event's name (custom event name, screen name); events without a name pass. */
  readonly eventNames: DataPointFilter;
  /** Matched against user attribute names, in the batch and in the profile. */
  readonly userAttributes: DataPointFilter;
  /** Matched against identity types (`customer_id`, `email`, ...). */
  readonly identities: DataPointFilter;
}

export interface ConsentRules {
  /** When true, a user whose CCPA `data_sale_opt_out` is consented (opted out) gets nothing forwarded. */
  readonly blockOnCcpaDataSaleOptOut: boolean;
  /** GDPR purposes (lower case) that must all be consented in the merged profile before anything is forwarded. */
  readonly requiredGdprPurposes: readonly string[];
}

export interface IntegrationConfig {
  readonly name: string;
  readonly outputTopic: string;
  readonly filters: IntegrationFilters;
  readonly consent: ConsentRules;
  /** Batches without events update the profile; most integrations ignore them, so by default they are not sent. */
  readonly forwardProfileOnlyBatches: boolean;
}
