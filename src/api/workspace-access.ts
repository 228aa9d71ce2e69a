import type { ApiKey } from './api-keys.ts';
import { ApiError } from './errors.ts';

/**
 * The workspace a workspace-wide view reads: the one asked for, or the key's first. A key never sees
 * another workspace's batches, audiences or values: asking for one is 403, never an empty answer.
 */
export function workspaceFor(key: ApiKey, requested: string | undefined): string {
  const workspace = requested ?? key.workspaces[0];
  if (workspace === undefined || !key.workspaces.includes(workspace)) {
    throw new ApiError('PS_ERR_API_FORBIDDEN_WORKSPACE', `API key ${key.key} may not read workspace ${requested}`);
  }
  return workspace;
}

export const workspaceQuery = { type: 'string', minLength: 1, maxLength: 100, description: 'default: the API key\'s first workspace' } as const;
