import type { Type } from 'avsc';
import { encodeOnceFor } from './encode-once.ts';
import { avroTypeFor } from './avro-type.ts';
import {
  BadMagicByteError, IncompatibleSchemaError, InvalidPayloadError, InvalidValueError, SchemaLayerError, SchemaRegistryError,
  UnknownSchemaIdError,
} from './errors.ts';
import { idForSchema, ProfileStreamSchemaRegistry, type RegistryEndpoint } from './subject-registration.ts';

/**
 * Avro values in Confluent wire format (byte 0x00, 4-byte big-endian schema id, Avro binary), with
 * schemas in a Confluent-compatible registry under the subject `<topic>-value`.
 *
 * Cost model: the first `serialize` per topic registers the schema (one round trip; registering an
 * existing schema returns its id); the first `deserialize` per schema id fetches the writer schema
 * and builds a resolver from it to this serde's reader schema. After that both are synchronous
 * buffer work: no registry call per record. `deserializeSync` exposes that warm path for batch loops.
 *
 * @example Safe: one serde per value type, shared by every task of the process.
 * ```ts
 * const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(url), schema: SCHEMAS.batch });
 * const buf = await serde.serialize('profile-stream.raw.web', batch);
 * const back = await serde.deserialize('profile-stream.raw.web', buf);
 * ```
 * @example Unsafe: a serde per record re-registers and re-fetches every time, and a registry built
 * with `new SchemaRegistry({host})` decodes MPIDs as rounded numbers. Use `createSchemaRegistry`.
 */
export type AvroSerde<T> = {
  serialize(topic: string, value: T): Promise<Buffer>;
  deserialize(topic: string, buf: Buffer): Promise<T>;
  /** The decoded value when the record's schema id is already known; undefined when it is not (yet). */
  deserializeSync(topic: string, buf: Buffer): T | undefined;
  /** Registers (or finds) the schema under `topic`'s subject now, so the first `serialize` does not wait for it. */
  prepare(topic: string): Promise<void>;
};

export type AvroSerdeOptions = {
  registry: ProfileStreamSchemaRegistry;
  /** The schema values are written with and read as (writer schemas are resolved to it). */
  schema: object;
  /** Subject for a topic; Confluent's TopicNameStrategy `<topic>-value` by default. */
  subjectFor?: (topic: string) => string;
  /**
   * Reuse the bytes another serde of the same schema made for the same value object (`encode-once.ts`);
   * only for values never mutated after they are made.
   */
  encodeOnce?: boolean;
};

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/**
 * A registry client whose avsc Types follow `avro-type.ts` (precise MPIDs, safe maps, event unions), from
 * a URL or an endpoint with credentials and a CA.
 */
export function createSchemaRegistry(endpoint: string | RegistryEndpoint): ProfileStreamSchemaRegistry {
  return new ProfileStreamSchemaRegistry(typeof endpoint === 'string' ? { url: endpoint } : endpoint);
}

export function createAvroSerde<T>(options: AvroSerdeOptions): AvroSerde<T> {
  const { registry } = options;
  const subjectFor = options.subjectFor ?? ((topic: string) => `${topic}-value`);
  const readerType = avroTypeFor(options.schema);
  const schemaText = JSON.stringify(options.schema);
  const readerName = readerType.name ?? 'the reader schema';
  const once = options.encodeOnce ? encodeOnceFor(options.schema) : undefined;

  /** subject -> schema id (a promise while registering, so concurrent first calls share one request). */
  const writerIds = new Map<string, Promise<number>>();
  /** schema id -> decoder; schema ids are immutable in a registry, so entries never go stale. */
  const decoders = new Map<number, (payload: Buffer) => unknown>();
  const pendingDecoders = new Map<number, Promise<(payload: Buffer) => unknown>>();

  /**
   * Instances starting together may register the same new subject at once; a transient failure (registry
   * restarting, a lost race) is retried and then finds the schema. A refusal (`SchemaRejectedError`:
   * incompatible or invalid) is the same every time, so it is not retried.
   */
  async function registerWithRetry(subject: string): Promise<number> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        return await idForSchema(registry, subject, schemaText);
      } catch (error) {
        if (error instanceof SchemaLayerError && !error.retriable) throw error;
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
    throw lastError;
  }

  function writerIdFor(subject: string): Promise<number> {
    let id = writerIds.get(subject);
    if (!id) {
      id = registerWithRetry(subject)
        .catch((error: unknown) => {
          writerIds.delete(subject); // let the next call retry
          if (error instanceof SchemaLayerError && !error.retriable) throw error;
          throw new SchemaRegistryError(`could not register the ${readerName} schema under subject ${subject}: ${(error as Error).message}`, { cause: error });
        });
      writerIds.set(subject, id);
    }
    return id;
  }

  async function serialize(topic: string, value: T): Promise<Buffer> {
    const id = await writerIdFor(subjectFor(topic));
    let payload: Buffer;
    try {
      payload = once !== undefined ? once.encode(value as object) : readerType.toBuffer(value);
    } catch {
      const paths: string[] = [];
      readerType.isValid(value, { errorHook: (path: string[]) => paths.push(`$.${path.join('.')}`) });
      throw new InvalidValueError(topic, paths);
    }
    const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
    out.writeUInt8(MAGIC_BYTE, 0);
    out.writeUInt32BE(id, 1);
    payload.copy(out, HEADER_BYTES);
    return out;
  }

  function header(topic: string, buf: Buffer): number {
    if (buf.length === 0 || buf[0] !== MAGIC_BYTE) throw new BadMagicByteError(topic, buf[0]);
    if (buf.length < HEADER_BYTES) throw new InvalidPayloadError(topic, -1, `only ${buf.length} bytes, shorter than the 5-byte header`);
    return buf.readUInt32BE(1);
  }

  function decodeWith(decoder: (payload: Buffer) => unknown, topic: string, id: number, buf: Buffer): T {
    try {
      return decoder(buf.subarray(HEADER_BYTES)) as T;
    } catch (error) {
      throw new InvalidPayloadError(topic, id, (error as Error).message, { cause: error });
    }
  }

  function loadDecoder(topic: string, id: number): Promise<(payload: Buffer) => unknown> {
    let pending = pendingDecoders.get(id);
    if (!pending) {
      pending = (async () => {
        let writer: Type;
        try {
          writer = (await registry.getSchema(id)) as unknown as Type;
        } catch (error) {
          if ((error as { status?: number }).status === 404) throw new UnknownSchemaIdError(topic, id, { cause: error });
          throw new SchemaRegistryError(`could not fetch schema id ${id} from the schema registry: ${(error as Error).message}`, { cause: error });
        }
        let decoder: (payload: Buffer) => unknown;
        try {
          const resolver = readerType.createResolver(writer);
          // avsc's fromBuffer also rejects trailing bytes, which catches payloads of another schema.
          decoder = (payload) => readerType.fromBuffer(payload, resolver);
        } catch (error) {
          throw new IncompatibleSchemaError(topic, id, writer.name, readerName, { cause: error });
        }
        decoders.set(id, decoder);
        return decoder;
      })().finally(() => pendingDecoders.delete(id));
      pendingDecoders.set(id, pending);
    }
    return pending;
  }

  return {
    serialize,
    async prepare(topic) {
      await writerIdFor(subjectFor(topic));
    },
    async deserialize(topic, buf) {
      const id = header(topic, buf);
      const decoder = decoders.get(id) ?? (await loadDecoder(topic, id));
      return decodeWith(decoder, topic, id, buf);
    },
    deserializeSync(topic, buf) {
      const id = header(topic, buf);
      const decoder = decoders.get(id);
      return decoder ? decodeWith(decoder, topic, id, buf) : undefined;
    },
  };
}
