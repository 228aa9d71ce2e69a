/**
 * Errors of the schema layer, each with a stable code (tests assert on codes, never on text).
 * Codes and their meaning are listed once here; a unit test checks every code is documented.
 */
export const SCHEMA_ERROR_CODES = {
  PS_ERR_INVALID_BATCH: 'A JSON batch failed validation; `problems` lists every field that is wrong, with its JSON path.',
  PS_ERR_SERDE_BAD_MAGIC_BYTE: 'A record does not start with the Confluent wire format magic byte 0x00 (not Avro from a registry-aware producer).',
  PS_ERR_SERDE_UNKNOWN_SCHEMA_ID: 'The schema id in a record is not known to the schema registry.',
  PS_ERR_SERDE_INVALID_PAYLOAD: 'The Avro payload is truncated or does not decode with its writer schema.',
  PS_ERR_SERDE_INCOMPATIBLE_SCHEMA: 'The record was written with a schema that cannot be read as the schema this topic\'s subject expects (a record of another kind, or an incompatible change).',
  PS_ERR_SERDE_INVALID_VALUE: 'A value to encode does not match the topic\'s schema; `paths` names the fields.',
  PS_ERR_SCHEMA_REGISTRY: 'The schema registry could not be reached or failed a request (retriable).',
  PS_ERR_SCHEMA_REJECTED: 'The schema registry refused to register profile-stream\'s schema under a subject (incompatible with the versions there under the subject\'s compatibility level, or invalid); not retriable: an operator must change the subject or its compatibility.',
} as const;

export type SchemaErrorCode = keyof typeof SCHEMA_ERROR_CODES;

export abstract class SchemaLayerError extends Error {
  abstract readonly code: SchemaErrorCode;
  readonly retriable: boolean = false;
}

/** One thing wrong with a JSON batch, and where. */
export type BatchProblem = {
  /** JSONPath of the offending value, e.g. `$.events[2].data.event_name`. */
  path: string;
  /** What is wrong and what to send instead. */
  message: string;
  /** The mParticle limit broken, when the problem is a limit (e.g. `max_user_attributes_per_batch`). */
  limit?: string;
};

export class InvalidBatchError extends SchemaLayerError {
  readonly code = 'PS_ERR_INVALID_BATCH' as const;
  readonly statusCode = 400;
  constructor(readonly problems: BatchProblem[]) {
    super(`invalid batch (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems
      .slice(0, 5)
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ')}${problems.length > 5 ? '; ...' : ''}`);
    this.name = 'InvalidBatchError';
  }
}

export class BadMagicByteError extends SchemaLayerError {
  readonly code = 'PS_ERR_SERDE_BAD_MAGIC_BYTE' as const;
  constructor(readonly topic: string, readonly firstByte: number | undefined) {
    super(firstByte === undefined
      ? `record on ${topic} is empty: expected Confluent wire format (0x00, 4-byte schema id, Avro)`
      : `record on ${topic} starts with 0x${firstByte.toString(16).padStart(2, '0')}, not the magic byte 0x00: not Confluent wire format`);
    this.name = 'BadMagicByteError';
  }
}

export class UnknownSchemaIdError extends SchemaLayerError {
  readonly code = 'PS_ERR_SERDE_UNKNOWN_SCHEMA_ID' as const;
  constructor(readonly topic: string, readonly schemaId: number, options?: { cause?: unknown }) {
    super(`record on ${topic} names schema id ${schemaId}, which the schema registry does not know`, options);
    this.name = 'UnknownSchemaIdError';
  }
}

export class InvalidPayloadError extends SchemaLayerError {
  readonly code = 'PS_ERR_SERDE_INVALID_PAYLOAD' as const;
  constructor(readonly topic: string, readonly schemaId: number, detail: string, options?: { cause?: unknown }) {
    super(`record on ${topic} (schema id ${schemaId}) is not valid Avro for its schema: ${detail}`, options);
    this.name = 'InvalidPayloadError';
  }
}

export class IncompatibleSchemaError extends SchemaLayerError {
  readonly code = 'PS_ERR_SERDE_INCOMPATIBLE_SCHEMA' as const;
  constructor(readonly topic: string, readonly schemaId: number, readonly writerName: string | undefined, readonly readerName: string, options?: { cause?: unknown }) {
    super(`record on ${topic} was written with schema id ${schemaId} (${writerName ?? 'unnamed'}), which cannot be read as ${readerName}, the schema of subject ${topic}-value`, options);
    this.name = 'IncompatibleSchemaError';
  }
}

export class InvalidValueError extends SchemaLayerError {
  readonly code = 'PS_ERR_SERDE_INVALID_VALUE' as const;
  constructor(readonly topic: string, readonly paths: string[]) {
    super(`value for ${topic} does not match its schema at ${paths.slice(0, 10).join(', ') || '$'}`);
    this.name = 'InvalidValueError';
  }
}

export class SchemaRegistryError extends SchemaLayerError {
  readonly code = 'PS_ERR_SCHEMA_REGISTRY' as const;
  override readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaRegistryError';
  }
}

export class SchemaRejectedError extends SchemaLayerError {
  readonly code = 'PS_ERR_SCHEMA_REJECTED' as const;
  constructor(readonly subject: string, readonly compatibility: string, readonly reasons: string) {
    super(`the schema registry refused the schema under subject ${subject} (compatibility ${compatibility}): ${reasons}`);
    this.name = 'SchemaRejectedError';
  }
}
