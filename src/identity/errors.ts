/**
 * Errors of identity resolution, each a class with a stable code from one list (tests assert on codes).
 * Every code is documented in `src/identity/README.md`; a unit test keeps the two in step.
 */
export const IDENTITY_ERROR_CODES = {
  PS_ERR_IDENTITY_CONFLICT: 'Unique identities of one batch belong to two users; the message names the identity and both MPIDs. Nothing was merged (dead-letter header `x-error-code`).',
  PS_ERR_IDENTITY_INVALID: 'A batch without MPID has no identity to resolve it by, or an identity value that is empty or too long; dead-lettered with the reason.',
  PS_ERR_IDENTITY_STRATEGY_INVALID: '`topology/identity.yaml` is invalid; the message names the path, the problem and `file:line`.',
  PS_ERR_IDENTITY_MPID_SPACE_EXHAUSTED: 'A partition minted 2^32 MPIDs, or the topology has more than 65,536 partitions: no new MPID can be minted there without risking reuse.',
} as const;

export type IdentityErrorCode = keyof typeof IDENTITY_ERROR_CODES;

export abstract class IdentityError extends Error {
  abstract readonly code: IdentityErrorCode;
  readonly retriable = false;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

export class IdentityConflictError extends IdentityError {
  readonly code = 'PS_ERR_IDENTITY_CONFLICT';
  constructor(readonly identity: string, readonly mpids: readonly [string, string]) {
    super(`identity ${identity} belongs to user ${mpids[1]} but the batch's other unique identities resolve it to ${mpids[0]}: not merged (two users, one batch)`);
  }
}

export class InvalidIdentityError extends IdentityError {
  readonly code = 'PS_ERR_IDENTITY_INVALID';
}

export class IdentityStrategyError extends IdentityError {
  readonly code = 'PS_ERR_IDENTITY_STRATEGY_INVALID';
}

export class MpidSpaceExhaustedError extends IdentityError {
  readonly code = 'PS_ERR_IDENTITY_MPID_SPACE_EXHAUSTED';
  constructor(readonly partition: number, readonly sequence: number) {
    super(`cannot mint an MPID for partition ${partition} with sequence ${sequence}: partitions up to 65535 and 2^32 MPIDs per partition can be minted without reuse`);
  }
}
