import { hash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { AppConfigError, appConfigError } from '../config/config-errors.ts';
import { parseYaml, readYamlFile } from '../config/yaml-document.ts';

/** One API key: the workspaces it may read and write, and its secret as a salted scrypt hash. */
export interface ApiKey {
  readonly key: string;
  readonly workspaces: readonly string[];
  readonly secretHash: string;
  /**
   * The secret itself, for keys that may sign requests (mParticle's `x-mp-signature`): an HMAC can only be
   * checked by someone holding the secret, so it comes from a file of its own (`signing_secret_file`),
   * never from api-keys.yaml.
   */
  readonly signingSecret?: string;
}

export const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

/**
 * `scrypt$<salt hex>$<hash hex>`: what api-keys.yaml stores instead of the secret (scrypt N=16384, r=8,
 * p=1, 32 bytes, a random 16-byte salt per call).
 *
 * @example Safe: hash once, store the result, keep the secret only with the caller.
 * ```ts
 * import { hashSecret } from './src/api/api-keys.ts';
 * console.log(hashSecret('my secret')); // scrypt$9f…$4c…  → secret_hash in topology/api-keys.yaml
 * ```
 * @example Unsafe: a fixed salt makes equal secrets produce equal hashes (only tests pass one).
 * ```ts
 * hashSecret('my secret', Buffer.alloc(16));
 * ```
 */
export function hashSecret(secret: string, salt: Buffer = randomBytes(16)): string {
  const hash = scryptSync(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`;
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, stored: string): boolean {
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !hashHex) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = scryptSync(secret, Buffer.from(saltHex, 'hex'), expected.length, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let decoy: string | undefined;
/** A real scrypt hash no secret is expected to match, made once: unknown keys are checked against it. */
function decoyHash(): string {
  decoy ??= hashSecret(randomBytes(16).toString('hex'));
  return decoy;
}

const fileSchema = z.object({
  api_keys: z
    .array(
      z
        .object({
          key: z.string().min(8, 'at least 8 characters'),
          secret_hash: z.string().regex(/^scrypt\$[0-9a-f]+\$[0-9a-f]+$/, 'scrypt$<salt>$<hash>: create it with `profile-stream hash-secret`'),
          workspaces: z.array(z.string().min(1)).min(1),
          signing_secret_file: z.string().min(1).optional(),
        })
        .strict(),
    )
    .default([]),
});

/**
 * The secret in `path` (relative to api-keys.yaml), which must be the one `secret_hash` was made from: one
 * secret per key, whether it is sent with Basic or signs requests.
 */
function signingSecretOf(file: string, index: number, path: string, secretHash: string): string {
  const where = `${file}: api_keys.${index}.signing_secret_file`;
  let secret: string;
  try {
    secret = readFileSync(resolve(dirname(file), path), 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new AppConfigError(`${where}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  if (!secretMatches(secret, secretHash)) throw new AppConfigError(`${where}: ${path} does not hold the secret secret_hash was made from`);
  return secret;
}

export class ApiKeyStore {
  private readonly byKey: Map<string, ApiKey>;
  // A fast digest of each verified secret (never the secret itself), so scrypt's deliberate cost is paid
  // once per credential rather than on every request.
  private readonly verified = new Map<string, Buffer>();

  constructor(keys: readonly ApiKey[]) {
    this.byKey = new Map(keys.map((k) => [k.key, k]));
  }

  static parse(text: string, file: string): ApiKeyStore {
    const y = parseYaml(text, file, appConfigError, (issue) => issue.message);
    const parsed = y.check(fileSchema, y.value, []);
    return new ApiKeyStore(
      parsed.api_keys.map((k, i) => ({
        key: k.key,
        workspaces: k.workspaces,
        secretHash: k.secret_hash,
        ...(k.signing_secret_file ? { signingSecret: signingSecretOf(file, i, k.signing_secret_file, k.secret_hash) } : {}),
      })),
    );
  }

  static async load(file: string): Promise<ApiKeyStore> {
    return ApiKeyStore.parse(await readYamlFile(file, (f, cause) => new AppConfigError(`cannot read ${f}: ${(cause as Error).message}`, { cause })), file);
  }

  /** The key when the secret is right; undefined otherwise (no hint which part was wrong). */
  authenticate(key: string, secret: string): ApiKey | undefined {
    const entry = this.byKey.get(key);
    if (!entry) {
      // Same cost as a real check, so timing does not tell whether a key exists.
      secretMatches(secret, hashSecret('x', Buffer.alloc(16)));
      return undefined;
    }
    if (this.wasVerified(entry, secret)) return entry;
    if (!secretMatches(secret, entry.secretHash)) return undefined;
    this.verified.set(key, this.digest(entry, secret));
    return entry;
  }

  /**
   * As `authenticate`, with the scrypt check done by `verify` (the `SecretVerifier`'s worker threads), so the
   * event loop never runs it. An unknown key pays one check too, so timing does not tell whether it exists.
   */
  async authenticateWith(key: string, secret: string, verify: (secret: string, stored: string) => Promise<boolean>): Promise<ApiKey | undefined> {
    const entry = this.byKey.get(key);
    if (!entry) {
      await verify(secret, decoyHash());
      return undefined;
    }
    if (this.wasVerified(entry, secret)) return entry;
    if (!(await verify(secret, entry.secretHash))) return undefined;
    this.verified.set(key, this.digest(entry, secret));
    return entry;
  }

  /** The key, for a signed request (whose check needs its `signingSecret`); undefined when it does not exist. */
  get(key: string): ApiKey | undefined {
    return this.byKey.get(key);
  }

  /** Whether the key exists (for the audit log; answers nothing a client sees). */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /**
   * The key when these exact credentials were verified before, without paying scrypt (one SHA-256): the
   * rate limiter buckets requests by key only then, so failed guesses at a key's secret count against the
   * guesser's address, never against the key's owner; and the request needs no other check.
   */
  verifiedKey(key: string, secret: string): ApiKey | undefined {
    const entry = this.byKey.get(key);
    return entry !== undefined && this.wasVerified(entry, secret) ? entry : undefined;
  }

  private digest(entry: ApiKey, secret: string): Buffer {
    // One-shot: the same bytes as three `update`s, without a Hash object per request.
    return hash('sha256', `${entry.secretHash}\0${secret}`, 'buffer');
  }

  private wasVerified(entry: ApiKey, secret: string): boolean {
    const cached = this.verified.get(entry.key);
    return cached !== undefined && timingSafeEqual(cached, this.digest(entry, secret));
  }
}
