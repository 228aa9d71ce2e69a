import type { FastifyRequest } from 'fastify';
import type { ApiKey, ApiKeyStore } from './api-keys.ts';
import type { AuditLog, AuthFailureReason } from './audit-log.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { basicCredentials } from './basic-auth.ts';
import { ApiError } from './errors.ts';
import { rawBodyOf } from './raw-body.ts';
import { requestSignature, signatureDateMs, signatureMatches, signedHeaders, SIGNATURE_MAX_SKEW_MS, type SignedHeaders } from './request-signature.ts';
import { VerifierBusyError, type SecretVerifier } from './secret-verifier.ts';

/**
 * The one way routes authenticate a request (HTTP Basic: API key and secret), in the order that keeps a
 * flood of wrong secrets cheap:
 * 1. credentials verified before pass on a SHA-256 digest (no scrypt), even from a throttled address, so a
 *    client that shares an address with a guesser keeps working;
 * 2. an address or (key, address) over its failure limit gets 429 with Retry-After, before any scrypt;
 * 3. the rest are checked by the `SecretVerifier` on its own threads; its queue full → 503 with Retry-After;
 * 4. a failure is counted and audited, then 401.
 * Every refusal of a presented secret (401, 429, 503) is answered only after `failureDelayMs`: a guesser
 * looping as fast as answers come would otherwise turn cheap refusals into a request flood that takes the
 * CPU from the pipeline; held answers cost a timer each, and at most `maxDelayed` are held at once.
 */
export interface FailureDelay {
  /** How long a refused secret waits for its answer. */
  readonly failureDelayMs: number;
  /** Answers held at once; beyond, refusals are answered at once. */
  readonly maxDelayed: number;
}

/**
 * Where a request keeps what its Authorization header was found to hold: a property of the request itself,
 * not a `WeakMap` keyed by requests (a WeakMap entry per request cost ~1-2 µs: ephemeron bookkeeping in every
 * young-generation GC), gone with the request all the same.
 */
const BASIC_CHECK = Symbol('profile-stream.basicCheck');
type CheckedRequest = FastifyRequest & { [BASIC_CHECK]?: BasicCheck };

/** What one request's Authorization header was found to hold (see `CredentialChecker.basic`). */
interface BasicCheck {
  readonly header: string | undefined;
  readonly credentials: { key: string; secret: string } | undefined;
  /** The key, when these exact credentials were verified before (no scrypt needed). */
  readonly known: ApiKey | undefined;
}

export class CredentialChecker {
  private delayed = 0;

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly verifier: SecretVerifier,
    private readonly throttle: AuthThrottle,
    readonly audit: AuditLog,
    private readonly delay: FailureDelay = { failureDelayMs: 0, maxDelayed: 0 },
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(request: FastifyRequest): Promise<ApiKey> {
    const signed = signedHeaders(request);
    if (signed === 'incomplete') {
      this.fail(request, 'malformed');
      throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'a signed request needs the x-mp-key, Date and x-mp-signature headers');
    }
    if (signed) return this.authenticateSigned(request, signed);
    const header = request.headers.authorization;
    if (!header || !header.startsWith('Basic ')) {
      this.fail(request, 'missing');
      throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'send HTTP Basic credentials: your API key as user name, its secret as password');
    }
    const { credentials, known } = this.basic(request, header);
    if (!credentials) {
      this.fail(request, 'malformed');
      throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'malformed Basic credentials: expected base64("key:secret")');
    }
    const { key, secret } = credentials;
    const address = request.ip;
    if (known) return this.succeeded(request, address, known, 'basic');
    const verdict = this.throttle.check(address, key);
    if (!verdict.allowed) {
      this.fail(request, 'throttled', key, verdict.retryAfterSeconds);
      const who = verdict.scope === 'address' ? `from ${address}` : `for API key ${key} from ${address}`;
      await this.slowDown();
      throw new ApiError('PS_ERR_API_AUTH_THROTTLED', `too many failed authentications ${who}; retry in ${verdict.retryAfterSeconds} s`, {}, verdict.retryAfterSeconds);
    }
    let found: ApiKey | undefined;
    try {
      found = await this.keys.authenticateWith(key, secret, (s, stored) => this.verifier.verify(s, stored));
    } catch (error) {
      if (!(error instanceof VerifierBusyError)) throw error;
      this.fail(request, 'verifier_busy', key, 1);
      await this.slowDown();
      throw new ApiError('PS_ERR_API_AUTH_BUSY', 'too many credential checks in progress; retry in 1 s', {}, 1);
    }
    if (!found) {
      this.throttle.recordFailure(address, key);
      this.fail(request, this.keys.has(key) ? 'wrong_secret' : 'unknown_key', key);
      await this.slowDown();
      throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'unknown API key or wrong secret');
    }
    return this.succeeded(request, address, found, 'basic');
  }

  private succeeded(request: FastifyRequest, address: string, key: ApiKey, scheme: 'basic' | 'signature'): ApiKey {
    this.throttle.recordSuccess(address, key.key);
    this.audit.keyUsed({ key: key.key, address, method: request.method, url: request.routeOptions.url ?? request.url, scheme });
    return key;
  }

  /**
   * The request's Basic credentials and, when they were verified before, their key: worked out once per
   * request (base64 and one SHA-256), since the rate limiter asks for its bucket before the route
   * authenticates the same header.
   */
  private basic(request: FastifyRequest, header: string | undefined): BasicCheck {
    const seen = (request as CheckedRequest)[BASIC_CHECK];
    if (seen !== undefined && seen.header === header) return seen;
    const credentials = basicCredentials(header);
    const check: BasicCheck = { header, credentials, known: credentials && this.keys.verifiedKey(credentials.key, credentials.secret) };
    (request as CheckedRequest)[BASIC_CHECK] = check;
    return check;
  }

  /**
   * mParticle's HMAC request signing instead of Basic: the key's secret never travels, and a captured
   * request stops working `SIGNATURE_MAX_SKEW_MS` after its `Date`. Throttled and audited like Basic; an
   * HMAC costs microseconds, so no verifier queue. Only keys with a `signing_secret_file` can sign.
   */
  private async authenticateSigned(request: FastifyRequest, signed: SignedHeaders): Promise<ApiKey> {
    const address = request.ip;
    const { key } = signed;
    const verdict = this.throttle.check(address, key);
    if (!verdict.allowed) {
      this.fail(request, 'throttled', key, verdict.retryAfterSeconds);
      await this.slowDown();
      throw new ApiError('PS_ERR_API_AUTH_THROTTLED', `too many failed authentications ${verdict.scope === 'address' ? `from ${address}` : `for API key ${key} from ${address}`}; retry in ${verdict.retryAfterSeconds} s`, {}, verdict.retryAfterSeconds);
    }
    const refuse = async (reason: AuthFailureReason, message: string): Promise<never> => {
      this.throttle.recordFailure(address, key);
      this.fail(request, reason, key);
      await this.slowDown();
      throw new ApiError('PS_ERR_API_UNAUTHORIZED', message);
    };
    const at = signatureDateMs(signed.date);
    if (at === undefined) return refuse('malformed', 'the Date header of a signed request must be ISO 8601 (20170712T224127Z) or an HTTP date');
    if (Math.abs(this.now() - at) > SIGNATURE_MAX_SKEW_MS) return refuse('stale_date', `the Date of a signed request must be within ${SIGNATURE_MAX_SKEW_MS / 60_000} minutes of the server's clock`);
    const entry = this.keys.get(key);
    // Unknown keys and keys that cannot sign get the same answer as a wrong signature: it tells nothing.
    const expected = entry?.signingSecret !== undefined ? requestSignature(entry.signingSecret, request.method, signed.date, request.url, rawBodyOf(request)) : undefined;
    if (!entry || expected === undefined || !signatureMatches(signed.signature, expected)) {
      return refuse(entry ? 'bad_signature' : 'unknown_key', 'unknown API key or wrong signature');
    }
    return this.succeeded(request, address, entry, 'signature');
  }

  /**
   * The rate limiter's bucket, computed before auth and without scrypt: the API key when these credentials
   * were verified before, the client address otherwise, so wrong guesses at a key's secret count against
   * the guesser's address, never against the key's owner.
   */
  rateLimitBucket(request: FastifyRequest): string {
    const { known } = this.basic(request, request.headers.authorization);
    return known ? `key:${known.key}` : `ip:${request.ip}`;
  }

  async close(): Promise<void> {
    await this.verifier.close();
  }

  private async slowDown(): Promise<void> {
    if (this.delay.failureDelayMs <= 0 || this.delayed >= this.delay.maxDelayed) return;
    this.delayed++;
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delay.failureDelayMs));
    } finally {
      this.delayed--;
    }
  }

  private fail(request: FastifyRequest, reason: AuthFailureReason, key?: string, retryAfterSeconds?: number): void {
    this.audit.authFailed({
      reason,
      address: request.ip,
      method: request.method,
      url: request.routeOptions.url ?? request.url,
      ...(key !== undefined ? { key } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }
}
