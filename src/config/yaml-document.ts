import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { formatDocumentPath, locate, type DocumentPath } from './yaml-location.ts';

/**
 * The one way profile-stream reads its YAML files (`topology/*.yaml`): parse with line positions, validate
 * with each file's zod schema, and fail with `<path>: <problem> at <file>:<line>`. Each file keeps its own
 * error class (and code); it passes a factory for it.
 */

/** Where in a file a problem is (1-based line and column when known). */
export interface YamlLocation {
  readonly file: string;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
}

/** Makes the file's own error for a problem at a path (`''` is the whole document). */
export type ConfigErrorFactory = (path: string, problem: string, at: YamlLocation, options?: { cause?: unknown }) => Error;

/**
 * How a file words a zod issue its schema raised (undefined: the common wording). `value` is what was
 * checked, `relativePath` the issue's path inside it.
 */
export type IssueWording = (issue: z.core.$ZodIssue, value: unknown, relativePath: DocumentPath) => string | undefined;

/** A parsed YAML file and a way to fail naming a path in it and its line. */
export interface YamlDocument {
  readonly file: string;
  readonly doc: Document;
  readonly value: unknown;
  fail(path: DocumentPath, problem: string, key?: string): never;
  /** Validates `value` at `path` with a zod schema, failing on the first issue with its location. */
  check<T extends z.ZodType>(schema: T, value: unknown, path: DocumentPath): z.output<T>;
}

export function parseYaml(text: string, file: string, error: ConfigErrorFactory, wording?: IssueWording): YamlDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) {
    const pos = lineCounter.linePos(syntaxError.pos[0]);
    throw error('', `invalid YAML: ${syntaxError.message.split('\n')[0]}`, { file, line: pos.line, column: pos.col }, { cause: syntaxError });
  }
  const fail = (path: DocumentPath, problem: string, key?: string): never => {
    const at = locate(doc, lineCounter, path, key);
    throw error(formatDocumentPath(key === undefined ? path : [...path, key]), problem, { file, line: at?.line, column: at?.column });
  };
  return {
    file,
    doc,
    value: doc.toJS() ?? {},
    fail,
    check(schema, value, path) {
      const parsed = schema.safeParse(value, { reportInput: true });
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0]!;
      const rel = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const at = [...path, ...rel];
      // A typo of an optional key must not pass silently: point at the key itself.
      if (issue.code === 'unrecognized_keys') return fail(at, 'unknown key', issue.keys[0]);
      return fail(at, wording?.(issue, value, rel) ?? commonWording(issue));
    },
  };
}

function commonWording(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return `expected ${issue.values.map(String).join('|')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required (${issue.expected})`;
  return issue.message;
}

/** The file's text; any failure to read it (a missing file too) is the file's own `unreadable` error. */
export async function readYamlFile(file: string, unreadable: (file: string, cause: unknown) => Error): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw unreadable(file, cause);
  }
}

/** As `readYamlFile`, for files that may be left out: undefined when the file does not exist. */
export async function readOptionalYamlFile(file: string, unreadable: (file: string, cause: unknown) => Error): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(file, cause);
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
