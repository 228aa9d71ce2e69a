/**
 * Every error the HTTP API answers with, created once here with a stable code and status (fastify's
 * `lib/errors.js` habit). Bodies are `{ error: code, message }`; tests assert on the code.
 */
export const API_ERRORS = {
  PS_ERR_API_UNAUTHORIZED: { statusCode: 401, description: 'No or wrong credentials: send HTTP Basic with an API key and its secret.' },
  PS_ERR_API_AUTH_THROTTLED: { statusCode: 429, description: 'Too many failed authentications from this client address (or for this API key from it); retry after `Retry-After` seconds. Credentials verified before still pass.' },
  PS_ERR_API_AUTH_BUSY: { statusCode: 503, description: 'Too many credential checks are waiting (a flood of unverified credentials); retry after `Retry-After` seconds.' },
  PS_ERR_API_FORBIDDEN_WORKSPACE: { statusCode: 403, description: 'The API key is not allowed to read or write this workspace.' },
  PS_ERR_API_INVALID_JSON: { statusCode: 400, description: 'The body is not JSON: malformed, not UTF-8, or an object key such as `__proto__` that could poison prototypes; the message says where.' },
  PS_ERR_API_BODY_TOO_DEEP: { statusCode: 400, description: 'The JSON body nests arrays and objects deeper than the limit (`HTTP_JSON_MAX_DEPTH`, default 64).' },
  PS_ERR_API_UNSAFE_NUMBER: { statusCode: 400, description: 'A number in the JSON body would be rounded when read (an integer beyond ±(2^53 − 1), or too large to be finite); send 64-bit ids and large values as strings. The message gives the byte position.' },
  PS_ERR_API_BAD_FIELDS: { statusCode: 400, description: '`fields` is missing or names something other than the allowed profile fields.' },
  PS_ERR_API_BAD_REQUEST: { statusCode: 400, description: 'The request does not match the route\'s schema; the message names the field.' },
  PS_ERR_API_INVALID_BATCH: { statusCode: 400, description: 'A batch failed validation; `problems` lists each one with its JSON path.' },
  PS_ERR_API_INVALID_SEED: { statusCode: 400, description: 'A seed failed validation (unknown calculated attribute, missing cutoff, or lacking what the calculation reads); `problems` lists each one with its JSON path. Nothing was accepted.' },
  PS_ERR_API_INVALID_IDENTITY: { statusCode: 400, description: 'An IDSync request names an unknown identity type, or an identity value that is empty or too long; `problems` lists each with its JSON path. Nothing was produced.' },
  PS_ERR_API_IDENTITY_CONFLICT: { statusCode: 409, description: 'Unique identities of an IDSync request belong to two users (the message names both MPIDs); nothing was produced.' },
  PS_ERR_API_IDENTITY_NOT_FOUND: { statusCode: 404, description: '`/v1/search`: no user holds any of the identities.' },
  PS_ERR_API_IDSYNC_TIMEOUT: { statusCode: 503, description: 'The IDSync request was produced but its resolution was not visible in time (the processor is behind or restoring); retry after `Retry-After` seconds: a retry finds the same user.' },
  PS_ERR_API_PROFILE_NOT_FOUND: { statusCode: 404, description: 'No profile for this MPID or identity.' },
  PS_ERR_API_DSR_NOT_FOUND: { statusCode: 404, description: 'No erasure request with this id, or the processor has not read it yet; retry shortly after a POST.' },
  PS_ERR_API_NOT_READY: { statusCode: 503, description: 'The partition that owns the user is restoring or being rebalanced; retry after `Retry-After` seconds.' },
  PS_ERR_API_OWNER_UNREACHABLE: { statusCode: 503, description: 'Another instance owns the user and could not be reached; retry shortly.' },
  PS_ERR_API_KAFKA_UNAVAILABLE: { statusCode: 503, description: 'Kafka did not acknowledge the batches; nothing was accepted.' },
  PS_ERR_API_SCHEMA_REGISTRY_UNAVAILABLE: { statusCode: 503, description: 'The schema registry could not be reached or failed; Kafka was not written to and nothing was accepted.' },
  PS_ERR_API_SCHEMA_REJECTED: { statusCode: 502, description: 'The schema registry refused profile-stream\'s schema for the raw topic\'s subject (incompatible with the versions there under the subject\'s compatibility level); nothing was accepted. An operator must fix the subject.' },
  PS_ERR_API_PAYLOAD_TOO_LARGE: { statusCode: 413, description: 'The request body is over the size limit.' },
  PS_ERR_API_AUDIENCE_NOT_FOUND: { statusCode: 404, description: 'No audience with this id in the workspace.' },
  PS_ERR_API_LIVE_STREAM_LIMIT: { statusCode: 429, description: 'The API key has as many Live Stream connections open as allowed; close one (or retry after `Retry-After` seconds).' },
  PS_ERR_API_RATE_LIMITED: { statusCode: 429, description: 'Too many requests for this API key; retry after `Retry-After` seconds.' },
  PS_ERR_API_URI_TOO_LONG: { statusCode: 414, description: 'A path parameter is longer than 100 characters.' },
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
