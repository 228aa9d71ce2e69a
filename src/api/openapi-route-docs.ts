import type { RouteOptions } from 'fastify';
import { API_ERRORS, type ApiErrorCode } from './errors.ts';

/** Routes anyone may call: no Basic auth, no rate limit (build-app.ts's allow list). */
export const PUBLIC_PATHS: readonly string[] = ['/health', '/ready', '/metrics', '/openapi.json'];

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const RATE_LIMIT_HEADERS = {
  'x-ratelimit-limit': { ...int, description: 'requests allowed per minute for this API key (RATE_LIMIT_PER_MINUTE)' },
  'x-ratelimit-remaining': { ...int, description: 'requests left in the current minute' },
  'x-ratelimit-reset': { ...int, description: 'seconds until the window starts again' },
};
const RETRY_AFTER = { 'retry-after': { ...int, description: 'seconds to wait before retrying' } };

/** The codes answered with `status`, for the description of that response. */
function codesWith(status: number): string {
  return (Object.keys(API_ERRORS) as ApiErrorCode[]).filter((c) => API_ERRORS[c].statusCode === status).join(', ');
}

function errorResponse(status: number, headers: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    description: `error: ${codesWith(status)}`,
    type: 'object',
    required: ['error', 'message'],
    properties: { error: { type: 'string', description: 'a PS_ERR_API_* code' }, message: str },
    additionalProperties: true,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

type Schema = { hide?: boolean; body?: unknown; querystring?: unknown; params?: unknown; response?: Record<string, unknown>; security?: unknown[] };

/**
 * Completes a route's schema for `/openapi.json` (an `onRoute` hook): what every route can answer besides
 * what it declares itself. Authenticated routes can answer 401 (with `WWW-Authenticate`) and 429, and
 * send the rate-limit headers; routes with a body can answer 400, 413 and 415; every route 500. Public
 * routes get `security: []` so the document does not ask for Basic auth on them. Declared responses are
 * copied, never changed in place: the route files share their schema objects.
 */
export function documentRoute(route: RouteOptions): void {
  const schema = (route.schema ??= {}) as Schema;
  if (schema.hide) return;
  const isPublic = PUBLIC_PATHS.includes(route.url);
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const hasBody = methods.some((m) => m === 'POST' || m === 'PUT' || m === 'PATCH');
  const response: Record<string, unknown> = {};
  for (const [status, declared] of Object.entries(schema.response ?? {})) {
    const code = Number(status);
    const entry = { ...(declared as Record<string, unknown>) };
    if (code >= 400) {
      // The route's own schema stays (e.g. /ready's 503 body); description and headers are added.
      const headers = { ...(code === 503 || code === 429 ? RETRY_AFTER : {}), ...(code === 401 ? { 'www-authenticate': str } : {}), ...((entry.headers as object | undefined) ?? {}) };
      const generic = errorResponse(code, headers);
      entry.description ??= generic.description;
      if (Object.keys(headers).length > 0) entry.headers = headers;
      if (entry.required === undefined && (entry.properties as Record<string, unknown> | undefined)?.error !== undefined) entry.required = ['error', 'message'];
    } else if (!isPublic) {
      entry.headers = { ...RATE_LIMIT_HEADERS, ...((entry.headers as object | undefined) ?? {}) };
    }
    response[status] = entry;
  }
  const add = (status: number, headers: Record<string, unknown> = {}) => {
    if (!(String(status) in response)) response[String(status)] = errorResponse(status, headers);
  };
  if (hasBody || schema.querystring || schema.params) add(400);
  if (!isPublic) {
    add(401, { 'www-authenticate': { ...str, description: 'Basic realm="profile-stream"' } });
    add(429, { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS });
  }
  if (hasBody) {
    add(413);
    add(415);
  }
  add(500);
  schema.response = response;
  if (isPublic) schema.security = [];
}
