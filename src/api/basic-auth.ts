import type { ApiKey } from './api-keys.ts';
import { ApiError } from './errors.ts';

/** The user name and password of an `Authorization: Basic` header, or undefined when there is none or it is malformed. */
export function basicCredentials(header: string | undefined): { key: string; secret: string } | undefined {
  if (!header || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { key: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export function requireWorkspace(key: ApiKey, workspaceId: string): void {
  if (!key.workspaces.includes(workspaceId)) {
    throw new ApiError('PS_ERR_API_FORBIDDEN_WORKSPACE', `API key ${key.key} may not access workspace ${workspaceId} (it has: ${key.workspaces.join(', ')})`);
  }
}
