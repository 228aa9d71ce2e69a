import { z } from 'zod';
import { EVENT_TYPES, IDENTITY_TYPES } from '../schema/batch.ts';
import { IntegrationsConfigError, IntegrationsConfigUnreadableError } from '../profiles/errors.ts';
import type { DocumentPath } from './yaml-location.ts';
import { parseYaml, readYamlFile, type ConfigErrorFactory } from './yaml-document.ts';
import type { DataPointFilter, FilterMode, IntegrationConfig } from '../profiles/integration.ts';

export interface IntegrationsConfig {
  readonly integrations: readonly IntegrationConfig[];
}

export interface ParseIntegrationsOptions {
  /** Shown in errors; the path the text was read from. */
  readonly file: string;
  /** Prefix of default output topics: `<applicationId>.enriched.<name>`. */
  readonly applicationId?: string;
}

export const DEFAULT_APPLICATION_ID = 'profile-stream';

// Kafka's own rule for topic names (legal characters, at most 249 of them).
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
// Integration names become part of topic names, so they follow the same alphabet.
const INTEGRATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

function filterSchema<T extends z.ZodType<string>>(entry: T) {
  return z.strictObject({ mode: z.enum(['allow', 'deny']), list: z.array(entry).default([]) }).optional();
}

// A filter that is not written passes everything: deny-list mode with nothing denied.
const filtersSchema = z
  .strictObject({
    // Event and identity types are a closed set: a typo in an allow list would silently drop data, and
    // in a deny list silently leak it, so unknown ones are rejected here.
    event_types: filterSchema(z.enum(EVENT_TYPES)),
    event_names: filterSchema(z.string().min(1)),
    user_attributes: filterSchema(z.string().min(1)),
    identities: filterSchema(z.enum(IDENTITY_TYPES)),
  })
  .default({});

const consentSchema = z
  .strictObject({
    block_on_ccpa_data_sale_opt_out: z.boolean().default(false),
    require_gdpr_purposes: z.array(z.string().min(1)).default([]),
  })
  .default({ block_on_ccpa_data_sale_opt_out: false, require_gdpr_purposes: [] });

const integrationSchema = z.strictObject({
  name: z.string().regex(INTEGRATION_NAME),
  output_topic: z.string().regex(TOPIC_NAME).optional(),
  forward_profile_only_batches: z.boolean().default(false),
  consent: consentSchema,
  filters: filtersSchema,
});

const fileSchema = z.strictObject({
  integrations: z.array(integrationSchema),
});

type RawFilter = { mode: FilterMode; list: string[] };

/**
 * Parses and validates the text of an integrations file. Throws `IntegrationsConfigError` naming the path
 * in the document, the problem and the line, e.g.
 * `integrations[1].filters.user_attributes.mode: expected allow|deny at topology/integrations.yaml:14`.
 *
 * @example safe
 * const config = parseIntegrationsConfig(text, { file: 'topology/integrations.yaml' });
 * @example unsafe — `JSON.parse`-ing a hand-written object skips validation and the defaults:
 * const config = yaml.parse(text) as IntegrationsConfig; // wrong shape, no output topics
 */
export function parseIntegrationsConfig(text: string, options: ParseIntegrationsOptions): IntegrationsConfig {
  const y = parseYaml(text, options.file, integrationsConfigError, (issue) => describeIssue(issue));
  const { fail } = y;
  const parsed = y.check(fileSchema, y.value, []);

  const applicationId = options.applicationId ?? DEFAULT_APPLICATION_ID;
  const seenNames = new Map<string, number>();
  const seenTopics = new Map<string, number>();
  const integrations = parsed.integrations.map((raw, index): IntegrationConfig => {
    const at: DocumentPath = ['integrations', index];
    const previous = seenNames.get(raw.name);
    if (previous !== undefined) fail([...at, 'name'], `duplicate integration name (also integrations[${previous}])`);
    seenNames.set(raw.name, index);

    const outputTopic = raw.output_topic ?? `${applicationId}.enriched.${raw.name}`;
    if (!TOPIC_NAME.test(outputTopic)) fail([...at, 'name'], `default output topic ${outputTopic} is not a valid topic name`);
    // Two integrations on one topic would interleave differently filtered copies of the same batch.
    const sharedWith = seenTopics.get(outputTopic);
    if (sharedWith !== undefined) {
      fail([...at, raw.output_topic === undefined ? 'name' : 'output_topic'],
        `output topic ${outputTopic} is also used by integrations[${sharedWith}]`);
    }
    seenTopics.set(outputTopic, index);

    return {
      name: raw.name,
      outputTopic,
      forwardProfileOnlyBatches: raw.forward_profile_only_batches,
      consent: {
        blockOnCcpaDataSaleOptOut: raw.consent.block_on_ccpa_data_sale_opt_out,
        requiredGdprPurposes: [...new Set(raw.consent.require_gdpr_purposes.map((p) => p.toLowerCase()))],
      },
      filters: {
        eventTypes: toFilter(raw.filters.event_types),
        eventNames: toFilter(raw.filters.event_names),
        userAttributes: toFilter(raw.filters.user_attributes),
        identities: toFilter(raw.filters.identities),
      },
    };
  });
  return { integrations };
}

/** Reads and validates an integrations file; `file` is also what errors name, so pass it as users wrote it. */
export async function loadIntegrationsConfig(
  file: string,
  options: Omit<ParseIntegrationsOptions, 'file'> = {},
): Promise<IntegrationsConfig> {
  const text = await readYamlFile(file, (f, cause) => new IntegrationsConfigUnreadableError(f, cause));
  return parseIntegrationsConfig(text, { ...options, file });
}

const integrationsConfigError: ConfigErrorFactory = (path, problem, at, options) =>
  new IntegrationsConfigError(path, problem, { file: at.file, line: at.line, column: at.column }, options);

function toFilter(raw: RawFilter | undefined): DataPointFilter {
  if (raw === undefined) return { mode: 'deny', list: new Set() };
  return { mode: raw.mode, list: new Set(raw.list) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `expected ${issue.values.map(String).join('|')}`;
    case 'invalid_format':
      if (issue.format === 'regex' && issue.path.at(-1) === 'name') return `expected letters, digits, '_' or '-' (at most 100), starting with a letter or digit`;
      if (issue.format === 'regex') return `expected a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)`;
      return issue.message;
    case 'too_small':
      return 'must not be empty';
    default:
      return issue.message;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}
