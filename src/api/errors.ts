/**
 * Every error the HTTP API answers with, created once here with a stable code and status (fastify's
 * `lib/errors.js` habit). Bodies are `{ error: code, message }`; tests assert on the code.
 */
export const API_ERRORS = {
  PS_ERR_API_UNAUTHORIZED: { statusCode: 401, description: 'No or wrong credentials: send HTTP Basic with an API key and its secret.' },
  PS_ERR_API_FORBIDDEN_WORKSPACE: { statusCode: 403, description: 'The API key is not allowed to read or write this workspace.' },
  PS_ERR_API_BAD_FIELDS: { statusCode: 400, description: '`fields` is missing or names something other than the allowed profile fields.' },
  PS_ERR_API_BAD_REQUEST: { statusCode: 400, description: 'The request does not match the route\'s schema; the message names the field.' },
  PS_ERR_API_INVALID_BATCH: { statusCode: 400, description: 'A batch failed validation; `problems` lists each one with its JSON path.' },
  PS_ERR_API_INVALID_SEED: { statusCode: 400, description: 'A seed failed validation (unknown calculated attribute, missing cutoff, or lacking what the calculation reads); `problems` lists each one with its JSON path. Nothing was accepted.' },
  PS_ERR_API_PROFILE_NOT_FOUND: { statusCode: 404, description: 'No profile for this MPID or identity.' },
  PS_ERR_API_DSR_NOT_FOUND: { statusCode: 404, description: 'No erasure request with this id, or the processor has not read it yet; retry shortly after a POST.' },
  PS_ERR_API_NOT_READY: { statusCode: 503, description: 'The partition that owns the user is restoring or being rebalanced; retry after `Retry-After` seconds.' },
  PS_ERR_API_OWNER_UNREACHABLE: { statusCode: 503, description: 'Another instance owns the user and could not be reached; retry shortly.' },
  PS_ERR_API_KAFKA_UNAVAILABLE: { statusCode: 503, description: 'Kafka did not acknowledge the batches; nothing was accepted.' },
  PS_ERR_API_PAYLOAD_TOO_LARGE: { statusCode: 413, description: 'The request body is over the size limit.' },
  PS_ERR_API_AUDIENCE_NOT_FOUND: { statusCode: 404, description: 'No audience with this id in the workspace.' },
  PS_ERR_API_LIVE_STREAM_LIMIT: { statusCode: 429, description: 'The API key has as many Live Stream connections open as allowed; close one (or retry after `Retry-After` seconds).' },
  PS_ERR_API_RATE_LIMITED: { statusCode: 429, description: 'Too many requests for this API key; retry after `Retry-After` seconds.' },
  PS_ERR_API_UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, description: 'The body is not `application/json`.' },
  PS_ERR_API_ROUTE_NOT_FOUND: { statusCode: 404, description: 'No route for this method and path; `/openapi.json` lists them.' },
  PS_ERR_API_INTERNAL: { statusCode: 500, description: 'A bug or an unexpected failure; the server log has the details.' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = API_ERRORS[code].statusCode;
  }
}
