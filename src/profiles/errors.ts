/**
 * Errors of the profile domain, each a class with a stable code from one `as const` list.
 * Tests and callers assert on `code`, never on the message text; every code is documented in
 * `src/profiles/README.md` (a unit test keeps the two in step).
 */
export const PROFILE_ERROR_CODES = [
  'PS_ERR_DSR_INVALID',
  'PS_ERR_INTEGRATIONS_CONFIG_INVALID',
  'PS_ERR_INTEGRATIONS_CONFIG_UNREADABLE',
  'PS_ERR_PROFILE_LIMIT_EXCEEDED',
  'PS_ERR_PROFILE_MPID_MISMATCH',
  'PS_ERR_PROFILE_MPID_MISSING',
] as const;

export type ProfileErrorCode = (typeof PROFILE_ERROR_CODES)[number];

/** Base of every error in `src/profiles`: a stable code, an optional cause, and whether a retry can help. */
export abstract class ProfileDomainError extends Error {
  abstract readonly code: ProfileErrorCode;
  /** None of the domain's errors go away on retry: they describe bad input or bad configuration. */
  readonly retriable = false;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** Where in a YAML file a problem was found. `line` and `column` are 1-based; absent when unknown. */
export interface ConfigLocation {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
}

/**
 * `topology/integrations.yaml` does not describe a valid set of integrations. Start-up stops with this
 * error; the message reads `<path in document>: <problem> at <file>:<line>`.
 */
export class IntegrationsConfigError extends ProfileDomainError {
  readonly code = 'PS_ERR_INTEGRATIONS_CONFIG_INVALID';
  /** Dotted path inside the document, e.g. `integrations[1].filters.user_attributes.mode`; `''` is the root. */
  readonly path: string;
  readonly problem: string;
  readonly location: ConfigLocation;

  constructor(path: string, problem: string, location: ConfigLocation, options: { cause?: unknown } = {}) {
    const where = location.line === undefined ? location.file : `${location.file}:${location.line}`;
    super(`${path === '' ? '(document)' : path}: ${problem} at ${where}`, options);
    this.path = path;
    this.problem = problem;
    this.location = location;
  }
}

/** The integrations file could not be read (missing, unreadable). */
export class IntegrationsConfigUnreadableError extends ProfileDomainError {
  readonly code = 'PS_ERR_INTEGRATIONS_CONFIG_UNREADABLE';
  readonly file: string;

  constructor(file: string, cause: unknown) {
    super(`cannot read integrations file ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.file = file;
  }
}

/**
 * A batch breaks one of mParticle's limits (`src/schema/batch-limits.ts`). Nothing of it is merged; the
 * processor sends it to the dead-letter topic with the message as the reason. Values are rejected, never
 * truncated.
 */
export class LimitExceededError extends ProfileDomainError {
  readonly code = 'PS_ERR_PROFILE_LIMIT_EXCEEDED';
  /** The limit's name, e.g. `max_attribute_value_length`. */
  readonly limit: string;
  readonly max: number;
  /** JSONPath of what broke it, e.g. `$.user_attributes.bio`; `$` for the whole batch. */
  readonly path: string;

  constructor(limit: string, max: number, path: string, detail: string) {
    super(`limit ${limit} (${max}) exceeded at ${path}: ${detail}`);
    this.limit = limit;
    this.max = max;
    this.path = path;
  }
}

/** A batch was merged into the profile of another user: a wiring bug upstream, never data to keep. */
export class MpidMismatchError extends ProfileDomainError {
  readonly code = 'PS_ERR_PROFILE_MPID_MISMATCH';
  readonly profileMpid: string;
  readonly batchMpid: string;

  constructor(profileMpid: string, batchMpid: string) {
    super(`batch for mpid ${batchMpid} cannot be merged into profile ${profileMpid}`);
    this.profileMpid = profileMpid;
    this.batchMpid = batchMpid;
  }
}

/** A batch without an MPID reached the merge for a user not yet known: there is no profile to merge it into. */
export class MpidMissingError extends ProfileDomainError {
  readonly code = 'PS_ERR_PROFILE_MPID_MISSING';

  constructor() {
    super('batch has no mpid and no profile was given to merge it into');
  }
}

/** A record of the DSR topic is not a request or completion event; dead-lettered with every problem by path. */
export class InvalidDsrEventError extends ProfileDomainError {
  readonly code = 'PS_ERR_DSR_INVALID';
  constructor(readonly problems: ReadonlyArray<{ path: string; message: string }>) {
    super(`invalid DSR event: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}
