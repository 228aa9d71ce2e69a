import type { BatchProblem } from '../schema/errors.ts';
import { memberPath } from '../schema/json-path.ts';
import { canonicalIdentityType, isUserIdentityType, knownIdentityNames, type ResolvableIdentityType } from './identity-names.ts';

/** Characters in one identity value; longer values are refused, not truncated (a truncated id is someone else's). */
export const MAX_IDENTITY_VALUE_LENGTH = 1024;

/** Why an identity value cannot identify anyone, or undefined when it can. */
export function identityValueProblem(value: string): string | undefined {
  if (value.trim() === '') return 'must not be empty: an empty identity would match every user who sent one';
  if (value.length > MAX_IDENTITY_VALUE_LENGTH) return `is ${value.length} characters, over the limit max_identity_value_length = ${MAX_IDENTITY_VALUE_LENGTH}`;
  return undefined;
}

export interface NormalizedIdentities {
  /** Schema name → value; null-prototype. Null values ("not sent") are kept as null. */
  readonly identities: { [type: string]: string | null };
  readonly problems: BatchProblem[];
}

/**
 * An identities object as mParticle's JSON writes it (`{"customerid": "...", "other2": "..."}`), with the
 * schema's names as keys. Unknown names, empty or over-long values and one type given under two names
 * are problems at their JSON path; nothing is dropped silently. `kind: 'user'` accepts user identity
 * types only (a batch's `user_identities`); `'all'` also device identities (IDSync requests).
 */
export function normalizeIdentities(input: object, path: string, kind: 'user' | 'all'): NormalizedIdentities {
  const identities: { [type: string]: string | null } = Object.create(null);
  const problems: BatchProblem[] = [];
  const givenAs = new Map<ResolvableIdentityType, string>();
  for (const name of Object.keys(input)) {
    const at = `${path}${memberPath(name)}`;
    const type = canonicalIdentityType(name);
    if (type === undefined || (kind === 'user' && !isUserIdentityType(type))) {
      problems.push({ path: at, message: `is not a${kind === 'user' ? ' user' : 'n'} identity type: use one of ${knownIdentityNames(kind)}` });
      continue;
    }
    const value = (input as Record<string, unknown>)[name];
    const earlier = givenAs.get(type);
    if (earlier !== undefined) {
      problems.push({ path: at, message: `is ${type} again (also given as "${earlier}"): send each identity once` });
      continue;
    }
    givenAs.set(type, name);
    if (value === null) {
      identities[type] = null;
    } else if (typeof value !== 'string') {
      problems.push({ path: at, message: `must be a string, got ${value === undefined ? 'nothing' : Array.isArray(value) ? 'a list' : typeof value}` });
    } else {
      const problem = identityValueProblem(value);
      if (problem) problems.push({ path: at, message: problem });
      else identities[type] = value;
    }
  }
  return { identities, problems };
}
