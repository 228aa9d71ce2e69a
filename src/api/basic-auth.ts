import type { FastifyRequest } from 'fastify';
import type { ApiKey, ApiKeyStore } from './api-keys.ts';
import { ApiError } from './errors.ts';

/** The user name and password of an `Authorization: Basic` header, or undefined when there is none or it is malformed. */
export function basicCredentials(header: string | undefined): { key: string; secret: string } | undefined {
  if (!header || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { key: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Reads HTTP Basic credentials and checks them; throws 401 (with WWW-Authenticate set by the error handler). */
export function authenticate(request: FastifyRequest, keys: ApiKeyStore): ApiKey {
  const header = request.headers.authorization;
  if (!header || !header.startsWith('Basic ')) throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'send HTTP Basic credentials: your API key as user name, its secret as password');
  const credentials = basicCredentials(header);
  if (!credentials) throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'malformed Basic credentials: expected base64("key:secret")');
  const key = keys.authenticate(credentials.key, credentials.secret);
  if (!key) throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'unknown API key or wrong secret');
  return key;
}

/**
 * The rate limiter's bucket, computed before auth and without scrypt: the API key when these credentials
 * were verified before, the client address otherwise. Bucketing by the presented key name alone would let
 * anyone who knows a key's name use up its owner's limit with wrong secrets.
 */
export function rateLimitBucket(request: FastifyRequest, keys: ApiKeyStore | undefined): string {
  const credentials = basicCredentials(request.headers.authorization);
  if (credentials && keys?.isVerified(credentials.key, credentials.secret)) return `key:${credentials.key}`;
  return `ip:${request.ip}`;
}

export function requireWorkspace(key: ApiKey, workspaceId: string): void {
  if (!key.workspaces.includes(workspaceId)) {
    throw new ApiError('PS_ERR_API_FORBIDDEN_WORKSPACE', `API key ${key.key} may not access workspace ${workspaceId} (it has: ${key.workspaces.join(', ')})`);
  }
}
