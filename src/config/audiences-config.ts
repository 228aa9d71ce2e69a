import { z } from 'zod';
import { IDENTITY_TYPES, type IdentityType } from '../schema/batch.ts';
import type { DocumentPath } from './yaml-location.ts';
import { contentKey, contentVersion } from '../audiences/content-hash.ts';
import { audiencesReferenced, type Criterion } from '../audiences/audience-criteria.ts';
import type { AudienceDefinition } from '../audiences/audience-definition.ts';
import type { DateRange } from '../audiences/date-range.ts';
import { eventConditionSchema } from '../audiences/event-condition.ts';
import { valueConditionSchema } from '../audiences/value-condition.ts';
import { AudiencesConfigUnreadableError } from '../audiences/errors.ts';
import { audiencesConfigError, conditionWording } from './audience-config-problems.ts';
import { parseDate, parseYaml, readOptionalYamlFile, type YamlDocument } from './yaml-document.ts';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const audienceSchema = z.strictObject({
  id: z.union([z.string().regex(ID, 'letters, digits, "_", ".", "-" (at most 100)'), z.number().int().nonnegative()]).transform(String),
  name: z.string().min(1).max(200),
  workspace: z.union([z.string().min(1), z.number().int()]).transform(String),
  criteria: z.unknown(),
});
const fileSchema = z.strictObject({ audiences: z.array(z.unknown()).default([]) });

const LEAF_KEYS = [
  'all', 'any', 'not', 'event', 'user_attribute', 'calculated_attribute', 'identity_exists',
  'gdpr_consented', 'ccpa_data_sale_opted_out', 'member_of', 'first_seen_before', 'first_seen_after',
] as const;

export interface AudiencesConfigOptions {
  /**
   * The calculated attributes defined (calculated-attributes.yaml). When given, a `calculated_attribute`
   * condition must name one of them in the audience's workspace: otherwise it would never match, silently.
   */
  readonly calculatedAttributes?: readonly { readonly name: string; readonly workspace: string }[];
}

/**
 * Parses `topology/audiences.yaml`. Audiences may refer to others (`member_of`); they are returned in
 * an order where every audience comes after those it refers to, and a cycle is an error.
 */
export function parseAudiencesConfig(text: string, file: string, options: AudiencesConfigOptions = {}): AudienceDefinition[] {
  const y = parseYaml(text, file, audiencesConfigError, conditionWording);
  const top = y.check(fileSchema, y.value, []);
  const seen = new Map<string, number>();
  const audiences = top.audiences.map((raw, i): AudienceDefinition => {
    const at = ['audiences', i];
    const a = y.check(audienceSchema, raw, at);
    if (seen.has(a.id)) y.fail([...at, 'id'], `duplicate audience id (also audiences[${seen.get(a.id)}])`);
    seen.set(a.id, i);
    if (a.criteria === undefined) y.fail(at, 'required (criteria)');
    const criteria = parseCriterion(y, a.criteria, [...at, 'criteria']);
    if (options.calculatedAttributes !== undefined) checkCalculatedAttributes(y, criteria, [...at, 'criteria'], a.workspace, options.calculatedAttributes);
    return { id: a.id, name: a.name, workspace: a.workspace, criteria, version: contentVersion(raw) };
  });
  return dependencyOrder(y, audiences, seen);
}

export async function loadAudiencesConfig(file: string, options: AudiencesConfigOptions = {}): Promise<AudienceDefinition[]> {
  const text = await readOptionalYamlFile(file, (f, cause) => new AudiencesConfigUnreadableError(f, cause));
  return text === undefined ? [] : parseAudiencesConfig(text, file, options);
}

/** Fails at the first `calculated_attribute` condition (path of its entry) naming no definition of the workspace. */
function checkCalculatedAttributes(y: YamlDocument, c: Criterion, at: DocumentPath, workspace: string, defined: NonNullable<AudiencesConfigOptions['calculatedAttributes']>): void {
  switch (c.kind) {
    case 'all':
    case 'any':
      c.of.forEach((child, i) => checkCalculatedAttributes(y, child, [...at, c.kind, i], workspace, defined));
      return;
    case 'not':
      checkCalculatedAttributes(y, c.of, [...at, 'not'], workspace, defined);
      return;
    case 'calculated_attribute': {
      if (defined.some((d) => d.name === c.name && d.workspace === workspace)) return;
      const elsewhere = defined.filter((d) => d.name === c.name).map((d) => d.workspace);
      y.fail([...at, 'calculated_attribute'], `no calculated attribute ${c.name} in workspace ${workspace} (calculated-attributes.yaml${elsewhere.length > 0 ? ` defines it in workspace ${elsewhere.join(', ')}` : ''})`);
      return;
    }
    default:
      return;
  }
}

function parseCriterion(y: YamlDocument, raw: unknown, at: DocumentPath): Criterion {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return y.fail(at, `expected a condition (a map with one of ${LEAF_KEYS.join('|')})`);
  const node = raw as Record<string, unknown>;
  const kinds = LEAF_KEYS.filter((k) => Object.hasOwn(node, k));
  if (kinds.length !== 1) return y.fail(at, kinds.length === 0 ? `expected one of ${LEAF_KEYS.join('|')}` : `one condition per entry, found ${kinds.join(' and ')}`);
  const kind = kinds[0]!;
  const value = node[kind];
  const only = (...allowed: string[]) => {
    for (const key of Object.keys(node)) if (key !== kind && !allowed.includes(key)) y.fail(at, 'unknown key', key);
  };
  switch (kind) {
    case 'all':
    case 'any': {
      only();
      if (!Array.isArray(value) || value.length === 0) return y.fail([...at, kind], 'expected a non-empty list of conditions');
      return { kind, of: value.map((c, i) => parseCriterion(y, c, [...at, kind, i])) };
    }
    case 'not':
      only();
      return { kind, of: parseCriterion(y, value, [...at, kind]) };
    case 'event': {
      only('at_least', 'at_most', 'exactly', 'within_days', 'since');
      const event = y.check(eventConditionSchema, value, [...at, 'event']);
      const ops = (['at_least', 'at_most', 'exactly'] as const).filter((k) => node[k] !== undefined);
      if (ops.length > 1) y.fail(at, 'give one of at_least, at_most, exactly');
      const op = ops[0] ?? 'at_least';
      const n = node[op] ?? 1;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) y.fail([...at, op], 'expected a whole number, 0 or more');
      const range = parseRange(y, node, at);
      return { kind, count: { op, n: n as number }, counter: { key: `~${contentKey({ event: value, range })}`, version: 0, event, attribute: null, range } };
    }
    case 'user_attribute':
    case 'calculated_attribute': {
      if (typeof value !== 'string' || value === '') return y.fail([...at, kind], 'expected an attribute name');
      const { [kind]: _name, ...rest } = node;
      return { kind, name: value, condition: y.check(valueConditionSchema, rest, at) };
    }
    case 'identity_exists':
      only();
      if (!(IDENTITY_TYPES as readonly unknown[]).includes(value)) return y.fail([...at, kind], `expected an identity type (${IDENTITY_TYPES.join('|')})`);
      return { kind, identity: value as IdentityType };
    case 'gdpr_consented':
      only();
      if (typeof value !== 'string' || value === '') return y.fail([...at, kind], 'expected a GDPR purpose');
      return { kind, purpose: value.toLowerCase() };
    case 'ccpa_data_sale_opted_out':
      only();
      if (typeof value !== 'boolean') return y.fail([...at, kind], 'expected true or false');
      return { kind, value };
    case 'member_of':
      only();
      if (typeof value !== 'string' && typeof value !== 'number') return y.fail([...at, kind], 'expected an audience id');
      return { kind, audience: String(value) };
    case 'first_seen_before':
    case 'first_seen_after': {
      only();
      const ms = parseDate(value);
      if (ms === undefined) return y.fail([...at, kind], 'expected a date (2024-01-31) or an ISO-8601 date-time');
      return { kind, ms };
    }
  }
}

function parseRange(y: YamlDocument, node: Record<string, unknown>, at: DocumentPath): DateRange {
  const days = node.within_days;
  if (days !== undefined && node.since !== undefined) y.fail([...at, 'since'], 'give within_days or since, not both');
  if (days !== undefined) {
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) y.fail([...at, 'within_days'], 'expected a whole number of days, 1 to 3650');
    return { kind: 'within_days', days: days as number };
  }
  if (node.since !== undefined) {
    const sinceMs = parseDate(node.since);
    if (sinceMs === undefined) y.fail([...at, 'since'], 'expected a date (2024-01-31) or an ISO-8601 date-time');
    return { kind: 'since', sinceMs: sinceMs! };
  }
  return { kind: 'lifetime' };
}

/**
 * Audiences ordered so that each comes after the ones it refers to (depth-first), so one pass evaluates
 * `member_of` against fresh results. An unknown id fails at the audience that names it; a cycle fails
 * naming every audience on it.
 */
function dependencyOrder(y: YamlDocument, audiences: AudienceDefinition[], index: Map<string, number>): AudienceDefinition[] {
  const out: AudienceDefinition[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (a: AudienceDefinition, i: number): void => {
    if (done.has(a.id)) return;
    const onPath = path.indexOf(a.id);
    if (onPath >= 0) y.fail(['audiences', i, 'criteria'], `member_of forms a cycle: ${[...path.slice(onPath), a.id].join(' -> ')}`);
    path.push(a.id);
    for (const ref of audiencesReferenced(a.criteria)) {
      const j = index.get(ref);
      if (j === undefined) y.fail(['audiences', i, 'criteria'], `member_of names unknown audience ${ref}`);
      visit(audiences[j!]!, j!);
    }
    path.pop();
    done.add(a.id);
    out.push(a);
  };
  audiences.forEach((a, i) => visit(a, i));
  return out;
}
