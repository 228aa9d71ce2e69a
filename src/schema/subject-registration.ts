import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Agent as HttpsAgent } from 'node:https';
import { Agent, type Dispatcher } from 'undici';
import { avroTypeOptions } from './avro-type.ts';
import { SchemaRegistryError, SchemaRejectedError } from './errors.ts';

/** Where the registry is and how to authenticate to it (`registry-security.ts` reads these from the environment). */
export interface RegistryEndpoint {
  /** Confluent-compatible base URL, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
  readonly url: string;
  /** HTTP Basic credentials (Confluent's `basic.auth.user.info`). */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** PEM CA certificate(s) to trust for an https URL, beside the system's. */
  readonly ca?: string;
}

/**
 * The registry client profile-stream uses: `@kafkajs/confluent-schema-registry` for reading schemas by id
 * (its cache and avsc options), plus the endpoint, so that registration goes through `idForSchema` and
 * never through the client's `register`, which refuses any subject whose compatibility level is not the
 * one it was given (BACKWARD by default) and sets its own on subjects it creates.
 */
export class ProfileStreamSchemaRegistry extends SchemaRegistry {
  readonly dispatcher: Dispatcher | undefined;
  constructor(readonly endpoint: RegistryEndpoint) {
    const auth = endpoint.basicAuth ? { username: endpoint.basicAuth.username, password: endpoint.basicAuth.password } : undefined;
    super({ host: endpoint.url, ...(auth ? { auth } : {}), ...(endpoint.ca ? { agent: httpsAgent(endpoint.ca) } : {}) }, { [SchemaType.AVRO]: avroTypeOptions() as never });
    this.dispatcher = endpoint.ca ? new Agent({ connect: { ca: endpoint.ca } }) : undefined;
  }
}

/** mappersmith (under the kafkajs client) takes a node https.Agent for TLS options. */
function httpsAgent(ca: string): HttpsAgent {
  return new HttpsAgent({ ca, keepAlive: true });
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(registry: ProfileStreamSchemaRegistry, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const { endpoint } = registry;
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json';
  if (endpoint.basicAuth) headers.authorization = `Basic ${Buffer.from(`${endpoint.basicAuth.username}:${endpoint.basicAuth.password}`).toString('base64')}`;
  let res: Response;
  try {
    res = await fetch(`${endpoint.url.replace(/\/+$/, '')}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
      ...(registry.dispatcher ? { dispatcher: registry.dispatcher } : {}),
    } as RequestInit);
  } catch (error) {
    throw new SchemaRegistryError(`the schema registry at ${endpoint.url} could not be reached (${method} ${path}): ${(error as Error).message}`, { cause: error });
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}

function describe(answer: Answer): string {
  const code = answer.body.error_code !== undefined ? ` error_code ${String(answer.body.error_code)}` : '';
  const hint = answer.status === 401 || answer.status === 403 ? ' (the registry refused the credentials: check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD)' : '';
  return `HTTP ${answer.status}${code}: ${String(answer.body.message ?? '(no message)')}${hint}`;
}

const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

/**
 * The id of `schema` under `subject`, registering it only when the subject does not have it yet, with
 * whatever compatibility level the subject or the registry has (set by any client, or none):
 * 1. look it up (`POST /subjects/{subject}`): a subject another producer created with the same schema
 *    answers its id, whatever its compatibility level;
 * 2. otherwise register a new version (`POST /subjects/{subject}/versions`), without setting or demanding
 *    a compatibility level;
 * 3. when the registry refuses it (409 incompatible, 422 invalid), ask its compatibility endpoint why and
 *    throw `SchemaRejectedError` (not retriable: an operator must act), naming the subject's level.
 * Anything else (unreachable, 5xx, 401/403) is a `SchemaRegistryError` (retriable).
 */
export async function idForSchema(registry: ProfileStreamSchemaRegistry, subject: string, schema: string): Promise<number> {
  const found = await call(registry, 'POST', subjectPath(subject), { schema });
  if (found.status === 200 && typeof found.body.id === 'number') return found.body.id;
  if (found.status !== 404) throw new SchemaRegistryError(`the schema registry could not look up the schema under subject ${subject}: ${describe(found)}`);
  const registered = await call(registry, 'POST', `${subjectPath(subject)}/versions`, { schema });
  if (registered.status === 200 && typeof registered.body.id === 'number') return registered.body.id;
  if (registered.status === 409 || registered.status === 422) {
    throw new SchemaRejectedError(subject, await levelOf(registry, subject), await reasonsOf(registry, subject, schema, registered));
  }
  throw new SchemaRegistryError(`the schema registry did not register the schema under subject ${subject}: ${describe(registered)}`);
}

/** The subject's compatibility level, or the registry's when the subject has none. */
async function levelOf(registry: ProfileStreamSchemaRegistry, subject: string): Promise<string> {
  const own = await call(registry, 'GET', `/config/${encodeURIComponent(subject)}`).catch(() => undefined);
  const level = own?.status === 200 ? own.body.compatibilityLevel ?? own.body.compatibility : undefined;
  if (typeof level === 'string') return level;
  const global = await call(registry, 'GET', '/config').catch(() => undefined);
  const globalLevel = global?.status === 200 ? global.body.compatibilityLevel ?? global.body.compatibility : undefined;
  return typeof globalLevel === 'string' ? `${globalLevel} (the registry's default)` : 'unknown';
}

/** What the compatibility endpoint says is wrong; the registration's own message when it says nothing more. */
async function reasonsOf(registry: ProfileStreamSchemaRegistry, subject: string, schema: string, refusal: Answer): Promise<string> {
  const check = await call(registry, 'POST', `/compatibility${subjectPath(subject)}/versions/latest?verbose=true`, { schema }).catch(() => undefined);
  const messages = check?.status === 200 && Array.isArray(check.body.messages) ? (check.body.messages as unknown[]).map(String) : [];
  return messages.length > 0 ? messages.slice(0, 5).join('; ') : describe(refusal);
}
