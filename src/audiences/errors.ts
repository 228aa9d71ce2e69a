/**
 * Errors of the audiences domain, each a class with a stable code from one `as const` list. Callers and
 * tests assert on `code`; every code is documented in `src/audiences/README.md` (a unit test checks it).
 */
export const AUDIENCE_ERROR_CODES = [
  'PS_ERR_AUDIENCES_CONFIG_INVALID',
  'PS_ERR_AUDIENCES_CONFIG_UNREADABLE',
  'PS_ERR_SEED_INVALID',
] as const;

export type AudienceErrorCode = (typeof AUDIENCE_ERROR_CODES)[number];

export abstract class AudienceDomainError extends Error {
  abstract readonly code: AudienceErrorCode;
  /** Bad configuration or bad input: a retry cannot help. */
  readonly retriable = false;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/**
 * `topology/calculated-attributes.yaml` or `topology/audiences.yaml` is not valid. The message reads
 * `<path in document>: <problem> at <file>:<line>`.
 */
export class AudiencesConfigError extends AudienceDomainError {
  readonly code = 'PS_ERR_AUDIENCES_CONFIG_INVALID';
  readonly path: string;
  readonly problem: string;
  readonly file: string;
  readonly line: number | undefined;

  constructor(path: string, problem: string, file: string, line: number | undefined, options: { cause?: unknown } = {}) {
    super(`${path === '' ? '(document)' : path}: ${problem} at ${line === undefined ? file : `${file}:${line}`}`, options);
    this.path = path;
    this.problem = problem;
    this.file = file;
    this.line = line;
  }
}

export class AudiencesConfigUnreadableError extends AudienceDomainError {
  readonly code = 'PS_ERR_AUDIENCES_CONFIG_UNREADABLE';
  constructor(readonly file: string, cause: unknown) {
    super(`cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A seed names an unknown definition, or its shape does not fit the definition's calculation. */
export class SeedInvalidError extends AudienceDomainError {
  readonly code = 'PS_ERR_SEED_INVALID';
}
