import type { FastifyRequest } from 'fastify';
import type { ApiKey, ApiKeyStore } from './api-keys.ts';
import { ApiError } from './errors.ts';

/** Reads HTTP Basic credentials and checks them; throws 401 (with WWW-Authenticate set by the error handler). */
export function authenticate(request: FastifyRequest, keys: ApiKeyStore): ApiKey {
  const header = request.headers.authorization;
  if (!header || !header.startsWith('Basic ')) throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'send HTTP Basic credentials: your API key as user name, its secret as password');
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'malformed Basic credentials: expected base64("key:secret")');
  const key = keys.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
  if (!key) throw new ApiError('PS_ERR_API_UNAUTHORIZED', 'unknown API key or wrong secret');
  return key;
}

/** The API key's user name without checking the secret: the rate limiter's bucket (cheap, before auth). */
export function presentedKey(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header?.startsWith('Basic ')) return `ip:${request.ip}`;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  return `key:${decoded.split(':')[0] ?? ''}`;
}

export function requireWorkspace(key: ApiKey, workspaceId: string): void {
  if (!key.workspaces.includes(workspaceId)) {
    throw new ApiError('PS_ERR_API_FORBIDDEN_WORKSPACE', `API key ${key.key} may not access workspace ${workspaceId} (it has: ${key.workspaces.join(', ')})`);
  }
}
