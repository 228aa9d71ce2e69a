import { SchemaRegistryError, SchemaRejectedError } from '../schema/errors.ts';
import { ApiError } from './errors.ts';

/**
 * The API error for a failed produce, naming the part that failed: the schema registry refused the schema
 * (502, no Retry-After: retrying cannot help), the registry is unreachable (503), or Kafka did not ack (503).
 */
export function sinkFailure(error: unknown): ApiError {
  const message = (error as Error).message;
  if (error instanceof SchemaRejectedError) {
    return new ApiError('PS_ERR_API_SCHEMA_REJECTED', `nothing was accepted: ${message}`, { subject: error.subject });
  }
  if (error instanceof SchemaRegistryError) {
    return new ApiError('PS_ERR_API_SCHEMA_REGISTRY_UNAVAILABLE', `the schema registry failed, nothing was accepted: ${message}`, {}, 5);
  }
  return new ApiError('PS_ERR_API_KAFKA_UNAVAILABLE', `Kafka did not acknowledge the batch(es), nothing was accepted: ${message}`, {}, 5);
}
