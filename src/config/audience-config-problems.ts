/** How problems in audiences.yaml and calculated-attributes.yaml are reported (both hold audience conditions). */
import { AudiencesConfigError } from '../audiences/errors.ts';
import type { ConfigErrorFactory, IssueWording } from './yaml-document.ts';
import type { DocumentPath } from './yaml-location.ts';

/** audiences.yaml and calculated-attributes.yaml fail with `AudiencesConfigError`. */
export const audiencesConfigError: ConfigErrorFactory = (path, problem, at, options) => new AudiencesConfigError(path, problem, at.file, at.line, options);

const OPERATORS = [
  'equals', 'not_equals', 'contains', 'not_contains', 'matches', 'exists', 'not_exists', 'is_empty', 'in',
  'greater_than', 'greater_than_or_equal', 'less_than', 'less_than_or_equal',
];

/**
 * A condition that matches no branch of the value-condition union makes zod say only "Invalid input";
 * this says which operator is unknown or which fields it does not take.
 */
export const conditionWording: IssueWording = (issue, value, rel) => (issue.code === 'invalid_union' ? unionProblem(value, rel) : undefined);

function unionProblem(value: unknown, rel: DocumentPath): string {
  let node = value;
  for (const p of rel) node = (node as Record<string | number, unknown> | undefined)?.[p];
  const op = (node as { operator?: unknown } | undefined)?.operator;
  if (op === undefined) return 'not a valid condition (operator and value)';
  if (!OPERATORS.includes(String(op))) return `unknown operator ${String(op)} (expected ${OPERATORS.join('|')})`;
  return `operator ${String(op)} does not take these fields (exists|not_exists|is_empty take none; in takes values; the others take value)`;
}
