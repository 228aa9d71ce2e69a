import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { formatDocumentPath, locate, type DocumentPath } from './yaml-location.ts';
import { AudiencesConfigError, AudiencesConfigUnreadableError } from '../audiences/errors.ts';

/** A parsed YAML file and a way to fail naming a path in it and its line (as integrations.yaml does). */
export interface YamlDocument {
  readonly file: string;
  readonly doc: Document;
  readonly value: unknown;
  fail(path: DocumentPath, problem: string, key?: string): never;
  /** Validates `value` at `path` with a zod schema, failing on the first issue with its location. */
  check<T extends z.ZodType>(schema: T, value: unknown, path: DocumentPath): z.output<T>;
}

export function parseYaml(text: string, file: string): YamlDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) {
    const pos = lineCounter.linePos(syntaxError.pos[0]);
    throw new AudiencesConfigError('', `invalid YAML: ${syntaxError.message.split('\n')[0]}`, file, pos.line, { cause: syntaxError });
  }
  const fail = (path: DocumentPath, problem: string, key?: string): never => {
    const at = locate(doc, lineCounter, path, key);
    throw new AudiencesConfigError(formatDocumentPath(key === undefined ? path : [...path, key]), problem, file, at?.line);
  };
  return {
    file,
    doc,
    value: doc.toJS() ?? {},
    fail,
    check(schema, value, path) {
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0]!;
      const at = [...path, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
      if (issue.code === 'unrecognized_keys') return fail(at, 'unknown key', issue.keys[0]);
      if (issue.code === 'invalid_union') return fail(at, unionProblem(value, at.slice(path.length)));
      if (issue.code === 'invalid_value') return fail(at, `expected ${issue.values.map(String).join('|')}`);
      if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) return fail(at, `required (${issue.expected})`);
      return fail(at, issue.message);
    },
  };
}

const OPERATORS = [
  'equals', 'not_equals', 'contains', 'not_contains', 'matches', 'exists', 'not_exists', 'is_empty', 'in',
  'greater_than', 'greater_than_or_equal', 'less_than', 'less_than_or_equal',
];

function unionProblem(value: unknown, rel: DocumentPath): string {
  let node = value;
  for (const p of rel) node = (node as Record<string | number, unknown> | undefined)?.[p];
  const op = (node as { operator?: unknown } | undefined)?.operator;
  if (op === undefined) return 'not a valid condition (operator and value)';
  if (!OPERATORS.includes(String(op))) return `unknown operator ${String(op)} (expected ${OPERATORS.join('|')})`;
  return `operator ${String(op)} does not take these fields (exists|not_exists|is_empty take none; in takes values; the others take value)`;
}

export async function readYamlFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AudiencesConfigUnreadableError(file, cause);
  }
}

/** Epoch ms of a date written as `2024-01-31` (UTC midnight), an ISO date-time, or epoch ms. */
export function parseDate(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(ms) ? undefined : ms;
}
