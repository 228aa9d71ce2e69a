/**
 * Every error the stream runtime throws on purpose, each with a stable `PS_ERR_` code.
 * Callers and tests branch on `code`, never on the message text. README.md documents each code
 * (a unit test keeps the two in step).
 */
export const STREAMS_ERROR_CODES = [
  'PS_ERR_TOPOLOGY_INVALID',
  'PS_ERR_CONFIG_INVALID',
  'PS_ERR_COPARTITIONING',
  'PS_ERR_SOURCE_TOPIC_MISSING',
  'PS_ERR_STATE_DIR_LOCKED',
  'PS_ERR_INVALID_STATE_TRANSITION',
  'PS_ERR_APP_NOT_RUNNING',
  'PS_ERR_STORE_NOT_FOUND',
  'PS_ERR_STORE_NOT_CONNECTED',
  'PS_ERR_STORE_RESTORING',
  'PS_ERR_KEY_NOT_OWNED',
  'PS_ERR_STORE_READ_ONLY',
  'PS_ERR_DESERIALIZATION',
  'PS_ERR_DESERIALIZATION_UNAVAILABLE',
  'PS_ERR_PROCESSING',
  'PS_ERR_COMMIT_FAILED',
  'PS_ERR_TASK_MIGRATED',
  'PS_ERR_RESTORE_FAILED',
  'PS_ERR_KAFKA_UNAVAILABLE',
  'PS_ERR_KAFKA_AUTHENTICATION',
  'PS_ERR_KAFKA_TLS',
  'PS_ERR_FATAL',
] as const;

export type StreamsErrorCode = (typeof STREAMS_ERROR_CODES)[number];

const RETRIABLE: ReadonlySet<StreamsErrorCode> = new Set<StreamsErrorCode>([
  'PS_ERR_STORE_RESTORING',
  'PS_ERR_APP_NOT_RUNNING',
  'PS_ERR_TASK_MIGRATED',
  'PS_ERR_KAFKA_UNAVAILABLE',
  'PS_ERR_DESERIALIZATION_UNAVAILABLE',
]);

/** HTTP status an API edge should answer with when it surfaces this error. */
const STATUS: Partial<{ [C in StreamsErrorCode]: number }> = {
  PS_ERR_STORE_RESTORING: 503,
  PS_ERR_APP_NOT_RUNNING: 503,
  PS_ERR_KAFKA_UNAVAILABLE: 503,
  PS_ERR_KEY_NOT_OWNED: 421,
  PS_ERR_STORE_NOT_FOUND: 404,
};

export class StreamsError extends Error {
  readonly code: StreamsErrorCode;
  readonly retriable: boolean;
  readonly statusCode: number;

  constructor(code: StreamsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamsError';
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    this.statusCode = STATUS[code] ?? 500;
  }
}

/** The topology's wiring is wrong; the message names the node. */
export class TopologyError extends StreamsError {
  readonly node: string | undefined;
  constructor(message: string, node?: string) {
    super('PS_ERR_TOPOLOGY_INVALID', node === undefined ? message : `node "${node}": ${message}`);
    this.name = 'TopologyError';
    this.node = node;
  }
}

export function isStreamsError(err: unknown, code?: StreamsErrorCode): err is StreamsError {
  return err instanceof StreamsError && (code === undefined || err.code === code);
}
