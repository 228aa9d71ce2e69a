import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { IdentityStrategyError } from '../identity/errors.ts';
import { canonicalIdentityType, knownIdentityNames, type ResolvableIdentityType } from '../identity/identity-names.ts';
import { completePriority, DEFAULT_IDENTITY_STRATEGY, type IdentityStrategy } from '../identity/identity-strategy.ts';
import { formatDocumentPath, locate, type DocumentPath } from './yaml-location.ts';

const fileSchema = z.strictObject({
  unique_identities: z.array(z.string()).optional(),
  priority: z.array(z.string()).optional(),
  on_conflict: z.enum(['dead_letter', 'drop_identity']).optional(),
});

/**
 * Parses `topology/identity.yaml` (the identity strategy). Identity types may be written with the schema's
 * names or mParticle's (`customerid`, `other2`, `ios_idfa`). Throws `IdentityStrategyError` reading
 * `<path>: <problem> at <file>:<line>`. An empty document is the default strategy.
 *
 * @example safe: `parseIdentityStrategy('unique_identities: [customer_id, email]\n', 'identity.yaml')`
 * @example unsafe: listing a type twice in `priority`: refused, since the order would be ambiguous.
 */
export function parseIdentityStrategy(text: string, file: string): IdentityStrategy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const fail = (path: DocumentPath, problem: string, key?: string): never => {
    const at = locate(doc, lineCounter, path, key);
    const shown = formatDocumentPath(key === undefined ? path : [...path, key]);
    throw new IdentityStrategyError(`${shown === '' ? '(document)' : shown}: ${problem} at ${at === undefined ? file : `${file}:${at.line}`}`);
  };
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) {
    const pos = lineCounter.linePos(syntaxError.pos[0]);
    throw new IdentityStrategyError(`(document): invalid YAML: ${syntaxError.message.split('\n')[0]} at ${file}:${pos.line}`, { cause: syntaxError });
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') return fail(path, 'unknown key (expected unique_identities, priority, on_conflict)', issue.keys[0]);
    if (issue.code === 'invalid_value') return fail(path, `expected ${issue.values.map(String).join('|')}`);
    return fail(path, issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message);
  }
  const typesAt = (field: 'unique_identities' | 'priority', names: readonly string[]): ResolvableIdentityType[] => {
    const seen = new Map<ResolvableIdentityType, number>();
    return names.map((name, i) => {
      const type = canonicalIdentityType(name);
      if (type === undefined) return fail([field, i], `"${name}" is not an identity type: use one of ${knownIdentityNames('all')}`);
      const before = seen.get(type);
      if (before !== undefined) return fail([field, i], `${type} is listed twice (also ${field}[${before}])`);
      seen.set(type, i);
      return type;
    });
  };
  const raw = parsed.data;
  return {
    uniqueTypes: raw.unique_identities === undefined ? DEFAULT_IDENTITY_STRATEGY.uniqueTypes : new Set(typesAt('unique_identities', raw.unique_identities)),
    priority: raw.priority === undefined ? DEFAULT_IDENTITY_STRATEGY.priority : completePriority(typesAt('priority', raw.priority)),
    onConflict: raw.on_conflict ?? DEFAULT_IDENTITY_STRATEGY.onConflict,
  };
}

/** Reads the strategy file; an absent file means mParticle's default strategy. */
export async function loadIdentityStrategy(file: string): Promise<IdentityStrategy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_IDENTITY_STRATEGY;
    throw new IdentityStrategyError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseIdentityStrategy(text, file);
}
